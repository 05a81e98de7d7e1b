"""The verifier: a pure function from (initial stock, final store state, history) to a Verdict."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from booking.history import Attempt, History, Outcome
from booking.overlap import inconclusive, overlap
from booking.stores.base import FinalState, StoreKind
from booking.words import MAX_STORIES, buyers, could_not_run, count, double_sale, times


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
    remaining: int | None  # None: not measured (your own tables, and no --stock to count them)
    sold: int
    oversold: int
    double_sold: int
    lost_updates: int | None  # None: not measured
    undersold: int | None  # None: not measured
    unreceipted: int | None  # None: not measured
    errors: int
    stuck: int
    killed: int  # buyers killed on purpose; each leaves one attempt whose outcome nobody saw
    attempts: int
    refused: int
    declined: int  # attempts that lost a race and gave up: an availability cost, never an anomaly
    conflicts: int
    retries: int
    overlap: int | None  # the most buyers inside the race window at one instant (None: not recorded)
    anomalies: list[Anomaly]
    inconclusive: str | None = None  # why this run proved nothing (no anomaly, and no overlap to prove safety)
    # Attempts the environment failed (a deadline, a timeout, a lost server, purchase code that exited):
    # not an anomaly of the strategy, but the run could not be carried out (exit 3).
    unavailable: int = 0
    could_not_run: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No anomaly, and the buyers did overlap: a run that proved something and found nothing wrong."""
        return not self.anomalies and self.inconclusive is None and not self.unavailable

    @property
    def word(self) -> str:
        """OK, ANOMALY, STUCK, COULD NOT RUN or INCONCLUSIVE."""
        if self.stuck:
            return "STUCK"
        if self.anomalies:
            return "ANOMALY"
        if self.unavailable:
            return "COULD NOT RUN"
        return "INCONCLUSIVE" if self.inconclusive else "OK"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["verdict"] = self.word
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
    unavailable: list[Attempt]  # errors of the environment, not of the strategy
    doubles: dict[int, list[Attempt]]
    ledger_doubles: dict[int, list[int]]  # SQL: tickets the store records more than one buyer for
    unanswered: int  # buyers killed or stuck: each may hold a sale nobody saw
    measured: bool  # the store's state is known (False: your own tables, not counted)

    @classmethod
    def of(cls, initial: int, final: FinalState | None, history: History) -> _Facts:
        receipts = history.receipts
        if final is None:  # the store is your own code's: only receipts can be judged
            remaining, store_sold = 0, len(receipts)
        else:
            remaining, store_sold = final.remaining, initial - final.remaining
        by_ticket: dict[int, list[Attempt]] = defaultdict(list)
        for r in receipts:
            by_ticket[r.ticket if r.ticket is not None else -1].append(r)
        owners = final.owners if final is not None and final.owners is not None else {}
        return cls(
            initial=initial,
            remaining=remaining,
            receipts=receipts,
            store_sold=store_sold,
            refused=[a for a in history.attempts if a.outcome is Outcome.SOLD_OUT],
            errors=[a for a in history.attempts if a.outcome is Outcome.ERROR and not a.unavailable],
            unavailable=[a for a in history.attempts if a.unavailable],
            doubles={t: rs for t, rs in sorted(by_ticket.items()) if len(rs) > 1},
            ledger_doubles={t: bs for t, bs in sorted(owners.items()) if len(bs) > 1},
            unanswered=_unanswered(history, receipts, owners),
            measured=final is not None,
        )

    @property
    def sold(self) -> int:
        return len(self.receipts)


def _unanswered(history: History, receipts: list[Attempt], owners: dict[int, list[int]]) -> int:
    """Sales that may have been made with no receipt to show: one a buyer killed or stuck, or, where the
    store names who bought each ticket, every sale it records for such a buyer beyond the receipts it
    sent (a host of a --run that died took its buyers' answers with it)."""
    gone = history.killed + history.stuck
    buyers_gone = {e.buyer for e in gone if e.who == "buyer"}
    if not owners or not buyers_gone:
        return len(gone)
    held = Counter(r.buyer for r in receipts)
    recorded = Counter(b for bs in owners.values() for b in set(bs) if b in buyers_gone)
    return max(len(gone), sum(max(0, n - held[b]) for b, n in recorded.items()))


def verify(initial: int, final: FinalState | None, history: History, kind: StoreKind = StoreKind.COUNTER) -> Verdict:
    """Judge a run. Every count is derived from the receipts and the store, never from the strategy.

    `final` None: the store is not booking's to read (your purchase code keeps its own tables), so
    only what receipts alone can show is judged (oversold, double_sold, errors, stuck); what needs
    the store (remaining, lost_updates, unreceipted, undersold) is None: not measured, never guessed.
    """
    f = _Facts.of(initial, final, history)
    oversold = max(0, f.sold - initial)
    lost = unreceipted = undersold = None
    if f.measured:
        lost = max(0, f.sold - f.store_sold)
        # A buyer killed mid-attempt (or stopped at the deadline) may have bought without living to hold
        # the receipt: that many sales without a receipt are indeterminate, not an anomaly of their own.
        unreceipted = max(0, f.store_sold - f.sold - f.unanswered)
        undersold = min(max(f.remaining, 0), len(f.refused))
    found = (
        _oversold(f, oversold),
        _double_sold(f, kind is StoreKind.COUNTER),
        _ledger_double_sold(f),
        _lost_updates(f, lost or 0),
        _unreceipted(f, unreceipted or 0, len(history.stuck)),
        _undersold(f, undersold or 0),
        _errors(f),
        _stuck(history),
    )
    anomalies = [a for a in found if a is not None]
    most = overlap(history)
    return Verdict(
        initial=initial,
        remaining=f.remaining if f.measured else None,
        sold=f.sold,
        oversold=oversold,
        double_sold=len(set(f.doubles) | set(f.ledger_doubles)),
        lost_updates=lost,
        undersold=undersold,
        unreceipted=unreceipted,
        errors=len(f.errors),
        stuck=len(history.stuck),
        killed=len(history.killed),
        attempts=len(history.attempts),
        refused=len(f.refused),
        declined=sum(a.outcome is Outcome.CONFLICT and not a.unavailable for a in history.attempts),
        conflicts=sum(a.conflicts for a in history.attempts),
        retries=sum(a.retries for a in history.attempts),
        overlap=most,
        anomalies=anomalies,
        inconclusive=None if anomalies else inconclusive(history, most),
        unavailable=len(f.unavailable),
        could_not_run=could_not_run(f.unavailable),
    )


def _ledger_double_sold(f: _Facts) -> Anomaly | None:
    """Double sales the store's ledger records and the receipts do not show: another invocation,
    another client, or a buyer whose receipt was lost. The store contradicts an OK, so it is none."""
    unseen = {t: bs for t, bs in f.ledger_doubles.items() if t not in f.doubles}
    if not unseen:
        return None
    stories = [
        f"the store records ticket #{t} sold {times(len(bs))} ({buyers(bs)}), more than this run's receipts show"
        for t, bs in list(unseen.items())[:MAX_STORIES]
    ]
    if len(unseen) > MAX_STORIES:
        stories.append(f"... and {len(unseen) - MAX_STORIES} more tickets the store records sold more than once")
    witnesses = sorted({b for bs in unseen.values() for b in bs})
    return Anomaly("double_sold", len(unseen), sorted(unseen), witnesses, stories)


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
