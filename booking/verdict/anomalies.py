"""Each kind of wrong outcome the verifier can find, as plain data: its kind, count, witnesses (buyers,
tickets, the receipts and ends that show it) and the figures its story quotes. No words here: the
stories are told by booking/render/stories.py, in the language spoken."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from booking.history import Attempt, BuyerEnd, History, Outcome
from booking.stores.base import FinalState


@dataclass(frozen=True)
class Counts:
    """The run's figures an anomaly's story quotes."""

    initial: int  # the stock at the start
    remaining: int
    sold: int  # receipts
    store_sold: int  # sales the store records
    refused: int  # attempts turned away (sold out)
    unknown: int  # attempts that ended without an answer: errors, and buyers stuck


@dataclass
class Anomaly:
    """One kind of wrong outcome, with its witnesses: plain data, told in words by booking/render/stories.py."""

    kind: str
    count: int
    counts: Counts
    tickets: list[int] = field(default_factory=list)
    buyers: list[int] = field(default_factory=list)
    sales: dict[int, list[Attempt]] = field(default_factory=dict)  # double_sold: each ticket's receipts
    recorded: dict[int, list[int]] = field(default_factory=dict)  # double_sold by the ledger: each ticket's buyers
    attempts: list[Attempt] = field(default_factory=list)  # errors: the failed attempts
    ends: list[BuyerEnd] = field(default_factory=list)  # stuck: who never finished, and why
    counter: bool = False  # db.json: a ticket is the count value a buyer read


@dataclass
class Facts:
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
    stuck: int = 0  # buyers and sellers that never finished
    redelivered: list[Attempt] = field(default_factory=list)  # --broker: requests delivered again

    @classmethod
    def of(cls, initial: int, final: FinalState | None, history: History) -> Facts:
        receipts = history.receipts
        if final is None:  # the store is your own code's: only receipts can be judged
            remaining, store_sold = 0, len(receipts)
        else:
            remaining, store_sold = final.remaining, initial - final.remaining
        by_ticket: dict[int, list[Attempt]] = defaultdict(list)
        for r in receipts:
            if r.ticket is not None:  # no ticket id (an HTTP sale judged by stock)
                by_ticket[r.ticket].append(r)
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
            # A seller killed holding a request the broker delivered again left nothing unanswered.
            unanswered=max(0, _unanswered(history, receipts, owners) - len(_redelivered(history))),
            measured=final is not None,
            stuck=len(history.stuck),
            redelivered=_redelivered(history),
        )

    @property
    def sold(self) -> int:
        return len(self.receipts)

    @property
    def counts(self) -> Counts:
        unknown = len(self.errors) + self.stuck
        return Counts(self.initial, self.remaining, self.sold, self.store_sold, len(self.refused), unknown)


def _redelivered(history: History) -> list[Attempt]:
    return [a for a in history.attempts if a.redelivered]


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


def ledger_double_sold(f: Facts) -> Anomaly | None:
    """Double sales the store's ledger records and the receipts do not show: another invocation,
    another client, or a buyer whose receipt was lost. The store contradicts an OK, so it is none."""
    unseen = {t: bs for t, bs in f.ledger_doubles.items() if t not in f.doubles}
    if not unseen:
        return None
    witnesses = sorted({b for bs in unseen.values() for b in bs})
    return Anomaly("double_sold", len(unseen), f.counts, sorted(unseen), witnesses, recorded=unseen)


def oversold(f: Facts, over: int) -> Anomaly | None:
    return Anomaly("oversold", over, f.counts) if over else None


def double_sold(f: Facts, counter: bool) -> Anomaly | None:
    if not f.doubles:
        return None
    witnesses = sorted({r.buyer for rs in f.doubles.values() for r in rs})
    return Anomaly("double_sold", len(f.doubles), f.counts, sorted(f.doubles), witnesses, f.doubles, counter=counter)


def lost_updates(f: Facts, lost: int) -> Anomaly | None:
    return Anomaly("lost_updates", lost, f.counts) if lost else None


def unreceipted(f: Facts, n: int) -> Anomaly | None:
    """Sales nobody holds; with a broker, the requests delivered again witness them (sold once more)."""
    if not n:
        return None
    return Anomaly("unreceipted", n, f.counts, buyers=sorted({a.buyer for a in f.redelivered}), attempts=f.redelivered)


def undersold(f: Facts, n: int) -> Anomaly | None:
    if not n:
        return None
    return Anomaly("undersold", n, f.counts, buyers=sorted({a.buyer for a in f.refused}))


def errors(f: Facts) -> Anomaly | None:
    if not f.errors:
        return None
    return Anomaly("errors", len(f.errors), f.counts, buyers=sorted({a.buyer for a in f.errors}), attempts=f.errors)


def stuck(f: Facts, history: History) -> Anomaly | None:
    if not history.stuck:
        return None
    ended = sorted(history.stuck, key=lambda e: (e.who, e.buyer))
    return Anomaly("stuck", len(ended), f.counts, buyers=[e.buyer for e in ended], ends=ended)
