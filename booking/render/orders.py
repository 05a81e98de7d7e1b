"""The seckill pipeline's disagreements in words: a request ordered more than once, and stock Redis
deducted for an order the database never got (verdict/reconcile.py holds them as data)."""

from __future__ import annotations

from booking.history import Outcome
from booking.i18n.lang import _
from booking.i18n.words import times
from booking.verdict.anomalies import Anomaly

MAX_STORIES = 5


def duplicate_orders(a: Anomaly) -> list[str]:
    said = _("buyer {buyer}'s request has {n} orders in the database (tickets {tickets}): one request ordered {times}")
    lines = []
    for buyer, tickets in list(a.recorded.items())[:MAX_STORIES]:
        listed = ", ".join(f"#{t}" for t in tickets)
        lines.append(said.format(buyer=buyer, n=len(tickets), tickets=listed, times=times(len(tickets))))
    again = _(
        "buyer {buyer}'s order was redelivered by the broker to seller {seller} (the seller holding it died after "
        "writing it, before acknowledging it) and written again: at-least-once delivery, the seller not idempotent"
    )
    return lines + [again.format(buyer=r.buyer, seller=r.seller) for r in a.attempts[:MAX_STORIES]]


def orders_lost(a: Anomaly) -> list[str]:
    said = _("Redis deducted {n} for orders the database never got: stock taken that nobody can buy")
    lines = [said.format(n=a.count)]
    killed = _("buyer {buyer} was killed after its pre-deduct in Redis, before its order reached the broker")
    lines += [killed.format(buyer=e.buyer) for e in a.ends[:MAX_STORIES]]
    refused = _("buyer {buyer}'s order reached a seller, and the database had no ticket left for it")
    lines += [refused.format(buyer=r.buyer) for r in a.attempts[:MAX_STORIES] if r.outcome is Outcome.SOLD_OUT]
    return lines


def books(b: dict[str, int]) -> str:
    """The three books side by side (a seckill run's `reconciliation`)."""
    said = _(
        "Redis deducted {deducted} ({left} left), the broker holds {queued} orders, "
        "the database has {orders} orders for {requests} requests"
    )
    return said.format(
        deducted=b["redis_deducted"], left=b["redis_remaining"], queued=b["broker_queued"],
        orders=b["orders"], requests=b["order_requests"],
    )  # fmt: skip
