"""Running a comparison: lockstep trials for correctness, warm crowds for cost, in a seeded shuffled order.

Runs are shuffled (`--seed`) so drift on the machine hits every cell alike, and every run starts
from the same store (compare/fresh.py). A cost cell starts with `repetitions` independent
repetitions; while the time budget lasts, the cell whose interval is widest against its mean (beyond
WIDE) gets another, up to `max_repetitions`: the time goes where the figure is not yet known.
Ctrl-C keeps what is finished: the cells with at least one run are summarised and the comparison
is marked partial.
"""

from __future__ import annotations

import contextlib
import random
import signal
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from booking.compare.advice import advise
from booking.compare.cells import WIDE, CellKey, CompareConfig, Comparison, Trial
from booking.compare.fresh import FreshStores
from booking.compare.machine import machine, versions
from booking.compare.plan import plan, row_info
from booking.compare.reference import conclude, pick_reference, relate
from booking.compare.summary import rates, store_labels, summarise, trial_of
from booking.options.config import RunConfig, Schedule
from booking.options.store_url import StoreURL
from booking.processes import signals
from booking.run.simulate import simulate
from booking.stores import StoreKind
from booking.stores.claim import claim
from booking.strategies import asked_options, default_strategy

Progress = Callable[[int, int], None]


def run_config(config: CompareConfig, key: CellKey, store: StoreURL | None = None) -> RunConfig:
    """One run of a cell (on `store`, a fresh copy of the cell's own, when given): a lockstep trial
    bought until sold out, or a warm crowd buying for the duration."""
    sql = key.store.kind is not StoreKind.COUNTER
    return RunConfig(
        store=store or key.store,
        strategy=None if key.purchase else key.strategy,
        purchase=key.purchase,
        buyers=key.buyers,
        tickets=config.cost_stock() if key.cost else config.tickets,
        until_sold_out=not key.cost,
        duration_s=config.duration_s if key.cost else None,
        schedule=key.schedule,
        deadline_s=max(config.deadline_s, config.duration_s + 10),
        isolation=config.isolation if sql else None,  # type: ignore[arg-type]
        think_ms=config.think_ms,
        **asked_options(key.strategy, config.broker, config.cache),  # type: ignore[arg-type]
    )


def compare(config: CompareConfig, progress: Progress | None = None) -> Comparison:
    """Run the matrix; a KeyboardInterrupt ends it early with the finished runs kept (partial)."""
    keys = plan(config)
    runs = [(k, t) for k in keys for t in range(config.repetitions if k.cost else config.trials)]
    random.Random(config.seed).shuffle(runs)
    trials: dict[CellKey, list[Trial]] = defaultdict(list)
    started = time.monotonic()
    state = {"done": 0, "planned": len(runs)}
    partial, stopped_by = "", 0
    try:
        with contextlib.ExitStack() as held:
            for store in config.stores:  # held for the whole matrix: no other run slips in between trials
                held.enter_context(claim(store, exclusive=True))
            fresh = held.enter_context(FreshStores())
            _run_all(config, keys, runs, trials, state, progress, started, fresh)
    except (KeyboardInterrupt, signals.Interrupted) as exc:  # Ctrl-C, SIGTERM, SIGHUP (processes/signals.py)
        stopped_by = exc.signum if isinstance(exc, signals.Interrupted) else signal.SIGINT
        partial = f"interrupted by {signals.name(stopped_by)} after {state['done']} of {state['planned']} runs"
    done = [k for k in keys if trials[k]]
    labels = store_labels(config.stores)
    cells = [summarise(k, labels[k.store], row_info(k), trials[k], _tickets(config, k)) for k in done]
    for cell, key in zip(cells, done, strict=True):
        cell.extra_repetitions = max(0, len(trials[key]) - config.repetitions) if key.cost else 0
        cell.still_wide = key.cost and _wide(trials[key])
    references = {labels[s]: _reference(config, s, keys) for s in config.stores}
    relate(
        cells, references, {(labels[k.store], k.strategy, k.schedule.value, k.buyers): rates(trials[k]) for k in done}
    )
    result = Comparison(config, cells, conclude(cells), time.monotonic() - started, partial=partial)
    result.advice = advise(cells)
    result.stopped_by = stopped_by
    result.runs = (state["done"], state["planned"])
    return result


