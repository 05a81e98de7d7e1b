"""The verifier: a pure function from (initial stock, final store state, history) to a Verdict."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from booking.history import Attempt, History, Outcome
from booking.stores.base import FinalState, StoreKind
from booking.words import buyers, count, ms, read_value, times, wrote_value

MAX_STORIES = 5  # per anomaly kind; the counts carry the rest


@dataclass
class Anomaly:
    """One kind of wrong outcome, with its witnesses and the why in plain words."""

    kind: str
    count: int
    tickets: list[int] = field(default_factory=list)
    buyers: list[int] = field(default_factory=list)
    story: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    initial: int
    remaining: int
    sold: int
    oversold: int
    double_sold: int
    lost_updates: int
    undersold: int
    unreceipted: int
    errors: int
    stuck: int
    killed: int  # buyers killed on purpose; each leaves one attempt whose outcome nobody saw
    attempts: int
    refused: int
    conflicts: int
    retries: int
    anomalies: list[Anomaly]

    @property
    def ok(self) -> bool:
        return not self.anomalies

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass
class _Facts:
    """What the receipts and the store say, before any judgement."""

    initial: int
    remaining: int
    receipts: list[Attempt]
    store_sold: int  # sales the store records (receipts-only: taken to equal the receipts)
    refused: list[Attempt]
    errors: list[Attempt]
    doubles: dict[int, list[Attempt]]
    unanswered: int  # buyers killed or stuck: each may hold a sale nobody saw

    @classmethod
    def of(cls, initial: int, final: FinalState | None, history: History) -> _Facts:
        receipts = history.receipts
        if final is None:  # the store is your own code's: only receipts can be judged
            remaining, store_sold = max(0, initial - len({r.ticket for r in receipts})), len(receipts)
        else:
            remaining, store_sold = final.remaining, initial - final.remaining
        by_ticket: dict[int, list[Attempt]] = defaultdict(list)
        for r in receipts:
            by_ticket[r.ticket if r.ticket is not None else -1].append(r)
        return cls(
            initial=initial,
            remaining=remaining,
            receipts=receipts,
            store_sold=store_sold,
            refused=[a for a in history.attempts if a.outcome is Outcome.SOLD_OUT],
            errors=[a for a in history.attempts if a.outcome is Outcome.ERROR],
            doubles={t: rs for t, rs in sorted(by_ticket.items()) if len(rs) > 1},
            unanswered=len(history.killed) + len(history.stuck),
        )

    @property
    def sold(self) -> int:
        return len(self.receipts)


def verify(initial: int, final: FinalState | None, history: History, kind: StoreKind = StoreKind.COUNTER) -> Verdict:
    """Judge a run. Every count is derived from the receipts and the store, never from the strategy.

    `final` None: the store is not booking's to read (your purchase code keeps its own tables), so
    only what receipts alone can show is judged: oversold, double_sold, undersold, errors, stuck.
    """
    f = _Facts.of(initial, final, history)
    oversold = max(0, f.sold - initial)
    lost_updates = max(0, f.sold - f.store_sold)
    # A buyer killed mid-attempt (or stopped at the deadline) may have bought without living to hold
    # the receipt: that many sales without a receipt are indeterminate, not an anomaly of their own.
    unreceipted = max(0, f.store_sold - f.sold - f.unanswered)
    undersold = min(max(f.remaining, 0), len(f.refused))
    anomalies = [
        a
        for a in (
            _oversold(f, oversold),
            _double_sold(f, kind is StoreKind.COUNTER),
            _lost_updates(f, lost_updates),
            _unreceipted(f, unreceipted, len(history.stuck)),
            _undersold(f, undersold),
            _errors(f),
            _stuck(history),
        )
        if a is not None
    ]
    return Verdict(
        initial=initial,
        remaining=f.remaining,
        sold=f.sold,
        oversold=oversold,
        double_sold=len(f.doubles),
        lost_updates=lost_updates,
        undersold=undersold,
        unreceipted=unreceipted,
        errors=len(f.errors),
        stuck=len(history.stuck),
        killed=len(history.killed),
        attempts=len(history.attempts),
        refused=len(f.refused),
        conflicts=sum(a.conflicts for a in history.attempts),
        retries=sum(a.retries for a in history.attempts),
        anomalies=anomalies,
    )


def _oversold(f: _Facts, oversold: int) -> Anomaly | None:
    if not oversold:
        return None
    story = f"{count(f.sold, 'receipt')} for {count(f.initial, 'ticket')}: {oversold} more sold than existed"
    return Anomaly("oversold", oversold, story=[story])


def _double_sold(f: _Facts, counter: bool) -> Anomaly | None:
    if not f.doubles:
        return None
    stories = [double_sale(t, rs, counter) for t, rs in list(f.doubles.items())[:MAX_STORIES]]
    if len(f.doubles) > MAX_STORIES:
        stories.append(f"... and {len(f.doubles) - MAX_STORIES} more tickets sold more than once")
    witnesses = sorted({r.buyer for rs in f.doubles.values() for r in rs})
    return Anomaly("double_sold", len(f.doubles), sorted(f.doubles), witnesses, stories)


def _lost_updates(f: _Facts, lost: int) -> Anomaly | None:
    if not lost:
        return None
    story = (
        f"the store counts {count(f.store_sold, 'sale')} but buyers hold {count(f.sold, 'receipt')}: "
        f"{count(lost, 'purchase')} overwritten by a later write"
    )
    return Anomaly("lost_updates", lost, story=[story])


def _unreceipted(f: _Facts, unreceipted: int, stuck: int) -> Anomaly | None:
    if not unreceipted:
        return None
    unknown = len(f.errors) + stuck
    note = f" ({unknown} attempts ended without an answer)" if unknown else ""
    story = (
        f"the store counts {count(f.store_sold, 'sale')} but buyers hold {count(f.sold, 'receipt')}: "
        f"{count(unreceipted, 'sale')} nobody holds a receipt for{note}"
    )
    return Anomaly("unreceipted", unreceipted, story=[story])


def _undersold(f: _Facts, undersold: int) -> Anomaly | None:
    if not undersold:
        return None
    turned = sorted({a.buyer for a in f.refused})
    story = (
        f"{count(f.remaining, 'ticket')} left unsold while {count(len(f.refused), 'attempt')} were turned away "
        f"({buyers(turned)} found none)"
    )
    return Anomaly("undersold", undersold, buyers=turned, story=[story])


def _errors(f: _Facts) -> Anomaly | None:
    if not f.errors:
        return None
    stories = [f"buyer {a.buyer}, attempt {a.attempt + 1}: {a.error}" for a in f.errors[:MAX_STORIES]]
    if len(f.errors) > MAX_STORIES:
        stories.append(f"... and {len(f.errors) - MAX_STORIES} more failed attempts")
    return Anomaly("errors", len(f.errors), buyers=sorted({a.buyer for a in f.errors}), story=stories)


def _stuck(history: History) -> Anomaly | None:
    if not history.stuck:
        return None
    stuck = sorted(history.stuck, key=lambda e: (e.who, e.buyer))
    stories = [f"{e.who} {e.buyer} never finished: {e.reason}" for e in stuck[:MAX_STORIES]]
    if len(stuck) > MAX_STORIES:
        stories.append(f"... and {len(stuck) - MAX_STORIES} more")
    return Anomaly("stuck", len(stuck), buyers=[e.buyer for e in stuck], story=stories)


def double_sale(ticket: int, receipts: list[Attempt], counter: bool) -> str:
    """Why `ticket` has several receipts, in plain words, from the receipts' reads and writes."""
    rs = sorted(receipts, key=lambda r: (r.t_read or 0.0, r.buyer))
    n = len(rs)
    last_read = max((r.t_read or 0.0) for r in rs)
    first_write = min((r.t_write or 0.0) for r in rs)
    who = buyers([r.buyer for r in rs])
    both, either = ("both", "either") if n == 2 else ("all", "any")
    if all(r.read is None for r in rs):  # your own purchase code: only its points and receipts are known
        if last_read < first_write:
            return f"{who} {both} passed after-read before {either} returned: ticket #{ticket} sold {times(n)}"
        return f"{who} each returned ticket #{ticket}: sold {times(n)}"
    if len({r.read for r in rs}) == 1 and len({r.wrote for r in rs}) == 1 and last_read < first_write:
        if counter:
            return (
                f"{who} {both} read {read_value(rs[0].read, counter)} before {either} wrote; "
                f"{both} wrote {wrote_value(rs[0].wrote, counter)}: ticket #{ticket} sold {times(n)}"
            )
        return f"{who} {both} saw ticket #{ticket} free before {either} took it; {both} took it: sold {times(n)}"
    steps = "; ".join(
        f"buyer {r.buyer} read {read_value(r.read, counter)} at {ms(r.t_read)} and wrote "
        f"{wrote_value(r.wrote, counter)} at {ms(r.t_write)}"
        for r in rs[:MAX_STORIES]
    )
    more = f"; ... {n - MAX_STORIES} more buyers" if n > MAX_STORIES else ""
    return f"{steps}{more}: ticket #{ticket} sold {times(n)}"
