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
from booking.history import History, Outcome, RunRecord, load, save
from booking.hooks import name_of
from booking.processes import limits
from booking.processes.buyer import BuyerPlan, Links
from booking.processes.crowd import Crowd
from booking.processes.kills import plan_kills
from booking.processes.messages import Channel
from booking.processes.schedule import Gates, LockstepBarrier, RandomScheduler, ReplayScheduler
from booking.processes.sellers import Sellers
from booking.redact import mask_url, remember
from booking.result import RunResult, VerifyResult
from booking.stores import Store, StoreKind, open_store, store_kind
from booking.stores.claim import claim
from booking.stores.own import OwnTables
from booking.strategies import Choice, Made, choose
from booking.verify import verify


def simulate(config: RunConfig) -> RunResult:
    """Run one simulation. Raises BadInput (exit 2) or CannotRun (exit 3) before touching the store."""
    config.validate()
    remember(config.store)
    kind = store_kind(config.store)
    choice = choose(config, kind)
    seed = config.seed if config.seed is not None else random.randrange(1_000_000)
    if config.isolation is not None and kind is StoreKind.COUNTER:
        raise BadInput("--isolation applies to SQL stores only (db.json has no transactions)")
    if config.history is not None:
        check_writable(config.history, "history")
    if choice.target is not None:
        from booking.strategies.http import served

        choice = replace(choice, served=served(config))  # reachable (else exit 3), and what it says it runs
    # A run that seeds the store holds it alone; --keep runs may share it (stores/claim.py). A service
    # raced without --store has no store here to claim.
    with claim(config.store, exclusive=not config.keep) if config.store else contextlib.nullcontext():
        return _run(config, kind, choice, seed)


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
    try:
        limits.check_connections(store, config, choice)
        limits.preload(choice, config.processes)
        initial = store.prepare(None if config.keep else config.tickets)
        t0 = time.monotonic()
        crowd = _crowd(config, choice, store, seed, t0)
        history = crowd.run()
        elapsed = time.monotonic() - t0
        store.tidy()  # what writers killed mid-write left behind
        final = store.final()
    finally:
        store.close()

    display = store.display
    history.runs = [RunRecord(display, initial, choice.label, _settings(config, seed), __version__)]
    if config.history is not None:
        save(history, config.history)
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
    return result


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
        made.lock_path = str(store.lock_path())
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
