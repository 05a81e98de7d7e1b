"""The verifier: a pure function from (initial stock, final store state, history) to a Verdict, plain data
(its words: booking/render/stories.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from booking.history import Attempt, History, Outcome
from booking.stores.base import FinalState, StoreKind
from booking.verdict.anomalies import (
    Anomaly,
    Facts,
    double_sold,
    errors,
    ledger_double_sold,
    lost_updates,
    oversold,
    stuck,
    undersold,
    unreceipted,
)
from booking.verdict.overlap import Inconclusive, Serialized, Unproved, inconclusive, overlap, serialized


@dataclass(frozen=True)
class Failure:
    """Attempts the environment failed, one error said to them all (most buyers first)."""

    error: str
    buyers: list[int]  # one entry per attempt


def failures(failed: list[Attempt]) -> list[Failure]:
    """The environment's failures, grouped by what was said, the most frequent first."""
    by_error: dict[str, list[int]] = defaultdict(list)
    for a in failed:
        by_error[a.error or "unknown"].append(a.buyer)
    return [Failure(error, bs) for error, bs in sorted(by_error.items(), key=lambda kv: -len(kv[1]))]


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
    inconclusive: Inconclusive | None = None  # why this run proved nothing (no anomaly, and no overlap to prove safety)
    # Attempts the environment failed (a deadline, a timeout, a lost server, purchase code that exited):
    # not an anomaly of the strategy, but the run could not be carried out (exit 3).
    unavailable: int = 0
    could_not_run: list[Failure] = field(default_factory=list)
    # No two buyers were inside the window at once, but the history shows why: released together, your
    # code let them through one at a time (a chain of hand-offs). OK, with this as its evidence.
    serialized: Serialized | None = None

    @property
    def unsafe(self) -> bool:
        """An invariant of selling is broken (sold what did not exist, sold twice, forgot a sale, a sale
        nobody holds): whatever else went wrong in the run, this is what it showed."""
        return any(a.kind in SAFETY_KINDS for a in self.anomalies)

    @property
    def ok(self) -> bool:
        """No anomaly, and the buyers did overlap: a run that proved something and found nothing wrong."""
        return not self.anomalies and self.inconclusive is None and not self.unavailable

    @property
    def word(self) -> str:
        """OK, UNSAFE, STUCK, SAFE, AT A COST, COULD NOT RUN or INCONCLUSIVE (a broken invariant first: it
        stands): the words the text verdict says, so `--json` and the screen never disagree."""
        if self.unsafe:
            return "UNSAFE"
        if self.stuck:
            return "STUCK"
        if self.anomalies:
            return "SAFE, AT A COST"
        if self.unavailable:
            return "COULD NOT RUN"
        return "INCONCLUSIVE" if self.inconclusive else "OK"

    def to_json(self) -> dict[str, Any]:
        """The verdict as JSON data: each anomaly's kind, count and witnesses, why it proved nothing
        (a code), the environment's failures. `--json` carries their words (booking/render/stories.py)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["anomalies"] = [
            {"kind": a.kind, "count": a.count, "tickets": a.tickets, "buyers": a.buyers} for a in self.anomalies
        ]
        data["inconclusive"] = None if self.inconclusive is None else self.inconclusive.why.value
        data["could_not_run"] = [asdict(f) for f in self.could_not_run]
        data["serialized"] = None if self.serialized is None else asdict(self.serialized)
        data["ok"] = self.ok
        data["verdict"] = self.word
        return data


SAFETY_KINDS = frozenset({"oversold", "double_sold", "lost_updates", "unreceipted", "duplicate_orders", "orders_lost"})


def verify(
    initial: int,
    final: FinalState | None,
    history: History,
    kind: StoreKind = StoreKind.COUNTER,
    others_selling: bool = False,
) -> Verdict:
    """Judge a run. Every count is derived from the receipts and the store, never from the strategy.

    `final` None: the store is not booking's to read (your purchase code keeps its own tables), so
    only what receipts alone can show is judged (oversold, double_sold, errors, stuck); what needs
    the store (remaining, lost_updates, unreceipted, undersold) is None: not measured, never guessed.
    `others_selling`: other runs still sell from the store, their receipts not yet known, so its sales
    beyond the receipts (unreceipted) are not measured: the run that ends last judges them.
    """
    f = Facts.of(initial, final, history)
    over = max(0, f.sold - initial)
    lost = unreceipted_n = undersold_n = None
    if f.measured:
        lost = max(0, f.sold - f.store_sold)
        # A buyer killed mid-attempt (or stopped at the deadline) may have bought without living to hold
        # the receipt: that many sales without a receipt are indeterminate, not an anomaly of their own.
        unreceipted_n = None if others_selling else max(0, f.store_sold - f.sold - f.unanswered)
        undersold_n = min(max(f.remaining, 0), len(f.refused))
    found = (
        oversold(f, over),
        double_sold(f, kind.counts),
        ledger_double_sold(f),
        lost_updates(f, lost or 0),
        unreceipted(f, unreceipted_n or 0),
        undersold(f, undersold_n or 0),
        errors(f),
        stuck(f, history),
    )
    anomalies = [a for a in found if a is not None]
    most = overlap(history)
    why, chain = _proved_nothing(history, most, bool(anomalies), f.measured)
    return Verdict(
        initial=initial,
        remaining=f.remaining if f.measured else None,
        sold=f.sold,
        oversold=over,
        double_sold=len(set(f.doubles) | set(f.ledger_doubles)),
        lost_updates=lost,
        undersold=undersold_n,
        unreceipted=unreceipted_n,
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
        inconclusive=why,
        unavailable=len(f.unavailable),
        could_not_run=failures(f.unavailable),
        serialized=chain,
    )


def _proved_nothing(
    history: History, most: int | None, anomalous: bool, measured: bool
) -> tuple[Inconclusive | None, Serialized | None]:
    """Why the run proved nothing, or the hand-offs that prove the buyers were serialized instead."""
    if anomalous:
        return None, None
    why = inconclusive(history, most, measured)
    unproved = why is not None and why.why in (Unproved.STALLED, Unproved.NO_OVERLAP)
    if unproved or (why is None and most is not None and most >= 2):
        # Also where a window was measured to overlap only by the tail after a COMMIT began: the chain
        # says what happened inside (OK either way; the evidence is what a test of serialized code asserts).
        chain = serialized(history)
        if chain is not None:
            return None, chain
    return why, None