def _run_all(
    config: CompareConfig,
    keys: list[CellKey],
    runs: list[tuple[CellKey, int]],
    trials: dict[CellKey, list[Trial]],
    state: dict[str, int],
    progress: Progress | None,
    started: float,
    fresh: FreshStores,
) -> None:
    """Every planned run, then one more repetition at a time for the cost cell whose interval is widest
    against its mean, while the budget lasts (a repetition's time: the mean of those run so far)."""
    spent: list[float] = []
    _run(config, runs, trials, state, progress, fresh, spent)
    while spent and time.monotonic() - started + sum(spent) / len(spent) <= config.budget_s:
        wide = [k for k in keys if k.cost and len(trials[k]) < config.max_repetitions and _wide(trials[k])]
        if not wide:
            break
        state["planned"] += 1
        _run(config, [(max(wide, key=lambda k: _width(trials[k])), 0)], trials, state, progress, fresh, spent)


def _run(
    config: CompareConfig,
    runs: list[tuple[CellKey, int]],
    trials: dict[CellKey, list[Trial]],
    state: dict[str, int],
    progress: Progress | None,
    fresh: FreshStores,
    spent: list[float],
) -> None:
    for key, _ in runs:
        began = time.monotonic()
        with fresh.run(key.store) as store:
            result = simulate(run_config(config, key, store))
        if key.cost:
            spent.append(time.monotonic() - began)
        trial = trial_of(result, config.batches)
        if any(t.witness is not None for t in trials[key]):
            trial.witness = None  # a cell keeps one anomalous run to show, not every one
        trials[key].append(trial)
        state["done"] += 1
        if progress is not None:
            progress(state["done"], state["planned"])


def _width(ts: list[Trial]) -> float:
    """Half the interval's width over the mean (infinite with fewer than two repetitions, 0 with no purchase)."""
    from booking.stats import mean_ci

    mean, ci = mean_ci(rates(ts))
    if not mean:
        return 0.0
    return float("inf") if ci is None else (ci[1] - ci[0]) / 2 / mean


def _wide(ts: list[Trial]) -> bool:
    return _width(ts) > WIDE


def _tickets(config: CompareConfig, key: CellKey) -> int:
    return config.cost_stock() if key.cost else config.tickets


def _reference(config: CompareConfig, store: StoreURL, keys: list[CellKey]) -> str | None:
    present = {(k.strategy, row_info(k).safe) for k in keys if k.store == store}
    return pick_reference(config.reference, default_strategy(store.kind), sorted(present))


def compare_strategies(
    stores: Sequence[StoreURL | str] | None = None,
    strategies: list[str] | None = None,
    buyers: list[int] | None = None,
    tickets: int = CompareConfig.tickets,
    trials: int = CompareConfig.trials,
    schedules: list[Schedule] | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    baseline: Path | None = None,
    servers: str | None = None,
    **options: object,
) -> Comparison:
    """Run the comparison matrix; without `stores`, db.json and SQLite in a temporary directory, and the
    database servers that answer (`servers`: comma-separated URLs or "none"; default compare/servers.py's).

    `options` are CompareConfig's other fields: duration_s, batches, repetitions, max_repetitions, budget_s, reference,
    purchases (module:function specs), isolation, think_ms, deadline_s. `baseline`: a saved JSON report
    to compare with (read before anything runs).
    """
    from booking.compare.baseline import against, load_baseline
    from booking.compare.servers import servers as answering

    old = load_baseline(baseline) if baseline is not None else None
    load = machine()  # the load average before the comparison adds its own
    found, skipped = answering(servers) if stores is None else ([], [])
    with tempfile.TemporaryDirectory(prefix="booking-compare-") as tmp:
        files = (StoreURL.of(str(Path(tmp) / "db.json")), StoreURL.of(str(Path(tmp) / "tickets.db")))
        config = CompareConfig(
            stores=tuple(StoreURL.of(s) for s in stores) if stores else (*files, *found),
            strategies=tuple(strategies) if strategies else None,
            buyers=tuple(buyers or CompareConfig.buyers),
            tickets=tickets,
            trials=trials,
            schedules=tuple(schedules or (Schedule.FREE, Schedule.LOCKSTEP)),
            seed=seed,
            **options,  # type: ignore[arg-type]
        )
        result = compare(config, progress)
        result.machine = {**load, "servers": _servers(config.stores)}
        result.skipped = skipped
    result.versions = versions()
    if old is not None:
        against(result, old)
    return result


def _servers(stores: tuple[StoreURL, ...]) -> dict[str, str]:
    from booking.compare.machine import server_version

    labels = store_labels(stores)
    return {labels[s]: v for s in stores if (v := server_version(s))}
