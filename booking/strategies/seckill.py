"""seckill: the flash-sale pipeline as one strategy. Lua pre-deducts the stock in Redis (--cache), the order
goes through the broker (--broker), and a seller writes it into the SQL store (--store) in one transaction.

The buyer never touches the database: it runs the seckill script against Redis, and only a buyer that got
a unit publishes its order (processes/seckill.py). The seller takes the first free ticket, records the sale
and writes the order row in one transaction; with --idempotent the order's request id is unique in that same
transaction, so a request the broker delivers again is answered from its row, never sold twice. After the
run the three books are reconciled (verdict/reconcile.py): Redis's deductions, what the broker still holds,
and the database's orders.

Kill points: a buyer's `mid-write` falls between its pre-deduct and its publish (the stock taken, no order
on its way: an order lost); `in-critical` after the publish, waiting for the answer. A seller passes
`after-read`, `mid-write` and `before-commit` in its transaction, and `after-sale` before its ack.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from booking.errors import BadInput, CannotRun
from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.kit.points import AFTER_READ, AFTER_SALE, BEFORE_COMMIT, BEFORE_LOCK, IN_CRITICAL, MID_WRITE
from booking.options.config import RunConfig
from booking.options.store_url import StoreURL, masked_url
from booking.stores.base import StoreKind
from booking.strategies.base import MAX_RETRIES, SQL_STORES, BuyerContext, Needs, StrategyInfo, backoff

if TYPE_CHECKING:
    from booking.stores.sql import SqlStore

NAME = "seckill"


def _buy(store: Any, ctx: BuyerContext, rec: Attempt) -> None:
    """Pre-deduct in Redis, then publish the order and wait for the seller's answer (the link does both)."""
    ctx.point(BEFORE_LOCK)  # lockstep: every buyer runs its script at once
    assert ctx.made.seller is not None
    ctx.made.seller.buy(ctx, rec)


def _warm(ctx: BuyerContext) -> None:
    """Before the start barrier: the buyer's Redis and broker connections made (a seller has no link)."""
    warm = getattr(ctx.made.seller, "warm", None)
    if warm is not None:
        warm()


def sell_order(store: SqlStore, ctx: BuyerContext, rec: Attempt, idempotent: bool) -> None:
    """The seller's transaction: the order's request answered from its row (idempotent), or the first free
    ticket taken, its sale recorded and the order row written, committed together."""
    from booking.stores import orders

    request = f"{rec.buyer}:{rec.attempt}"  # the request id the buyer's pre-deduct used in Redis
    sqlite = store.kind is StoreKind.SQLITE
    for n in range(MAX_RETRIES + 1):
        try:
            store.begin(immediate=sqlite)  # SQLite: the write lock now; a server: the conditional UPDATE decides
            if idempotent and (sold := orders.held(store, request)) is not None:
                store.commit()
                rec.ticket, rec.outcome = sold, Outcome.OK  # sold before this delivery: answered from the row
                return
            ticket = store.first_free()
            rec.t_read, rec.read = ctx.clock(), ticket or 0
            ctx.point(AFTER_READ)
            if ticket is None:
                store.commit()
                rec.outcome = Outcome.SOLD_OUT
                return
            if store.take(ticket, rec.buyer, only_if_free=True):
                orders.place(store, request, ticket, rec.buyer, once=idempotent)
                store.commit()
                rec.t_write, rec.ticket, rec.wrote, rec.outcome = ctx.clock(), ticket, ticket, Outcome.OK
                return
        except Exception as exc:
            store.abort()
            if not (orders.is_duplicate(exc) or store.retryable(exc)):
                raise
        else:
            store.abort()  # the ticket was taken first
        rec.conflicts += 1
        if ctx.time_left() <= 0 or n == MAX_RETRIES:
            rec.outcome, rec.unavailable = Outcome.CONFLICT, ctx.time_left() <= 0
            rec.error = _("gave up after {conflicts} conflicts").format(conflicts=rec.conflicts)
            return
        rec.retries += 1
        backoff(n)


SECKILL = StrategyInfo(
    NAME,
    "the flash-sale pipeline: Lua pre-deducts in Redis, the order goes through the broker, a seller writes it in SQL",
    "every client of the Redis server and of the database",
    SQL_STORES,
    safe=True,
    window=BEFORE_LOCK,
    purchase=_buy,
    needs=Needs(sellers=True),
    kill_points=(MID_WRITE, IN_CRITICAL),
    setup=_warm,
    opens_store=False,  # the buyer talks to Redis and the broker; the seller alone writes the database
    imports=("redis", "booking.stores.redis", "pika"),
)
# What the seller passes: its transaction's points, then the ack's.
SELLER = replace(SECKILL, kill_points=(AFTER_READ, MID_WRITE, BEFORE_COMMIT, AFTER_SALE))


# Strategies that run only with options of their own (seckill: --broker and --cache): a comparison
# includes them only when it is given those options.
ASKED_ONLY = frozenset({NAME})


def asked_options(name: str, broker: str | None, cache: str | None) -> dict[str, str]:
    """The options a strategy of ASKED_ONLY runs with (seckill: its broker and cache); none for the others."""
    if name not in ASKED_ONLY or broker is None or cache is None:
        return {}
    return {"broker": broker, "cache": cache}


def refuse_cache(config: RunConfig) -> None:
    """--cache names seckill's Redis: refused with any other strategy."""
    if config.cache is not None and config.strategy != NAME:
        raise BadInput(_("--cache applies only to --lock seckill"))


def refuse(config: RunConfig) -> None:
    """What --lock seckill needs, and the options that mean nothing to it, in one line each."""
    if config.broker is None or config.cache is None:
        raise BadInput(_("--lock seckill needs --broker amqp://... and --cache redis://HOST:PORT/N"))
    if config.seller_lock is not None:
        raise BadInput(_("--seller-lock does not apply to --lock seckill: its seller writes in one transaction"))
    if config.sellers == 0:
        raise BadInput(_("--sellers 0 does not apply to --lock seckill: its sellers are this run's own"))
    if config.keep:
        raise BadInput(_("--keep does not apply to --lock seckill: Redis and the database are seeded together"))


def check_cache(text: str) -> StoreURL:
    """The cache: a Redis database booking owns or may own (empty), reachable (else exit 3, one line)."""
    url = StoreURL.parse(text)
    if url.kind is not StoreKind.REDIS:
        raise BadInput(_("--cache: {url} is not a redis:// URL").format(url=masked_url(text)))
    from booking.stores.redis.cache import check_owned

    try:
        check_owned(url)
    except (BadInput, CannotRun) as exc:  # said as the cache's, not as the run's store
        raise type(exc)(_("--cache: {error}").format(error=exc)) from None
    return url
