"""The strategies: how a purchase is protected. One mapping by name; no plugin machinery."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from booking import faults
from booking.errors import BadInput
from booking.history import Attempt, Outcome
from booking.schedule import AFTER_READ, BEFORE_LOCK
from booking.stores.base import Store, StoreKind

# filelock polls (sleeps between tries); its 50 ms default makes waiters wake on a timer long after
# the lock is free. 1 ms keeps the handover short without spinning two cores.
FILELOCK_POLL_S = 0.001

ANY_STORE = frozenset(StoreKind)
SQL_STORES = frozenset({StoreKind.SQLITE, StoreKind.POSTGRESQL, StoreKind.MYSQL})
SERVERS = frozenset({StoreKind.POSTGRESQL, StoreKind.MYSQL})
EVERY_CLIENT = "every client of the database"

# --lock when none is given: the notes' mutex for db.json; "SQLite rows guarded by a filelock";
# on a server, where buyers may run on many hosts, the conditional UPDATE.
DEFAULT_STRATEGY = {
    StoreKind.COUNTER: "mp-lock",
    StoreKind.SQLITE: "file-lock",
    StoreKind.POSTGRESQL: "atomic",
    StoreKind.MYSQL: "atomic",
}


class LockTimeout(Exception):
    """A lock was not acquired before the run's deadline."""


@dataclass
class BuyerContext:
    """What a purchase needs from its buyer process (all made in that process)."""

    buyer: int
    point: Callable[[str], None]
    clock: Callable[[], float]  # seconds since the run started
    deadline: float  # time.monotonic() value
    mp_lock: Any = None  # the parent's multiprocessing.Lock, for mp-lock
    lock_path: str | None = None  # for file-lock
    seller: Any = None  # for queue: the buyer's link to the sellers (booking.seller.SellerLink)
    mp_holder: Any = None  # a shared int: the buyer holding the mp-lock, 0 when free
    _file_lock: Any = None

    def time_left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)


Guard = Callable[[BuyerContext], contextlib.AbstractContextManager[Any]]
Purchase = Callable[[Store, BuyerContext, Attempt], None]


@dataclass(frozen=True)
class StrategyInfo:
    """A strategy's description is its row label in reports; `scope` says who it protects."""

    name: str
    description: str
    scope: str
    stores: frozenset[StoreKind]
    safe: bool  # documented as preventing every anomaly
    holds_lock: bool  # True: the read-check-write runs inside a lock (lockstep waits before it)
    purchase: Purchase
    setup: Callable[[BuyerContext], None] | None = None  # once per buyer, before its first attempt


def read_then_write(store: Store, ctx: BuyerContext, rec: Attempt, guard: Guard | None) -> None:
    """The notes' get(): read, check, write — under `guard` if there is one."""
    ctx.point(BEFORE_LOCK)
    asked = ctx.clock()
    with guard(ctx) if guard else contextlib.nullcontext():
        if guard:
            rec.t_acquired = ctx.clock()
            rec.lock_wait_s = rec.t_acquired - asked
        faults.hit(faults.IN_CRITICAL)
        seen = store.read()
        rec.t_read, rec.read = ctx.clock(), seen.value
        ctx.point(AFTER_READ)
        if seen.ticket is None:
            rec.outcome = Outcome.SOLD_OUT
            return
        rec.wrote = store.write(seen, ctx.buyer)
        rec.t_write, rec.ticket, rec.outcome = ctx.clock(), seen.ticket, Outcome.OK


@contextlib.contextmanager
def _mp_lock(ctx: BuyerContext) -> Iterator[None]:
    # With a deadline: a multiprocessing.Lock whose holder died is never released.
    if not ctx.mp_lock.acquire(timeout=ctx.time_left()):
        raise LockTimeout(
            "multiprocessing.Lock not acquired before the deadline (a holder that dies never releases it)"
        )
    # Who holds it, so the parent can tell an abandoned lock from a slow one when a buyer dies.
    if ctx.mp_holder is not None:
        ctx.mp_holder.value = ctx.buyer
    try:
        yield
    finally:
        if ctx.mp_holder is not None:
            ctx.mp_holder.value = 0
        ctx.mp_lock.release()


def _make_file_lock(ctx: BuyerContext) -> None:
    import filelock  # here, not at the top: db.json runs without file-lock need not pay for it

    # Made in the buyer process: filelock refuses an instance inherited across fork.
    # preserve_lock_file: deleting the lock file on release would split the lock.
    ctx._file_lock = filelock.FileLock(ctx.lock_path or "", preserve_lock_file=True)


@contextlib.contextmanager
def _file_lock(ctx: BuyerContext) -> Iterator[None]:
    import filelock

    if ctx._file_lock is None:
        _make_file_lock(ctx)
    try:
        ctx._file_lock.acquire(timeout=ctx.time_left(), poll_interval=FILELOCK_POLL_S)
    except filelock.Timeout:
        raise LockTimeout(f"file lock {ctx.lock_path} not acquired before the deadline") from None
    try:
        yield
    finally:
        ctx._file_lock.release()


