"""Your own purchase function under the harness: `--purchase module:function`.

The function is called in each buyer process as `function(store: str, buyer: int, point)` and
returns the id of the ticket it bought, or None when sold out. It calls `point("after-read")` (and
any other named point) where its race window is, so lockstep and random schedules can hold it there.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from booking.errors import BadInput
from booking.history import Attempt, Outcome
from booking.points import AFTER_READ, BEFORE_LOCK
from booking.stores.base import Store, StoreKind
from booking.strategies.base import BuyerContext, StrategyInfo

PurchaseFunction = Callable[[str, int, Callable[[str], None]], Any]
_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def resolve(spec: str) -> PurchaseFunction:
    """The function `module:function` names, or BadInput saying why not."""
    if not _SPEC.match(spec):
        raise BadInput(f"--purchase {spec!r}: expected module:function, e.g. booking.examples.sqlite:racy_buy")
    module_name, _, attr = spec.partition(":")
    # Like `python -m`, pytest and uvicorn: a module next to you is importable (shop.py in this directory).
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:  # an import error in the user's module is their input, said in one line
        raise BadInput(f"--purchase {spec}: cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise BadInput(f"--purchase {spec}: {module_name} has no {attr}")
    if not callable(target):
        raise BadInput(f"--purchase {spec}: {attr} is not callable")
    return target  # type: ignore[no-any-return]


def spec_of(function: PurchaseFunction) -> str:
    """`module:qualname` for a function, so buyer processes can find it again."""
    return f"{function.__module__}:{function.__qualname__}"


def call_user_purchase(
    function: PurchaseFunction, store_spec: str, store: Store | None, ctx: BuyerContext, rec: Attempt
) -> None:
    """Fill an Attempt from one call of the user's function."""

    def point(name: str) -> None:
        if name == AFTER_READ and rec.t_read is None:
            rec.t_read = ctx.clock()
        ctx.point(str(name))

    ctx.point(BEFORE_LOCK)  # the random schedule starts each call in its chosen order
    ticket = function(store_spec, ctx.buyer, point)
    if ticket is None:
        rec.outcome = Outcome.SOLD_OUT
        return
    if isinstance(ticket, bool) or not isinstance(ticket, int):
        raise TypeError(f"the purchase function returned {ticket!r}; expected a ticket id (int) or None")
    # What the function read and wrote is its own business: the receipt is the ticket it returned.
    rec.ticket, rec.t_write, rec.outcome = ticket, ctx.clock(), Outcome.OK


def user_strategy(spec: str, store_spec: str) -> StrategyInfo:
    """The user's function as a strategy: its point("after-read") is where lockstep holds it, and
    any point it names (`point("in-critical")`, ...) is where fault injection can kill it."""
    function = resolve(spec)

    def purchase(store: Store, ctx: BuyerContext, rec: Attempt) -> None:
        call_user_purchase(function, store_spec, store, ctx, rec)

    return StrategyInfo(
        f"purchase {spec}",
        f"your purchase function {spec}",
        "whatever your code protects",
        frozenset(StoreKind),
        safe=False,
        window=AFTER_READ,
        purchase=purchase,
        # Your code opens its own connections: the buyer does not open booking's (no look, and a
        # spawned buyer need not import SQLAlchemy).
        opens_store=False,
    )
