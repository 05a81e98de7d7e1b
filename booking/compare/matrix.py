"""Running a comparison: the matrix of stores x strategies x schedules x buyers, each cell `trials` times."""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from booking.compare.cells import (
    DEFAULT_BUYERS,
    DEFAULT_TICKETS,
    DEFAULT_TRIALS,
    MAX_RUNS,
    CellKey,
    CompareConfig,
    Comparison,
    Trial,
    conclude,
    relate_to_none,
    summarise,
)
from booking.config import RunConfig, Schedule
from booking.errors import BadInput
from booking.simulation import simulate
from booking.stores import store_kind
from booking.stores.claim import claim
from booking.strategies import STRATEGIES, get_strategy


def plan(config: CompareConfig) -> list[CellKey]:
    """Every cell of the matrix, refusing strategies that apply to none of the stores."""
    if not config.stores:
        raise BadInput("--stores: name at least one store")
    for name, value, low in (("--trials", config.trials, 1), ("--tickets", config.tickets, 1)):
        if value < low:
            raise BadInput(f"{name} must be at least {low}, got {value}")
    for b in config.buyers:
        RunConfig(buyers=b).validate()
    for name in config.strategies or ():
        if name not in STRATEGIES:
            get_strategy(name, store_kind(config.stores[0]))  # raises: unknown, with the list
    keys: list[CellKey] = []
    for store in config.stores:
        kind = store_kind(store)
        names = [n for n in (config.strategies or STRATEGIES) if kind in STRATEGIES[n].stores]
        keys.extend(CellKey(store, n, s, b) for n in names for s in config.schedules for b in config.buyers)
    unused = set(config.strategies or ()) - {k.strategy for k in keys}
    if unused:
        name = sorted(unused)[0]
        raise BadInput(
            f"strategy {name!r} applies to none of the stores ({', '.join(sorted(STRATEGIES[name].stores))})"
        )
    if len(keys) * config.trials > MAX_RUNS:
        raise BadInput(f"the matrix has {len(keys) * config.trials:,} runs; the limit is {MAX_RUNS:,}")
    return keys


def compare(config: CompareConfig, progress: Callable[[int, int], None] | None = None) -> Comparison:
    """Run the matrix. Trials run in a seeded shuffled order so drift hits every cell alike."""
    keys = plan(config)
    runs = [(k, t) for k in keys for t in range(config.trials)]
    random.Random(config.seed).shuffle(runs)
    trials: dict[CellKey, list[Trial]] = defaultdict(list)
    started = time.monotonic()
    with contextlib.ExitStack() as held:
        for store in config.stores:  # held for the whole matrix: no other run slips in between trials
            held.enter_context(claim(store, exclusive=True))
        _run_matrix(config, runs, trials, progress)
    cells = [summarise(k, trials[k], config.tickets) for k in keys]
    relate_to_none(cells)
    return Comparison(config, cells, conclude(cells), time.monotonic() - started)


def _run_matrix(
    config: CompareConfig,
    runs: list[tuple[CellKey, int]],
    trials: dict[CellKey, list[Trial]],
    progress: Callable[[int, int], None] | None,
) -> None:
    for done, (key, _) in enumerate(runs, 1):
        result = simulate(
            RunConfig(
                store=key.store,
                strategy=key.strategy,
                buyers=key.buyers,
                tickets=config.tickets,
                until_sold_out=True,
                schedule=key.schedule,
                deadline_s=config.deadline_s,
            )
        )
        trials[key].append(Trial.of(result))
        if progress is not None:
            progress(done, len(runs))


def compare_strategies(
    stores: list[str] | None = None,
    strategies: list[str] | None = None,
    buyers: list[int] | None = None,
    tickets: int = DEFAULT_TICKETS,
    trials: int = DEFAULT_TRIALS,
    schedules: list[Schedule] | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run the comparison matrix; without `stores`, db.json and SQLite in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="booking-compare-") as tmp:
        config = CompareConfig(
            stores=tuple(stores or (str(Path(tmp) / "db.json"), str(Path(tmp) / "tickets.db"))),
            strategies=tuple(strategies) if strategies else None,
            buyers=tuple(buyers or DEFAULT_BUYERS),
            tickets=tickets,
            trials=trials,
            schedules=tuple(schedules or (Schedule.FREE, Schedule.LOCKSTEP)),
            seed=seed,
        )
        result = compare(config, progress)
    result.versions = versions()
    return result


def versions() -> dict[str, str]:
    """What made a report: Python, booking and the libraries on the path."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from booking import __version__

    found = {"python": platform.python_version(), "booking": __version__}
    for name in ("filelock", "sqlalchemy", "alembic", "psycopg", "pymysql", "matplotlib"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found
