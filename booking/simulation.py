"""A run: seed the store, make what the strategy declares, start the buyers, collect, verify.

Also the verdict for a past run (`verify_run`): the same verifier, fed from a history file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import multiprocessing
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from booking import __version__
from booking.config import RunConfig, Schedule
from booking.errors import BadInput
from booking.files import check_writable
from booking.history import BuyerStatus, History, Outcome, RunRecord, load, save
from booking.hooks import name_of
from booking.processes import limits, signals
from booking.processes.buyer import BuyerPlan, Links
from booking.processes.crowd import Crowd
from booking.processes.kills import plan_kills
from booking.processes.messages import Channel
from booking.processes.schedule import Gates, LockstepBarrier, RandomScheduler, ReplayScheduler
from booking.processes.sellers import Sellers
from booking.redact import mask_url, remember
from booking.result import RunResult, VerifyResult
from booking.stores import Store, StoreKind, locks, open_store, store_kind
from booking.stores.base import store_files
from booking.stores.claim import claim
from booking.stores.own import OwnTables
from booking.strategies import Choice, Made, choose
from booking.verify import verify
from booking.words import interruption


def simulate(config: RunConfig) -> RunResult:
    """Run one simulation. Raises BadInput (exit 2) or CannotRun (exit 3) before touching the store,
    and signals.Interrupted (carrying the run so far) when SIGINT, SIGTERM or SIGHUP stops it."""
    try:
        return _simulate(config)
    except signals.Interrupted as exc:
        if exc.said:
            raise
        where = f"store {mask_url(config.store)} left as it was"  # set-up is one transaction, or atomic
        raise signals.interrupted(exc.signum, f"{exc}; before the buyers started: {where}") from None


def _simulate(config: RunConfig) -> RunResult:
    config.validate()
    remember(config.store)
    kind = store_kind(config.store)
    _refuse_conflicts(config, kind)
    choice = choose(config, kind)
    seed = config.seed if config.seed is not None else random.randrange(1_000_000)
    if config.history is not None:
        check_writable(config.history, "history", never=store_files(config.store))
    if choice.target is not None:
        from booking.strategies.http import served

        choice = replace(choice, served=served(config))  # reachable (else exit 3), and what it says it runs
    # A run that seeds the store holds it alone; --keep runs may share it (stores/claim.py). A service
    # raced without --store has no store here to claim.
    with claim(config.store, exclusive=not config.keep) if config.store else contextlib.nullcontext():
        return _run(config, kind, choice, seed)


def _refuse_conflicts(c: RunConfig, kind: StoreKind) -> None:
    """Options that contradict each other, or the store, are refused, never resolved silently."""
    if c.no_lock and c.strategy not in (None, "none"):
        raise BadInput(f"--no-lock and --lock {c.strategy}: choose one")
    if c.purchase is not None and (c.strategy is not None or c.no_lock):
        lock = "--no-lock" if c.no_lock else f"--lock {c.strategy}"
        raise BadInput(f"--purchase runs your function instead of a strategy: {lock} does not apply")
    if c.receipts_only and c.purchase is None:
        raise BadInput("--receipts-only applies only with --purchase MODULE:FUNCTION")
    if c.keep and c.tickets != RunConfig.tickets:
        raise BadInput(f"--keep continues from the store's stock: --tickets {c.tickets} does not apply")
    if c.isolation is not None and kind is StoreKind.COUNTER:
        raise BadInput("--isolation applies to SQL stores only (db.json has no transactions)")
    if c.durable and kind is not StoreKind.COUNTER:
        raise BadInput("--durable applies to db.json only (a SQL store's COMMIT is its own durability)")


def _run(config: RunConfig, kind: StoreKind, choice: Choice, seed: int) -> RunResult:
    """Seed (or keep) the store, run the crowd, read the store back, judge."""
    isolation = None if config.isolation is None else config.isolation.value
    limits.make_room_for_files(config, choice)
    store: Store | OwnTables
    if not config.store:  # --target without --store: the service's store is not read
        store = OwnTables.unread()
    elif config.own_tables:
        store = OwnTables(config.store, config.setup, config.stock)
    else:
        store = open_store(config.store, isolation, timeout_s=config.deadline_s)
    display = store.display
    try:
        limits.check_connections(store, config, choice)
        limits.preload(choice, config.processes)
        initial = store.prepare(None if config.keep else config.tickets)
        with signals.deferred():  # from here on children run: a signal stops them, it does not unwind us
            t0 = time.monotonic()
            crowd = _crowd(config, choice, store, seed, t0)
            history = crowd.run()
            elapsed = time.monotonic() - t0
            history.runs = [RunRecord(display, initial, choice.label, _settings(config, seed), __version__)]
            if config.history is not None:
                save(history, config.history)  # first: a store that fails the final read must not lose it
            store.tidy()  # what writers killed mid-write left behind
            final = store.final()
            signum = signals.pending()
    finally:
        store.close()

    verdict = verify(initial, final, history, kind)
    result = RunResult(
        config,
        display,
        kind,
        choice.label,
        initial,
        final,
        history,
        verdict,
        elapsed,
        aborted=crowd.aborted or _all_failed(history),
        note=choice.note,
        extras={**choice.extras(history), **({"store_read": bool(config.store)} if choice.target else {})},
        strategy_safe=choice.safe,
    )
    if isinstance(crowd.barrier, RandomScheduler):
        result.seed, result.order = seed, crowd.barrier.order
    if isinstance(crowd.barrier, ReplayScheduler):
        result.decisions = crowd.barrier.decisions
    elif config.chaos:
        result.seed = seed
    if signum is not None:
        raise _interrupted(signum, result)
    return result


def _interrupted(signum: int, result: RunResult) -> signals.Interrupted:
    """The run so far, and its one line: what finished, where the store was left, where the history is."""
    result.interrupted = signals.name(signum)
    c, ends = result.config, result.history.ends
    finished = sum(1 for e in ends if e.who == "buyer" and e.status is not BuyerStatus.STUCK)
    left = result.final.remaining if result.final is not None else None
    kept = None if c.history is None else str(c.history)
    line = interruption(
        result.interrupted, result.elapsed_s, finished, c.buyers, result.verdict.sold, result.store, left, kept
    )
    return signals.interrupted(signum, line, result)


def _all_failed(history: History) -> str | None:
    """Every attempt failed, and with the same error: the run could not be carried out (exit 3), say why."""
    errors = {a.error for a in history.attempts if a.outcome is Outcome.ERROR}
    if history.attempts and len(errors) == 1 and all(a.outcome is Outcome.ERROR for a in history.attempts):
        return f"every attempt failed with the same error: {errors.pop()}"
    return None


def _crowd(config: RunConfig, choice: Choice, store: Store | OwnTables, seed: int, t0: float) -> Crowd:
    """The buyers, and whatever the strategy declared it needs, made in the parent before any fork."""
    ctx = multiprocessing.get_context(config.processes)
    deadline = t0 + config.deadline_s
    needs = choice.needs
    made = Made()
    if needs.mp_lock:
        made.mp_lock, made.mp_holder = ctx.Lock(), ctx.Value("i", 0, lock=False)
    if needs.lock_file:
        made.lock_path = str(locks.prepare(store.lock_path()))
        made.contenders = config.buyers + config.sellers
    sellers = None
    if needs.sellers:
        sellers = Sellers(ctx, config, choice, t0, deadline)
        made.seller = sellers.link
    gates = Gates(ctx)
    buyers = set(range(1, config.buyers + 1))
    barrier: LockstepBarrier | RandomScheduler | None = None
    held = choice.holds_buyers(config.schedule)
    if held and config.schedule is Schedule.EXHAUSTIVE:
        barrier = ReplayScheduler(gates, buyers, config.replay_order())
    elif held and config.schedule is Schedule.RANDOM:
        per_buyer = config.attempts if not config.until_sold_out else config.tickets // config.buyers + 1
        barrier = RandomScheduler(gates, buyers, seed, steps_hint=config.buyers * per_buyer * 2, depth=config.depth)
    elif held:
        barrier = LockstepBarrier(gates, buyers)
    kills = plan_kills(config, seed, choice.buyer_info().kill_points)
    plans = [BuyerPlan(b, config, choice, t0, deadline, kills.get(b)) for b in sorted(buyers)]
    return Crowd(ctx, plans, Links(Channel(ctx), made), gates, barrier, deadline, sellers)


def verify_run(store: str, history: Path, tickets: int | None = None) -> VerifyResult:
    """The verdict for a past run, from the store as it is now and its history file. The starting stock
    is the one the history records; `tickets` is needed only for a history that records none."""
    if tickets is not None:
        if isinstance(tickets, bool) or tickets < 0:
            raise BadInput(f"--tickets must be at least 0, got {tickets}")
        RunConfig(tickets=tickets).validate()  # the upper limit, named
    remember(store)
    kind = store_kind(store)
    past: History = load(history)
    opened = open_store(store)
    try:
        opened.check()
        final = opened.final()
    finally:
        opened.close()
    initial = _starting_stock(past, tickets, history)
    for run in past.runs:
        if run.store and store_kind(run.store) is not kind:
            raise BadInput(
                f"--store {mask_url(store)} is not the kind of store the run used ({run.store}, in {history})"
            )
    return VerifyResult(opened.display, verify(initial, final, past, kind))


def _starting_stock(past: History, tickets: int | None, path: Path) -> int:
    """The stock the run started with: what the history records, or --tickets (refused when they disagree)."""
    recorded = sorted({r.tickets for r in past.runs})
    if tickets is None:
        if len(recorded) == 1:
            return recorded[0]
        if not recorded:
            raise BadInput(
                f"history {path} does not record the starting stock (an older booking wrote it): give --tickets"
            )
        raise BadInput(
            f"history {path} joins runs that started with different stock ({', '.join(map(str, recorded))}): "
            "give --tickets"
        )
    if len(recorded) == 1 and recorded[0] != tickets:
        raise BadInput(f"--tickets {tickets} contradicts history {path}: the run started with {recorded[0]}")
    return tickets


def _settings(config: RunConfig, seed: int) -> dict[str, Any]:
    """The run's options as plain values, for the history's first line (the store is said apart)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, enum.Enum):
            value = value.value
        elif callable(value):  # your own code, given from Python: its module:function
            value = name_of(value)
        if f.name not in ("store", "history"):
            out[f.name] = value
    out["seed"] = seed  # the seed used, drawn when none was given
    return out
