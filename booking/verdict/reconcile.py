"""The seckill pipeline's three books reconciled: what Redis deducted, what the broker still holds, and the
orders the database has. Each disagreement is an anomaly of its own, as data (its words:
render/stories.py):

- `duplicate_orders`: a request with more than one order row (a redelivered order sold again);
- `orders_lost`: stock Redis deducted for a request with no order in the database and none left on the
  broker's queue to bring one (undersold for good: Redis says sold, nobody holds it);
- `oversold`: Redis deducted, or the database ordered, more than the stock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from booking.history import History
from booking.stores.base import FinalState
from booking.verdict.anomalies import Anomaly, Counts


@dataclass(frozen=True)
class Books:
    """The three books after a run, as read."""

    initial: int
    deducted: list[str]  # Redis: the request ids (buyer:attempt) the seckill script took a unit for
    redis_remaining: int
    queued: int  # the broker: orders still on the queue once the sellers stopped
    orders: dict[str, list[int]]  # the database: each request's order rows (their tickets), in order


@dataclass(frozen=True)
class PipelineFinal(FinalState):
    """The SQL store after a seckill run, with the other two books beside it."""

    books: Books | None = field(default=None)


def figures(b: Books) -> dict[str, int]:
    """The reconciliation's counts (`--json`'s `reconciliation`)."""
    missing = set(b.deducted) - set(b.orders)
    return {
        "redis_deducted": len(b.deducted),
        "redis_remaining": b.redis_remaining,
        "broker_queued": b.queued,
        "orders": sum(len(ts) for ts in b.orders.values()),
        "order_requests": len(b.orders),
        "duplicate_orders": sum(len(ts) > 1 for ts in b.orders.values()),
        "orders_lost": max(0, len(missing) - b.queued),
        "orders_without_deduct": len(set(b.orders) - set(b.deducted)),
        "oversold": _over(b),
    }


def _over(b: Books) -> int:
    return max(0, len(b.deducted) - b.initial, sum(len(ts) for ts in b.orders.values()) - b.initial)


def _buyer(request: str) -> int:
    return int(request.split(":", 1)[0])


def reconcile(b: Books, history: History, counts: Counts, found: list[str]) -> list[Anomaly]:
    """The disagreements between the books; `found`: kinds the verifier already named (not said twice)."""
    out: list[Anomaly] = []
    if (over := _over(b)) and "oversold" not in found:
        out.append(Anomaly("oversold", over, counts))
    twice = {r: ts for r, ts in sorted(b.orders.items()) if len(ts) > 1}
    if twice:
        who = sorted({_buyer(r) for r in twice})
        recorded = {_buyer(r): ts for r, ts in twice.items()}
        again = [a for a in history.attempts if a.redelivered and a.buyer in who]
        out.append(Anomaly("duplicate_orders", len(twice), counts, sorted({t for ts in twice.values() for t in ts}),
                           who, recorded=recorded, attempts=again))  # fmt: skip
    missing = sorted(set(b.deducted) - set(b.orders), key=lambda r: tuple(int(x) for x in r.split(":")))
    lost = max(0, len(missing) - b.queued)
    if lost:
        who = sorted({_buyer(r) for r in missing})
        seen = [a for a in history.attempts if f"{a.buyer}:{a.attempt}" in set(missing)]
        ends = [e for e in history.killed if e.who == "buyer" and e.buyer in who]
        out.append(Anomaly("orders_lost", lost, counts, buyers=who, attempts=seen, ends=ends))
    return out


def judged(anomalies: list[Anomaly], verdict: Any) -> None:
    """The verdict with the reconciliation's anomalies: a disagreement found, the run proved something."""
    if anomalies:
        verdict.anomalies.extend(anomalies)
        verdict.inconclusive = verdict.serialized = None
