"""How to give a run again, in one line: the `race(...)` call a test writes, with the seed that replays it."""

from __future__ import annotations

import dataclasses
from typing import Any

from booking.kit.hooks import name_of
from booking.options.config import RunConfig
from booking.stores.base import StoreKind

# The options a race(...) call repeats when they differ from RunConfig's defaults, in this order.
REPEATED = ("attempts", "until_sold_out", "schedule", "depth", "think_ms", "isolation", "receipts_only")
HOOKS = ("prepare", "setup", "stock")
RACE_STORES = (StoreKind.SQLITE, StoreKind.POSTGRESQL, StoreKind.MYSQL)  # the kinds race_store(kind) makes


def _hook(hook: Any) -> str:
    """`orm.racy_buy` for booking.examples.orm:racy_buy (the name a test imports it by), or its text."""
    named = name_of(hook)
    module, _, function = named.rpartition(":")
    return f"{module.rpartition('.')[2]}.{function}" if module and not isinstance(hook, str) else repr(named)


def _value(value: Any) -> str:
    return repr(value.value) if hasattr(value, "value") else repr(value)


def race_call(config: RunConfig, seed: int | None, replay: str | None = None) -> str:
    """'race(orm.racy_buy, setup=orm.setup, buyers=8, tickets=3, store=race_store("sqlite"), seed=7)'."""
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    parts = [_hook(config.purchase)] if config.purchase is not None else []
    parts += [f"{name}={_hook(getattr(config, name))}" for name in HOOKS if getattr(config, name) is not None]
    parts += [f"buyers={config.buyers}", f"tickets={config.tickets}"]
    url = config.store_url
    if url is not None and url.kind in RACE_STORES:
        parts.append(f'store=race_store("{url.kind.value}")')
    elif url is not None and url.kind is not StoreKind.COUNTER:
        parts.append(f"store={url.display!r}")
    parts += [f"{n}={_value(getattr(config, n))}" for n in REPEATED if getattr(config, n) != defaults[n]]
    if replay is not None:
        parts.append(f'replay="{replay}"')
    if seed is not None:
        parts.append(f"seed={seed}")
    return f"race({', '.join(parts)})"
