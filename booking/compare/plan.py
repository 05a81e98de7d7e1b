"""The matrix a comparison will run, checked before anything runs: every cell, or BadInput naming the problem."""

from __future__ import annotations

from functools import cache

from booking.compare.cells import MAX_RUNS, CellKey, CompareConfig
from booking.errors import BadInput
from booking.i18n.lang import _
from booking.options.config import Isolation, RunConfig, Schedule
from booking.options.store_url import StoreURL
from booking.stores import StoreKind
from booking.strategies import ASKED_ONLY, STRATEGIES, StrategyInfo, get_strategy


def plan(config: CompareConfig) -> list[CellKey]:
    """Every cell of the matrix, refusing options that cannot run before the first run."""
    _check(config)
    keys: list[CellKey] = []
    for store in config.stores:
        kind = store.kind
        rows: list[tuple[str, str | None]] = [(n, None) for n in _strategies(config) if kind in STRATEGIES[n].stores]
        rows += [(f"purchase {p}", p) for p in config.purchases]
        for name, purchase in rows:
            for schedule in config.schedules:
                for b in config.buyers:
                    if schedule is Schedule.LOCKSTEP and b < 2:
                        continue  # one buyer cannot race: a correctness trial with it proves nothing
                    keys.append(CellKey(store, name, schedule, b, purchase))
    unused = set(config.strategies or ()) - {k.strategy for k in keys}
    if unused:
        name = sorted(unused)[0]
        raise BadInput(
            _("strategy {name!r} applies to none of the stores ({value})").format(
                name=name, value=", ".join(sorted(STRATEGIES[name].stores))
            )
        )
    if not keys:
        raise BadInput(_("nothing to compare: a lockstep (correctness) cell needs at least 2 buyers"))
    runs = sum(config.repetitions if k.cost else config.trials for k in keys)
    if runs > MAX_RUNS:
        raise BadInput(
            _("the matrix has {runs:,} runs; the limit is {MAX_RUNS:,}").format(runs=runs, MAX_RUNS=MAX_RUNS)
        )
    return keys


def _strategies(config: CompareConfig) -> list[str]:
    if config.strategies is not None:
        return list(config.strategies)
    if config.purchases:
        return []  # your functions alone, unless you name strategies too
    given = config.broker is not None and config.cache is not None  # seckill runs only with its broker and cache
    return [n for n in STRATEGIES if given or n not in ASKED_ONLY]


def _check(config: CompareConfig) -> None:
    if not config.stores:
        raise BadInput(_("--stores: name at least one store"))
    if (config.broker is None) != (config.cache is None):
        raise BadInput(_("--broker and --cache go together: seckill runs with both"))
    checked = (
        ("--trials", config.trials, 1),
        ("--tickets", config.tickets, 1),
        ("--repetitions", config.repetitions, 1),
    )
    for name, value, low in checked:
        if value < low:
            raise BadInput(_("{name} must be at least {low}, got {value}").format(name=name, low=low, value=value))
    if not 0.05 <= config.duration_s <= 600:
        raise BadInput(
            _("--duration must be between 0.05 and 600 seconds, got {duration_s:g}").format(
                duration_s=config.duration_s
            )
        )
    for b in config.buyers:
        RunConfig(buyers=b, think_ms=config.think_ms).validate()
    for name in config.strategies or ():
        if name not in STRATEGIES:
            get_strategy(name, config.stores[0].kind)  # raises: unknown, with the list
    if config.reference is not None and config.reference not in STRATEGIES:
        raise BadInput(
            _("--reference: unknown strategy {reference!r} (choose from: {value})").format(
                reference=config.reference, value=", ".join(STRATEGIES)
            )
        )
    for spec in config.purchases:
        _user(spec, config.stores[0])  # imported now: an import error is bad input before any run
    if config.isolation is not None:
        if config.isolation not in {i.value for i in Isolation}:
            choices = ", ".join(i.value for i in Isolation)
            raise BadInput(
                _("--isolation: unknown value {isolation!r} (choose from: {choices})").format(
                    isolation=config.isolation, choices=choices
                )
            )
        kinds = {s.kind for s in config.stores}
        if kinds == {StoreKind.COUNTER}:
            raise BadInput(_("--isolation applies to SQL stores only (db.json has no transactions)"))
        if StoreKind.SQLITE in kinds and config.isolation != Isolation.SERIALIZABLE:
            raise BadInput(
                _(
                    "--isolation {isolation} does not apply to a sqlite store: SQLite runs every transaction "
                    "serializable (choose: serializable)"
                ).format(isolation=config.isolation)
            )


def row_info(key: CellKey) -> StrategyInfo:
    """A row's strategy, or your purchase function dressed as one (its description and scope)."""
    return _user(key.purchase, key.store) if key.purchase is not None else STRATEGIES[key.strategy]


@cache
def _user(spec: str, store: StoreURL) -> StrategyInfo:
    from booking.strategies.custom import user_strategy

    return user_strategy(spec, store.text)
