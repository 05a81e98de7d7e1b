"""The Redis strategies: the seckill script (lua), WATCH/MULTI/EXEC (watch), a lease (redis-lock) and a
lease with a fencing token (fenced). `none`, mp-lock, file-lock and queue run on Redis too (locks.py).

The leased strategies pass `in-critical` with the lease held and the stock read, the write still to
come: a holder paused there past its lease writes what it read under a lease it no longer has. That is
the pause that matters (one before the read would read afresh on waking), so it is where --pause-at
in-critical lands for them.
"""

from __future__ import annotations

import contextlib
from functools import partial
from typing import TYPE_CHECKING, Any

from booking.errors import Unavailable
from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.kit import points
from booking.kit.points import AFTER_READ, BEFORE_COMMIT, BEFORE_LOCK, IN_CRITICAL, MID_WRITE
from booking.stores.base import StoreKind
from booking.strategies.base import MAX_RETRIES, BuyerContext, LockTimeout, Needs, StrategyInfo, backoff

if TYPE_CHECKING:
    from booking.stores.redis import RedisStore

REDIS = frozenset({StoreKind.REDIS})
EVERY_REDIS_CLIENT = "every client of the Redis server"
LOCK_POLL_S = 0.001  # redis-py's Lock polls (SET NX, sleep, again): 1 ms, not its 100 ms default
IMPORTS = ("redis", "booking.stores.redis")  # imported once in the parent, shared by every fork


def _lua(store: RedisStore, ctx: BuyerContext, rec: Attempt) -> None:
    """The seckill script: check, decrement, ledger, one-per-buyer set, in one EVALSHA."""
    ctx.point(BEFORE_LOCK)  # lockstep: every buyer sends its script at once
    points.hit(BEFORE_COMMIT)
    # Each attempt is one customer's request: the set refuses the same request served twice.
    ticket = store.seckill(ctx.buyer, f"{ctx.buyer}:{rec.attempt}")
    rec.t_read = rec.t_write = ctx.clock()
    rec.read = max(ticket, 0)
    if ticket == 0:
        rec.outcome = Outcome.SOLD_OUT
    elif ticket < 0:
        rec.outcome, rec.error = Outcome.CONFLICT, _("this request was already served (the one-per-buyer set)")
    else:
        rec.ticket, rec.wrote, rec.outcome = ticket, ticket - 1, Outcome.OK


def _watch(store: RedisStore, ctx: BuyerContext, rec: Attempt) -> None:
    """WATCH the stock, read it, then MULTI/EXEC the write: EXEC fails if the stock moved; retry, bounded."""
    from redis.exceptions import WatchError

    from booking.stores.redis import keys

    for n in range(MAX_RETRIES + 1):
        try:
            with store.failing(Unavailable), store.client.pipeline() as pipe:
                pipe.watch(keys.STOCK)
                seen = store.read_with(pipe)
                rec.t_read, rec.read = ctx.clock(), seen.value
                ctx.point(AFTER_READ)
                if seen.ticket is None:
                    rec.outcome = Outcome.SOLD_OUT
                    return
                points.hit(BEFORE_COMMIT)
                pipe.multi()
                store.write_with(pipe, seen, ctx.buyer)
                pipe.execute()
            rec.t_write, rec.ticket, rec.wrote, rec.outcome = ctx.clock(), seen.ticket, seen.value - 1, Outcome.OK
            return
        except WatchError:
            rec.conflicts += 1
        if ctx.time_left() <= 0:
            rec.outcome, rec.unavailable = Outcome.CONFLICT, True
            rec.error = _("the deadline passed after {conflicts} conflicts").format(conflicts=rec.conflicts)
            return
        if n < MAX_RETRIES:
            rec.retries += 1
            backoff(n)
    rec.outcome = Outcome.CONFLICT
    rec.error = _("gave up after {conflicts} conflicts (the stock moved under every WATCH)").format(
        conflicts=rec.conflicts
    )


