"""The verifier: a pure function from (initial stock, final store state, history) to a Verdict."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from booking.history import Attempt, History, Outcome
from booking.stores.base import FinalState, StoreKind

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


def verify(initial: int, final: FinalState | None, history: History, kind: StoreKind = StoreKind.COUNTER) -> Verdict:
    """Judge a run. Every count is derived from the receipts and the store, never from the strategy.

    `final` None: the store is not booking's to read (your purchase code keeps its own tables), so
    only what receipts alone can show is judged: oversold, double_sold, undersold, errors, stuck.
    """
    receipts = history.receipts
    sold = len(receipts)
    if final is None:
        final = FinalState(remaining=max(0, initial - len({r.ticket for r in receipts})))
        store_sold = sold  # unknown: no lost update or unreceipted sale can be told from receipts
    else:
        store_sold = initial - final.remaining
    refused_attempts = [a for a in history.attempts if a.outcome is Outcome.SOLD_OUT]
    errors = [a for a in history.attempts if a.outcome is Outcome.ERROR]
    by_ticket: dict[int, list[Attempt]] = defaultdict(list)
    for r in receipts:
        by_ticket[r.ticket if r.ticket is not None else -1].append(r)
    doubles = {t: rs for t, rs in sorted(by_ticket.items()) if len(rs) > 1}

    oversold = max(0, sold - initial)
    lost_updates = max(0, sold - store_sold)
    # A buyer killed mid-attempt (or stopped at the deadline) may have bought without living to hold
    # the receipt: that many sales without a receipt are indeterminate, not an anomaly of their own.
    indeterminate = len(history.killed) + len(history.stuck)
    unreceipted = max(0, store_sold - sold - indeterminate)
    undersold = min(max(final.remaining, 0), len(refused_attempts))
    words = _Words(kind)

    anomalies: list[Anomaly] = []
    if oversold:
        anomalies.append(
            Anomaly(
                "oversold",
                oversold,
                story=[
                    f"{sold} receipts for {initial} {_plural(initial, 'ticket')}: {oversold} more sold than existed"
                ],
            )
        )
    if doubles:
        stories = [words.double_sale(t, rs) for t, rs in list(doubles.items())[:MAX_STORIES]]
        if len(doubles) > MAX_STORIES:
            stories.append(f"... and {len(doubles) - MAX_STORIES} more tickets sold more than once")
        buyers = sorted({r.buyer for rs in doubles.values() for r in rs})
        anomalies.append(Anomaly("double_sold", len(doubles), sorted(doubles), buyers, stories))
    if lost_updates:
        anomalies.append(
            Anomaly(
                "lost_updates",
                lost_updates,
                story=[
                    f"the store counts {store_sold} {_plural(store_sold, 'sale')} but buyers hold {sold} receipts: "
                    f"{lost_updates} {_plural(lost_updates, 'purchase')} overwritten by a later write"
                ],
            )
        )
    if unreceipted:
        indeterminate = len(errors) + len(history.stuck)
        note = f" ({indeterminate} attempts ended without an answer)" if indeterminate else ""
        anomalies.append(
            Anomaly(
                "unreceipted",
                unreceipted,
                story=[
                    f"the store counts {store_sold} {_plural(store_sold, 'sale')} but buyers hold {sold} receipts: "
                    f"{unreceipted} {_plural(unreceipted, 'sale')} nobody holds a receipt for{note}"
                ],
            )
        )
    if undersold:
        turned = sorted({a.buyer for a in refused_attempts})
        anomalies.append(
            Anomaly(
                "undersold",
                undersold,
                buyers=turned,
                story=[
                    f"{final.remaining} {_plural(final.remaining, 'ticket')} left unsold while "
                    f"{len(refused_attempts)} {_plural(len(refused_attempts), 'attempt')} were turned away "
                    f"({_buyers(turned)} found none)"
                ],
            )
        )
    if errors:
        stories = [f"buyer {a.buyer}, attempt {a.attempt + 1}: {a.error}" for a in errors[:MAX_STORIES]]
        if len(errors) > MAX_STORIES:
            stories.append(f"... and {len(errors) - MAX_STORIES} more failed attempts")
        anomalies.append(Anomaly("errors", len(errors), buyers=sorted({a.buyer for a in errors}), story=stories))
    if history.stuck:
        stuck = sorted(history.stuck, key=lambda e: (e.who, e.buyer))
        stories = [f"{e.who} {e.buyer} never finished: {e.reason}" for e in stuck[:MAX_STORIES]]
        if len(stuck) > MAX_STORIES:
            stories.append(f"... and {len(stuck) - MAX_STORIES} more")
        anomalies.append(Anomaly("stuck", len(stuck), buyers=[e.buyer for e in stuck], story=stories))

    return Verdict(
        initial=initial,
        remaining=final.remaining,
        sold=sold,
        oversold=oversold,
        double_sold=len(doubles),
        lost_updates=lost_updates,
        undersold=undersold,
        unreceipted=unreceipted,
        errors=len(errors),
        stuck=len(history.stuck),
        killed=len(history.killed),
        attempts=len(history.attempts),
        refused=len(refused_attempts),
        conflicts=sum(a.conflicts for a in history.attempts),
        retries=sum(a.retries for a in history.attempts),
        anomalies=anomalies,
    )


class _Words:
    """How a store's reads and writes are said in the domain's words."""

    def __init__(self, kind: StoreKind) -> None:
        self.counter = kind is StoreKind.COUNTER

    def read(self, value: int | None) -> str:
        return f"count={value}" if self.counter else f"ticket #{value} free"

    def wrote(self, value: int | None) -> str:
        return f"count={value}" if self.counter else f"ticket #{value} taken"

    def double_sale(self, ticket: int, receipts: list[Attempt]) -> str:
        rs = sorted(receipts, key=lambda r: (r.t_read or 0.0, r.buyer))
        n = len(rs)
        times = _times(n)
        reads = {r.read for r in rs}
        writes = {r.wrote for r in rs}
        last_read = max((r.t_read or 0.0) for r in rs)
        first_write = min((r.t_write or 0.0) for r in rs)
        who = _buyers([r.buyer for r in rs])
        if all(r.read is None for r in rs):  # your own purchase code: only its points and receipts are known
            if last_read < first_write:
                both, either = ("both", "either") if n == 2 else ("all", "any")
                return f"{who} {both} passed after-read before {either} returned: ticket #{ticket} sold {times}"
            return f"{who} each returned ticket #{ticket}: sold {times}"
        if len(reads) == 1 and len(writes) == 1 and last_read < first_write:
            both, either = ("both", "either") if n == 2 else ("all", "any")
            if self.counter:
                return (
                    f"{who} {both} read {self.read(rs[0].read)} before {either} wrote; "
                    f"{both} wrote {self.wrote(rs[0].wrote)}: ticket #{ticket} sold {times}"
                )
            return f"{who} {both} saw ticket #{ticket} free before {either} took it; {both} took it: sold {times}"
        steps = "; ".join(
            f"buyer {r.buyer} read {self.read(r.read)} at {_ms(r.t_read)} and wrote {self.wrote(r.wrote)} "
            f"at {_ms(r.t_write)}"
            for r in rs[:MAX_STORIES]
        )
        more = f"; ... {n - MAX_STORIES} more buyers" if n > MAX_STORIES else ""
        return f"{steps}{more}: ticket #{ticket} sold {times}"


def _ms(t: float | None) -> str:
    return "?" if t is None else f"{t * 1000:.1f} ms"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _buyers(buyers: list[int]) -> str:
    """'buyer 3', 'buyers 3 and 7', 'buyers 1, 2, 3 and 4', 'buyers 1, 2, 3, ... and 50 (50 buyers)'."""
    bs = sorted(set(buyers))
    if len(bs) == 1:
        return f"buyer {bs[0]}"
    if len(bs) <= 6:
        return "buyers " + ", ".join(map(str, bs[:-1])) + f" and {bs[-1]}"
    return "buyers " + ", ".join(map(str, bs[:3])) + f", ... and {bs[-1]} ({len(bs)} buyers)"
