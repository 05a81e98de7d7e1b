"""A run: seed the store, make what the strategy declares, start the buyers, collect, verify."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import random
import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from booking._version import __version__
from booking.errors import BadInput
from booking.files import check_writable
from booking.history import BuyerStatus, History, Outcome, RunRecord, save
from booking.history.watch import Began, Watcher
from booking.i18n.lang import _
from booking.i18n.words import interruption
from booking.kit.hooks import name_of
from booking.options.config import RunConfig, Schedule
from booking.processes import limits, signals
from booking.processes.crowd import Crowd
from booking.processes.schedule import RandomScheduler, ReplayScheduler
from booking.processes.stepper import NO_STEPS, Stepper
from booking.run.crowd import make_crowd
from booking.run.result import RunResult
from booking.run.search import Search
from booking.run.together import Together
from booking.stores import Store, StoreKind, open_store
from booking.stores.claim import claim
from booking.stores.journal import Journal
from booking.stores.own import OwnTables
from booking.strategies import Choice, choose
from booking.verdict.leases import pause_stories
from booking.verdict.verify import verify

if TYPE_CHECKING:
    from booking.hosts import HostRun


def simulate(
    config: RunConfig, watch: Watcher | None = None, step: Stepper = NO_STEPS, search: Search | None = None
) -> RunResult:
    """Run one simulation. Raises BadInput (exit 2) or CannotRun (exit 3) before touching the store,
    and signals.Interrupted (carrying the run so far) when SIGINT, SIGTERM or SIGHUP stops it.
    `watch` is told what happens as it happens (the live output: booking/history/watch.py); `step` holds
    the run before each barrier opens (--step, --step-ms: booking/processes/stepper.py); `search`: one
    run of a search, which keeps its strategy, store and buyers for the next (booking/run/search.py)."""
    try:
        return _simulate(config, watch, step, search)
    except signals.Interrupted as exc:
        if exc.said:
            raise
        where = _("store {store} left as it was").format(store=_display(config))  # set-up: one transaction
        said = _("{signal}; before the buyers started: {where}").format(signal=exc, where=where)
        raise signals.interrupted(exc.signum, said) from None


def _display(config: RunConfig) -> str:
    return config.store_url.display if config.store_url is not None else ""


def _simulate(config: RunConfig, watch: Watcher | None, step: Stepper, search: Search | None) -> RunResult:
    config.validate()
    url = config.store_url
    kind = url.kind if url is not None else StoreKind.COUNTER
    _refuse_conflicts(config, kind)
    choice = search.choice if search is not None and search.choice is not None else choose(config, kind)
    if search is not None:
        search.choice = choice
    seed = config.seed if config.seed is not None else random.randrange(1_000_000)
    if config.history is not None:
        check_writable(config.history, "history", never=url.files() if url is not None else [])
    if choice.target is not None:
        from booking.strategies.http import served

        # reachable (else exit 3), and what it says it runs
        choice = replace(choice, served=served(config, choice.target_spec))
    # A run that seeds the store holds it alone; --keep runs may share it (stores/claim.py). A service
    # raced without --store has no store here to claim.
    # A run across hosts shares its store with the other hosts: it is seeded once, under the run's lock.
    # --keep runs sharing the store at once are judged together, from the journal their claim keeps.
    exclusive = not config.keep and config.run is None
    with claim(url, exclusive, config.deadline_s) if url is not None else contextlib.nullcontext() as journal:
        kept = journal if config.keep and config.run is None else None
        return _run(config, kind, choice, seed, watch, kept, step, search)


def _refuse_conflicts(c: RunConfig, kind: StoreKind) -> None:
    """Options that contradict each other, or the store, are refused, never resolved silently."""
    if c.no_lock and c.strategy not in (None, "none"):
        raise BadInput(_("--no-lock and --lock {strategy}: choose one").format(strategy=c.strategy))
    if c.purchase is not None and (c.strategy is not None or c.no_lock):
        lock = "--no-lock" if c.no_lock else f"--lock {c.strategy}"
        raise BadInput(
            _("--purchase runs your function instead of a strategy: {lock} does not apply").format(lock=lock)
        )
    if c.receipts_only and c.purchase is None:
        raise BadInput(_("--receipts-only applies only with --purchase MODULE:FUNCTION"))
    if c.auto_points and c.purchase is None:
        raise BadInput(_("--auto-points applies only with --purchase MODULE:FUNCTION"))
    if c.keep and c.tickets != RunConfig.tickets:
        raise BadInput(
            _("--keep continues from the store's stock: --tickets {tickets} does not apply").format(tickets=c.tickets)
        )
    if c.isolation is not None and kind is StoreKind.COUNTER:
        raise BadInput(_("--isolation applies to SQL stores only (db.json has no transactions)"))
    if c.durable and kind is not StoreKind.COUNTER:
        raise BadInput(_("--durable applies to db.json only (a SQL store's COMMIT is its own durability)"))


def _store(config: RunConfig, choice: Choice, isolation: str | None) -> Store | OwnTables:
    spec = choice.target_spec
    if config.store_url is None and spec is not None and (spec.stock_path or spec.reset):  # the endpoint's own
        from booking.strategies.target.stock import HttpStock

        said = config.tickets if config.tickets != RunConfig.tickets else None  # what you reset it to, if given
        return HttpStock(choice.target or "", spec, said)
    if config.store_url is None:  # --target without --store: the service's store is not read
        return OwnTables.unread()
    if config.own_tables:
        return OwnTables(config.store_url, config.setup, config.stock, config.deadline_s, config.processes)
    if config.cache is not None:  # --lock seckill: the SQL store, its Redis and broker beside it
        from booking.run.seckill import PipelineStore  # SQLAlchemy: imported only where it is used

        return PipelineStore(config, isolation)
    return open_store(config.store_url, isolation, timeout_s=config.deadline_s)


def _run(
    config: RunConfig,
    kind: StoreKind,
    choice: Choice,
    seed: int,
    watch: Watcher | None,
    journal: Journal | None,
    step: Stepper,
    search: Search | None,
) -> RunResult:
    """Seed (or keep) the store, run the crowd, read the store back, judge."""
    isolation = None if config.isolation is None else config.isolation.value
    limits.make_room_for_files(config, choice)
    store = search.store if search is not None and search.store is not None else _store(config, choice, isolation)
    if search is not None:
        search.keep(store)
    display = store.display
    across = _across_hosts(config, choice, store)
    try:
        limits.check_connections(store, config, choice)
        limits.preload(choice, config.processes)
        if across is not None:
            initial = across.join()
            config = replace(config, buyer_base=across.member.buyer_base if across.member else 0)
        else:
            initial = store.prepare(None if config.keep else config.tickets, beside=config.init_store)
        before = store.footprint()
        run_id = uuid.uuid4().hex
        if journal is not None:  # before any buyer sells: the runs sharing the store count on it
            journal.began(run_id, initial, config.buyers)
        if watch is not None:
            watch.began(_began(config, display, choice, initial, seed, kind))
        with signals.deferred():  # from here on children run: a signal stops them, it does not unwind us
            t0, t0_epoch = time.monotonic(), time.time()
            peers = across.peers if across else None
            buyers = search.buyers if search else None
            crowd = make_crowd(config, choice, store, seed, t0, peers, watch, step, buyers)
            history = crowd.run()
            elapsed = time.monotonic() - t0
            history.runs = [RunRecord(display, initial, choice.label, _settings(config, seed), __version__)]
            if journal is not None:
                journal.ended(run_id, [(a.buyer, a.ticket) for a in history.receipts])
            if config.history is not None:
                # first: a store that fails the final read must not lose it
                save(
                    history, config.history, config.secrets, never=config.store_url.files() if config.store_url else []
                )
            if across is not None:  # every host's part, once all have recorded
                stopped_by = signals.pending()
                history = across.finish(history, t0_epoch, None if stopped_by is None else signals.name(stopped_by))
            store.tidy()  # what writers killed mid-write left behind
            final = store.final()
            together = Together.of(run_id, journal.runs() if journal is not None else [])
            if across is not None:
                across.keep(final)
            signum = signals.pending()
    finally:
        if search is None:
            store.close()
        if across is not None:
            across.close()

    result = _judge(config, kind, choice, display, initial, final, history, elapsed, crowd, seed, together)
    result.store_before = before
    if across is not None:
        result.extras.update(across.extras())
    if signum is not None:
        raise _interrupted(signum, result)
    return result


def _judge(
    config: RunConfig, kind: StoreKind, choice: Choice, display: str, initial: int, final: Any,
    history: History, elapsed: float, crowd: Crowd, seed: int, together: Together,
) -> RunResult:  # fmt: skip
    """The verdict, and the run as the API and the CLI give it."""
    initial, joint = together.joint(initial, history, config.buyers, kind)  # with the --keep runs sharing the store
    result = RunResult(
        config,
        display,
        kind,
        choice.label,
        initial,
        final,
        history,
        verify(initial, final, joint, kind, together.selling > 0),
        elapsed,
        aborted=crowd.aborted or _all_failed(history),
        note=choice.note,
        extras={
            **choice.extras(history),
            **together.extras(),
            **({"store_read": config.store_url is not None or final is not None} if choice.target else {}),
        },
        strategy_safe=choice.safe,
        pauses=pause_stories(history, config.lease_ms / 1000 if choice.needs.lease else None),
    )
    if config.cache is not None:  # --lock seckill: Redis, the broker and the database agree, or what they disagree on
        from booking.run.seckill import reconciled

        reconciled(result)
    if isinstance(crowd.barrier, RandomScheduler):
        result.seed, result.order = seed, crowd.barrier.order
    if isinstance(crowd.barrier, ReplayScheduler):
        result.decisions = crowd.barrier.decisions
    elif config.chaos:
        result.seed = seed
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
        return _("every attempt failed with the same error: {error}").format(error=errors.pop())
    return None


def _across_hosts(config: RunConfig, choice: Choice, store: Store | OwnTables) -> HostRun | None:
    """--run NAME: this host's side of a run that spans hosts (PostgreSQL only), or None."""
    if config.run is None:
        return None
    from booking.hosts import HostRun  # SQLAlchemy: a db.json run never loads it

    if choice.needs.sellers or choice.target is not None:
        raise BadInput(_("--run: this strategy's buyers go through one host's sellers or service; run it on one host"))
    return HostRun(config, choice.label, store)


def _began(config: RunConfig, display: str, choice: Choice, initial: int, seed: int, kind: StoreKind) -> Began:
    seeded = config.schedule is Schedule.RANDOM or bool(config.chaos)
    counter = kind.counts
    return Began(
        config, display, choice.label, choice.note, initial, seed if seeded else None, counter, choice.needs.sellers
    )


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