def _lease(store: RedisStore, ctx: BuyerContext, fenced: bool) -> Any:
    """This process's lease on the store's lock key (made once, in the buyer: it holds the client)."""
    if "lease" not in ctx.local:
        from booking.stores.redis.lease import make_lease

        ctx.local["lease"] = make_lease(store, ctx.made.lease_ms / 1000, LOCK_POLL_S, fenced)
    return ctx.local["lease"]


def _leased(store: RedisStore, ctx: BuyerContext, rec: Attempt, fenced: bool) -> None:
    """Take the lease, read, write (through the fence when `fenced`), let the lease go if it is still ours."""
    from redis.exceptions import LockNotOwnedError

    lease = _lease(store, ctx, fenced)
    ctx.point(BEFORE_LOCK)
    asked = ctx.clock()
    with store.failing(Unavailable):
        held = lease.acquire(blocking=True, blocking_timeout=max(ctx.time_left(), LOCK_POLL_S))
    if not held:
        raise LockTimeout(_("the Redis lease was not acquired before the deadline"))
    rec.t_acquired = ctx.clock()
    rec.lock_wait_s = rec.t_acquired - asked
    try:
        seen = store.read()
        rec.t_read, rec.read = ctx.clock(), seen.value
        points.hit(IN_CRITICAL)  # the lease held, the stock read, the write to come
        ctx.point(AFTER_READ)
        if seen.ticket is None:
            rec.outcome = Outcome.SOLD_OUT
            return
        wrote = store.fenced_write(seen, ctx.buyer, lease.fence) if fenced else store.write(seen, ctx.buyer)
        if wrote is None:
            rec.outcome, rec.conflicts = Outcome.CONFLICT, rec.conflicts + 1
            rec.error = _("the store refused the write: a newer fencing token was issued (this lease had lapsed)")
            return
        rec.t_write, rec.ticket, rec.wrote, rec.outcome = ctx.clock(), seen.ticket, wrote, Outcome.OK
    finally:
        with store.failing(Unavailable), contextlib.suppress(LockNotOwnedError):
            lease.release()  # compare-and-delete: a lapsed lease (someone else's now) is left alone


LUA = StrategyInfo(
    "lua",
    "the seckill script as one EVALSHA: stock > 0 check, decrement, ledger entry, one-per-buyer set",
    EVERY_REDIS_CLIENT,
    REDIS,
    safe=True,
    window=BEFORE_LOCK,
    purchase=_lua,
    kill_points=(BEFORE_COMMIT,),
    imports=IMPORTS,
    looks=False,  # the script's stock > 0 check is the look: a GET before it is a round trip for nothing
)
WATCH = StrategyInfo(
    "watch",
    "WATCH / MULTI / EXEC: the write fails when the stock moved since the read; bounded retries, conflicts counted",
    EVERY_REDIS_CLIENT,
    REDIS,
    safe=True,
    window=AFTER_READ,
    purchase=_watch,
    kill_points=(AFTER_READ, BEFORE_COMMIT),
    imports=IMPORTS,
)
REDIS_LOCK = StrategyInfo(
    "redis-lock",
    "a lease around read-check-write: SET NX PX with a random token, released by compare-and-delete",
    "every client, while the lease lasts: a holder paused past --lock-ttl loses it without knowing",
    REDIS,
    safe=True,
    window=BEFORE_LOCK,
    purchase=partial(_leased, fenced=False),
    needs=Needs(lease=True),
    kill_points=(AFTER_READ, IN_CRITICAL, BEFORE_COMMIT, MID_WRITE),
    imports=IMPORTS,
)
FENCED = StrategyInfo(
    "fenced",
    "the lease plus a fencing token taken with it; the store's write refuses a token older than the newest",
    "every client, pauses included",
    REDIS,
    safe=True,
    window=BEFORE_LOCK,
    purchase=partial(_leased, fenced=True),
    needs=Needs(lease=True),
    kill_points=(AFTER_READ, IN_CRITICAL, BEFORE_COMMIT),
    imports=IMPORTS,
)
REDIS_STRATEGIES = (LUA, WATCH, REDIS_LOCK, FENCED)