def _none(store: Store, ctx: BuyerContext, rec: Attempt) -> None:
    read_then_write(store, ctx, rec, None)


def _with_mp_lock(store: Store, ctx: BuyerContext, rec: Attempt) -> None:
    read_then_write(store, ctx, rec, _mp_lock)


def _with_file_lock(store: Store, ctx: BuyerContext, rec: Attempt) -> None:
    read_then_write(store, ctx, rec, _file_lock)


def _via_seller(store: Store, ctx: BuyerContext, rec: Attempt) -> None:
    # The buyer does not touch the stock: a seller process reads and writes it (booking/seller.py).
    ctx.point(BEFORE_LOCK)  # one seller: lockstep sends every buyer's request at once
    ctx.seller.buy(ctx, rec)


def _sql(name: str) -> Purchase:
    """A database-native strategy, imported when first used (it needs the SQL store, not db.json)."""

    def purchase(store: Store, ctx: BuyerContext, rec: Attempt) -> None:
        from booking import strategies_sql

        getattr(strategies_sql, name)(store, ctx, rec)

    return purchase


STRATEGIES: dict[str, StrategyInfo] = {
    s.name: s
    for s in (
        StrategyInfo(
            "none",
            "no protection: read, then write (the race itself)",
            "nothing",
            ANY_STORE,
            safe=False,
            holds_lock=False,
            purchase=_none,
        ),
        StrategyInfo(
            "mp-lock",
            "multiprocessing.Lock from the parent around read-check-write (the notes' mutex)",
            "one process tree",
            ANY_STORE,
            safe=True,
            holds_lock=True,
            purchase=_with_mp_lock,
        ),
        StrategyInfo(
            "file-lock",
            "filelock.FileLock on a lock file beside the store around read-check-write",
            "one host",
            ANY_STORE,
            safe=True,
            holds_lock=True,
            purchase=_with_file_lock,
            setup=_make_file_lock,
        ),
        StrategyInfo(
            "queue",
            "buyers send requests through a JoinableQueue to one seller process that owns the store",
            "one process tree",
            ANY_STORE,
            safe=True,  # with one seller; several sellers are as safe as their --seller-lock
            holds_lock=True,  # serialised by the seller: lockstep holds buyers before they send
            purchase=_via_seller,
        ),
        StrategyInfo(
            "atomic",
            "conditional UPDATE … WHERE sold_to IS NULL, checked by row count; a loser takes the next free ticket",
            EVERY_CLIENT,
            SQL_STORES,
            safe=True,
            holds_lock=False,
            purchase=_sql("atomic"),
        ),
        StrategyInfo(
            "db-lock",
            "the database's write lock: SQLite BEGIN IMMEDIATE, SELECT … FOR UPDATE on PostgreSQL/MariaDB",
            EVERY_CLIENT,
            SQL_STORES,
            safe=True,
            holds_lock=True,
            purchase=_sql("db_lock"),
        ),
        StrategyInfo(
            "optimistic",
            "version compare-and-swap in the UPDATE's WHERE; bounded retries with backoff, conflicts counted",
            EVERY_CLIENT,
            SQL_STORES,
            safe=True,
            holds_lock=False,
            purchase=_sql("optimistic"),
        ),
        StrategyInfo(
            "serializable",
            "read and write in one SERIALIZABLE transaction, retried on serialization failure or deadlock",
            EVERY_CLIENT,
            SQL_STORES,
            safe=True,
            holds_lock=True,
            purchase=_sql("serializable"),
        ),
        StrategyInfo(
            "advisory",
            "PostgreSQL pg_advisory_xact_lock around read-check-write, released at COMMIT",
            EVERY_CLIENT + " that takes the same advisory lock",
            frozenset({StoreKind.POSTGRESQL}),
            safe=True,
            holds_lock=True,
            purchase=_sql("advisory"),
        ),
        StrategyInfo(
            "skip-locked",
            "SELECT … FOR UPDATE SKIP LOCKED seat picking: each buyer locks a different free ticket",
            EVERY_CLIENT,
            SERVERS,
            safe=True,
            holds_lock=True,
            purchase=_sql("skip_locked"),
        ),
    )
}


def default_strategy(kind: StoreKind) -> str:
    return DEFAULT_STRATEGY[kind]


def get_strategy(name: str, kind: StoreKind) -> StrategyInfo:
    """The strategy called `name`, refused with the list of those that apply to this store."""
    applicable = [s.name for s in STRATEGIES.values() if kind in s.stores]
    info = STRATEGIES.get(name)
    if info is None or kind not in info.stores:
        if info is None:
            raise BadInput(f"unknown strategy {name!r} (choose from: {', '.join(applicable)})")
        raise BadInput(
            f"strategy {name!r} does not apply to a {kind.value} store (choose from: {', '.join(applicable)})"
        )
    return info
