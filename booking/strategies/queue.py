"""The queue strategy: buyers send requests through a JoinableQueue; seller processes own the store.

The notes' producer/consumer. The buyer's purchase is a request and a wait for the answer
(booking.processes.seller does the rest); the sellers run each purchase under a strategy of
their own, `none` by default: with one seller nothing else writes, so no lock is needed.
"""

from __future__ import annotations

from typing import Any

from booking.errors import BadInput
from booking.history import Attempt, History
from booking.i18n.lang import _
from booking.kit import points
from booking.options.config import RunConfig
from booking.stores.base import Store
from booking.strategies.base import ANY_STORE, BuyerContext, Needs, StrategyInfo

NAME = "queue"


def _via_seller(store: Store | None, ctx: BuyerContext, rec: Attempt) -> None:
    # The buyer does not touch the stock: a seller process reads and writes it.
    ctx.point(points.BEFORE_LOCK)  # one seller: lockstep sends every buyer's request at once
    assert ctx.made.seller is not None
    ctx.made.seller.buy(ctx, rec)


QUEUE = StrategyInfo(
    NAME,
    "buyers send requests through a JoinableQueue to one seller process that owns the store",
    "one process tree",
    ANY_STORE,
    safe=True,  # with one seller; several sellers are as safe as their --seller-lock
    window=points.BEFORE_LOCK,  # serialised by the seller: lockstep holds buyers before they send
    purchase=_via_seller,
    needs=Needs(sellers=True),
    # A buyer's purchase is in the sellers' hands from its request to the answer: that is its
    # critical section. It looks at the stock (the notes' search) but never reads or writes it to buy.
    kill_points=(points.IN_CRITICAL,),
)


def seller_lock_name(config: RunConfig) -> str:
    """The strategy sellers write under, refusing the queue itself."""
    name = config.seller_lock or "none"
    if name == NAME:
        raise BadInput(_("--seller-lock queue: sellers cannot queue to themselves; choose a lock strategy"))
    return name


def refuse_seller_options(config: RunConfig) -> None:
    """--sellers, --seller-lock, --kill-seller and --broker mean something only where sellers run: --lock
    queue, and seckill's pipeline (which has no --seller-lock)."""
    if config.seller_lock is not None:
        raise BadInput(_("--seller-lock applies only to --lock queue"))
    if config.sellers != 1:
        raise BadInput(_("--sellers applies only to --lock queue and --lock seckill"))
    if config.kill_seller is not None:
        raise BadInput(_("--kill-seller applies only to --lock queue and --lock seckill"))
    if config.broker is not None:
        raise BadInput(_("--broker applies only to --lock queue and --lock seckill"))


def extras(sellers: int, seller_lock: str, history: History) -> dict[str, Any]:
    """What `--json` adds for a queue run: sellers, their lock, queue-wait percentiles."""
    from booking.stats import percentile  # the same percentiles as booking compare's

    waits = [a.queue_wait_s for a in history.attempts if a.queue_wait_s is not None]
    wait = {f"p{q}": round(percentile(waits, q) or 0.0, 6) for q in (50, 95, 99)} if waits else None
    return {"sellers": sellers, "seller_lock": seller_lock, "queue_wait_s": wait}
