"""Database-native strategies: the database, not the buyers' processes, decides who gets a ticket.

Each function fills the Attempt record like `read_then_write` does. Schedule points: with no lock
held across the read (atomic, optimistic), lockstep holds buyers after the read, so every buyer's
write meets a ticket another buyer may already have; with a transaction holding locks (db-lock,
serializable, advisory, skip-locked) the barrier is before BEGIN, never inside the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.kit import points
from booking.kit.points import AFTER_READ, BEFORE_LOCK
from booking.stores.base import StoreKind
from booking.strategies.base import (
    EVERY_CLIENT,
    MAX_RETRIES,
    SERVERS,
    SQL_STORES,
    BuyerContext,
    StrategyInfo,
)
from booking.strategies.base import backoff as wait_before_retry

if TYPE_CHECKING:
    from booking.stores.sql import SqlStore


class _Conflict(Exception):
    """Lost a race the database refereed (row count 0, version moved, nothing unlocked): try again."""


def _retrying(
    store: SqlStore,
    ctx: BuyerContext,
    rec: Attempt,
    body: Callable[[], None],
    limit: int | None = MAX_RETRIES,
    backoff: bool = True,
    upgrading: bool = False,
) -> None:
    """Run one transaction until it commits; a retryable failure or a _Conflict counts and tries again."""
    n = 0
    while True:
        try:
            body()
            return
        except _Conflict as exc:
            store.abort()
            reason = str(exc)
        except Exception as exc:
            store.abort()
            if not store.retryable(exc, upgrading):
                raise
            reason = one_line(exc, store.spec.secrets)
        rec.conflicts += 1
        if ctx.time_left() <= 0:  # out of time, not out of retries: the run could not be carried out
            rec.outcome, rec.unavailable = Outcome.CONFLICT, True
            rec.error = _("the deadline passed after {conflicts} conflicts (last: {reason})").format(
                conflicts=rec.conflicts, reason=reason
            )[:300]
            return
        if limit is not None and n >= limit:  # declined: an availability cost, counted as such
            rec.outcome, rec.error = (
                Outcome.CONFLICT,
                _("gave up after {conflicts} conflicts (last: {reason})").format(
                    conflicts=rec.conflicts, reason=reason
                )[:300],
            )
            return
        rec.retries += 1
        if backoff:
            wait_before_retry(n)
        n += 1


def _bought(ctx: BuyerContext, rec: Attempt, ticket: int) -> None:
    rec.t_write, rec.ticket, rec.wrote, rec.outcome = ctx.clock(), ticket, ticket, Outcome.OK
    ctx.written()  # watched: the sale is said at once (live output)


def _saw(ctx: BuyerContext, rec: Attempt, ticket: int | None) -> None:
    rec.t_read, rec.read = ctx.clock(), ticket or 0
    ctx.point(AFTER_READ)


def _compare_and_swap(
    store: SqlStore,
    ctx: BuyerContext,
    rec: Attempt,
    read: Callable[[], tuple[int, int] | None],
    write: Callable[[int, int], bool],
    **retry: Any,
) -> None:
    """Read a free ticket (and what the write will check), then write only if it still holds; a lost
    race is a conflict, and the whole purchase runs again."""
    ctx.point(BEFORE_LOCK)

    def once() -> None:
        seen = read()
        _saw(ctx, rec, seen[0] if seen else None)
        if seen is None:
            rec.outcome = Outcome.SOLD_OUT
            return
        store.begin()
        points.hit(points.IN_CRITICAL)
        if not write(*seen):
            raise _Conflict(_("ticket #{seen} was taken first").format(seen=seen[0]))
        store.commit()
        _bought(ctx, rec, seen[0])

    _retrying(store, ctx, rec, once, **retry)


def atomic(store: SqlStore, ctx: BuyerContext, rec: Attempt) -> None:
    """Conditional UPDATE … WHERE sold_to IS NULL; row count 0 means someone was first: take the next."""

    def read() -> tuple[int, int] | None:
        ticket = store.first_free()
        return None if ticket is None else (ticket, 0)

    # Every lost race means another purchase committed, so retrying always makes progress: no bound
    # but the deadline, and no backoff (the next free ticket is a different row).
    _compare_and_swap(
        store, ctx, rec, read, lambda t, _: store.take(t, ctx.buyer, only_if_free=True), limit=None, backoff=False
    )


def optimistic(store: SqlStore, ctx: BuyerContext, rec: Attempt) -> None:
    """Read (id, version); UPDATE … WHERE version = seen; a moved version is a conflict, retried with backoff."""
    _compare_and_swap(store, ctx, rec, store.first_free_versioned, lambda t, v: store.take(t, ctx.buyer, version=v))


def _locked_purchase(
    store: SqlStore,
    ctx: BuyerContext,
    rec: Attempt,
    lock: Callable[[], int | None],
    upgrading: bool = False,
    **begin: Any,
) -> None:
    """BEGIN, take the lock (and read), write, COMMIT — the transaction is the critical section."""
    ctx.point(BEFORE_LOCK)
    asked = ctx.clock()

    def once() -> None:
        store.begin(**begin)
        ticket = lock()
        points.hit(points.IN_CRITICAL)
        if rec.t_acquired is None:
            rec.t_acquired = ctx.clock()
            rec.lock_wait_s = rec.t_acquired - asked
        _saw(ctx, rec, ticket)
        if ticket is None:
            store.commit()
            # A locking read can come back empty while others hold the rows they will release
            # (SKIP LOCKED skips them; FOR UPDATE with LIMIT may re-check a row and return none):
            # only an empty look, outside the transaction, means sold out.
            if store.kind is not StoreKind.SQLITE and store.remaining() > 0:
                raise _Conflict("every free ticket was locked by another buyer")
            rec.outcome = Outcome.SOLD_OUT
            return
        store.take(ticket, ctx.buyer)
        store.commit()
        _bought(ctx, rec, ticket)

    _retrying(store, ctx, rec, once, upgrading=upgrading)


def db_lock(store: SqlStore, ctx: BuyerContext, rec: Attempt) -> None:
    if store.kind is StoreKind.SQLITE:
        # pysqlite ignores FOR UPDATE: the write lock is taken by BEGIN IMMEDIATE instead.
        _locked_purchase(store, ctx, rec, store.first_free, immediate=True)
    else:
        _locked_purchase(store, ctx, rec, lambda: store.first_free("update"))


def serializable(store: SqlStore, ctx: BuyerContext, rec: Attempt) -> None:
    # On SQLite a deferred transaction that read, then writes, is refused at once (SQLITE_BUSY or
    # SQLITE_BUSY_SNAPSHOT) when another buyer wrote first: SQLite's serialization failure, retried.
    _locked_purchase(store, ctx, rec, store.first_free, upgrading=True, level="serializable")


def advisory(store: SqlStore, ctx: BuyerContext, rec: Attempt) -> None:
    def lock() -> int | None:
        store.advisory_lock()
        return store.first_free()

    _locked_purchase(store, ctx, rec, lock)


def skip_locked(store: SqlStore, ctx: BuyerContext, rec: Attempt) -> None:
    _locked_purchase(store, ctx, rec, lambda: store.first_free("skip"))


SQL = (
    StrategyInfo(
        "atomic",
        "conditional UPDATE … WHERE sold_to IS NULL, checked by row count; a loser takes the next free ticket",
        EVERY_CLIENT,
        SQL_STORES,
        safe=True,
        window=AFTER_READ,
        purchase=atomic,
    ),
    StrategyInfo(
        "db-lock",
        "the database's write lock: SQLite BEGIN IMMEDIATE, SELECT … FOR UPDATE on PostgreSQL/MariaDB",
        EVERY_CLIENT,
        SQL_STORES,
        safe=True,
        window=BEFORE_LOCK,
        purchase=db_lock,
    ),
    StrategyInfo(
        "optimistic",
        "version compare-and-swap in the UPDATE's WHERE; bounded retries with backoff, conflicts counted",
        EVERY_CLIENT,
        SQL_STORES,
        safe=True,
        window=AFTER_READ,
        purchase=optimistic,
    ),
    StrategyInfo(
        "serializable",
        "read and write in one SERIALIZABLE transaction, retried on serialization failure or deadlock",
        EVERY_CLIENT,
        SQL_STORES,
        safe=True,
        window=BEFORE_LOCK,
        purchase=serializable,
    ),
    StrategyInfo(
        "advisory",
        "PostgreSQL pg_advisory_xact_lock around read-check-write, released at COMMIT",
        EVERY_CLIENT + " that takes the same advisory lock",
        frozenset({StoreKind.POSTGRESQL}),
        safe=True,
        window=BEFORE_LOCK,
        purchase=advisory,
    ),
    StrategyInfo(
        "skip-locked",
        "SELECT … FOR UPDATE SKIP LOCKED seat picking: each buyer locks a different free ticket",
        EVERY_CLIENT,
        SERVERS,
        safe=True,
        window=BEFORE_LOCK,
        purchase=skip_locked,
    ),
)
