"""Each kind of wrong outcome the verifier can find, with its witnesses and its story in plain words,
in the language spoken."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from booking.history import Attempt, History, Outcome
from booking.i18n.lang import _
from booking.i18n.words import MAX_STORIES, buyers, count, double_sale, times, who_is
from booking.stores.base import FinalState


@dataclass
class Anomaly:
    """One kind of wrong outcome, with its witnesses and the why in plain words."""

    kind: str
    count: int
    tickets: list[int] = field(default_factory=list)
    buyers: list[int] = field(default_factory=list)
    story: list[str] = field(default_factory=list)


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

    @classmethod
    def of(cls, initial: int, final: FinalState | None, history: History) -> Facts:
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


def ledger_double_sold(f: Facts) -> Anomaly | None:
    """Double sales the store's ledger records and the receipts do not show: another invocation,
    another client, or a buyer whose receipt was lost. The store contradicts an OK, so it is none."""
    unseen = {t: bs for t, bs in f.ledger_doubles.items() if t not in f.doubles}
    if not unseen:
        return None
    stories = [
        _("the store records ticket #{t} sold {times} ({buyers}), more than this run's receipts show").format(
            t=t, times=times(len(bs)), buyers=buyers(bs)
        )
        for t, bs in list(unseen.items())[:MAX_STORIES]
    ]
    if len(unseen) > MAX_STORIES:
        more = _("... and {n} more tickets the store records sold more than once")
        stories.append(more.format(n=len(unseen) - MAX_STORIES))
    witnesses = sorted({b for bs in unseen.values() for b in bs})
    return Anomaly("double_sold", len(unseen), sorted(unseen), witnesses, stories)


def oversold(f: Facts, over: int) -> Anomaly | None:
    if not over:
        return None
    story = _("{receipts} for {tickets}: {n} more sold than existed").format(
        receipts=count(f.sold, "receipt"), tickets=count(f.initial, "ticket"), n=over
    )
    return Anomaly("oversold", over, story=[story])


def double_sold(f: Facts, counter: bool) -> Anomaly | None:
    if not f.doubles:
        return None
    stories = [double_sale(t, rs, counter) for t, rs in list(f.doubles.items())[:MAX_STORIES]]
    if len(f.doubles) > MAX_STORIES:
        stories.append(_("... and {n} more tickets sold more than once").format(n=len(f.doubles) - MAX_STORIES))
    witnesses = sorted({r.buyer for rs in f.doubles.values() for r in rs})
    return Anomaly("double_sold", len(f.doubles), sorted(f.doubles), witnesses, stories)


def lost_updates(f: Facts, lost: int) -> Anomaly | None:
    if not lost:
        return None
    story = _("the store counts {sales} but buyers hold {receipts}: {lost} overwritten by a later write").format(
        sales=count(f.store_sold, "sale"), receipts=count(f.sold, "receipt"), lost=count(lost, "purchase")
    )
    return Anomaly("lost_updates", lost, story=[story])


def unreceipted(f: Facts, n: int, stuck: int) -> Anomaly | None:
    if not n:
        return None
    unknown = len(f.errors) + stuck
    note = _(" ({n} attempts ended without an answer)").format(n=unknown) if unknown else ""
    story = _("the store counts {sales} but buyers hold {receipts}: {n} nobody holds a receipt for{note}").format(
        sales=count(f.store_sold, "sale"), receipts=count(f.sold, "receipt"), n=count(n, "sale"), note=note
    )
    return Anomaly("unreceipted", n, story=[story])


def undersold(f: Facts, n: int) -> Anomaly | None:
    if not n:
        return None
    turned = sorted({a.buyer for a in f.refused})
    story = _("{tickets} left unsold while {attempts} were turned away ({buyers} found none)").format(
        tickets=count(f.remaining, "ticket"), attempts=count(len(f.refused), "attempt"), buyers=buyers(turned)
    )
    return Anomaly("undersold", n, buyers=turned, story=[story])


def errors(f: Facts) -> Anomaly | None:
    if not f.errors:
        return None
    stories = [
        _("buyer {buyer}, attempt {n}: {error}").format(buyer=a.buyer, n=a.attempt + 1, error=a.error)
        for a in f.errors[:MAX_STORIES]
    ]
    if len(f.errors) > MAX_STORIES:
        stories.append(_("... and {n} more failed attempts").format(n=len(f.errors) - MAX_STORIES))
    return Anomaly("errors", len(f.errors), buyers=sorted({a.buyer for a in f.errors}), story=stories)


def stuck(history: History) -> Anomaly | None:
    if not history.stuck:
        return None
    ended = sorted(history.stuck, key=lambda e: (e.who, e.buyer))
    stories = [
        _("{who} never finished: {why}").format(who=who_is(e.who, e.buyer), why=e.reason) for e in ended[:MAX_STORIES]
    ]
    if len(ended) > MAX_STORIES:
        stories.append(_("... and {n} more").format(n=len(ended) - MAX_STORIES))
    return Anomaly("stuck", len(ended), buyers=[e.buyer for e in ended], story=stories)
