"""What an attempt did, step by step, in words: the notes' search() (it sees the stock), then get()
(it reads, checks and writes), each said as an event line and as a lane step.

The run's event lines (live as they happen, or after the run) and the timeline's lanes both take
their steps from here. With --lock queue the seller read and wrote for the buyer: those steps are
the seller's (`actor`), the look is still the buyer's.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.i18n.words import count, read_value, who_is

LOOK, LOCK, READ, END = "look", "lock", "read", "end"  # one of each at most per attempt, in this order


@dataclass(frozen=True)
class Step:
    """One thing an attempt did: when, and how it is said in a line (`long`) and in a lane (`short`)."""

    t: float
    buyer: int
    long: str | None  # None: not an event line of its own (folded into another)
    short: str | None  # None: not shown in a lane
    kind: str = ""  # LOOK, LOCK, READ or END
    seller: int | None = None  # the seller that took this step for the buyer (--lock queue)

    @property
    def actor(self) -> tuple[str, int]:
        """Who took the step: ("buyer", n) or ("seller", n); lanes are sorted by it."""
        return ("buyer", self.buyer) if self.seller is None else ("seller", self.seller)

    @property
    def who(self) -> str:
        return who_is(*self.actor)


def steps(a: Attempt, counter: bool) -> list[Step]:
    """The look, the lock, the read, and how the attempt ended, in the order they happened."""
    if a.t_sent is not None:  # an HTTP target: the endpoint's words, not the notes' search() and get()
        return _answered(a)
    out: list[Step] = []
    if a.looked is not None:
        out.append(
            Step(a.t_start, a.buyer, _("sees {tickets} left").format(tickets=count(a.looked, "ticket")), None, LOOK)
        )
    if a.t_acquired is not None and a.lock_wait_s > 0.0005:
        waited = _("lock (waited {ms}ms)").format(ms=f"{a.lock_wait_s * 1000:.1f}")
        out.append(Step(a.t_acquired, a.buyer, None, waited, LOCK, a.seller))
    if a.t_read is not None:
        out.append(Step(a.t_read, a.buyer, _read_line(a, counter), _read_lane(a, counter), READ, a.seller))
    end = _outcome(a, counter)
    if end is not None:
        out.append(end)
    return out


def _for_buyer(a: Attempt, text: str) -> str:
    """A seller's step, said with the buyer it was for."""
    if a.seller is None:
        return text
    return _("{step} for {buyer}").format(step=text, buyer=who_is("buyer", a.buyer))


def _read_line(a: Attempt, counter: bool) -> str:
    if a.read is None:
        return _("reaches after-read (your race window)")
    waited = ""
    if a.t_acquired is not None:
        waited = _(" (waited {ms} ms for the lock)").format(ms=f"{a.lock_wait_s * 1000:.1f}")
    if a.queue_wait_s is not None:
        queued = _(" (through the queue: waited {ms} ms)").format(ms=f"{a.queue_wait_s * 1000:.1f}")
        waited = queued + waited
    return _for_buyer(a, _("reads {value}").format(value=read_value(a.read, counter))) + waited


def _read_lane(a: Attempt, counter: bool) -> str:
    if a.read is None:
        return _("at after-read")
    return _("read count={n}").format(n=a.read) if counter else _("sees #{n} free").format(n=a.read)


def _outcome(a: Attempt, counter: bool) -> Step | None:
    if a.outcome is Outcome.OK and a.t_write is not None:
        buyer = who_is("buyer", a.buyer)
        if counter and a.wrote is not None:
            short = _("write {n}, ticket #{ticket}").format(n=a.wrote, ticket=a.ticket)
            long = _("writes count={n}: bought ticket #{ticket}").format(n=a.wrote, ticket=a.ticket)
            if a.seller is not None:
                long = _("writes count={n}: {buyer} bought ticket #{ticket}").format(
                    n=a.wrote, buyer=buyer, ticket=a.ticket
                )
        else:
            short = f"-> {_('ticket #{n}').format(n=a.ticket)}"
            long = _("bought ticket #{ticket}").format(ticket=a.ticket)
            if a.seller is not None:
                long = _("sells ticket #{ticket} to {buyer}").format(ticket=a.ticket, buyer=buyer)
        if a.seller is not None:
            short = f"{short} -> {buyer}"
        return Step(a.t_write, a.buyer, long, short, END, a.seller)
    if a.outcome is Outcome.SOLD_OUT:
        # A seller turns the buyer away right after its read; the attempt ends when the buyer hears of it.
        t = a.t_read if a.seller is not None and a.t_read is not None else a.t_end
        return Step(t, a.buyer, _for_buyer(a, _("found no tickets left")), _("sold out"), END, a.seller)
    if a.outcome is Outcome.CONFLICT:
        gave_up = _("gave up after {conflicts}").format(conflicts=count(a.conflicts, "conflict"))
        return Step(a.t_end, a.buyer, gave_up, _("gave up (conflicts)"), END)
    if a.outcome is Outcome.ERROR:
        return Step(a.t_end, a.buyer, _("failed: {error}").format(error=a.error), _("error"), END)
    return None


def _answered(a: Attempt) -> list[Step]:
    """An HTTP target's attempt: its request sent, then how the endpoint answered."""
    assert a.t_sent is not None
    # Its last byte written by the parent with everyone's: the barrier's line says it went, at its time;
    # the buyer, woken after, would say it late (and after answers that came meanwhile).
    sent = Step(a.t_sent, a.buyer, None if a.released else _("request sent"), _("sent"), READ)
    status = a.status
    if a.outcome is Outcome.OK:
        long = (
            _("answered {status} with ticket #{ticket}").format(status=status, ticket=a.ticket)
            if a.ticket is not None
            else _("answered {status}: a sale (no ticket id)").format(status=status)
        )
        short = f"{status} -> #{a.ticket}" if a.ticket is not None else f"{status} -> {_('sale')}"
    elif a.outcome is Outcome.SOLD_OUT:
        long, short = _("answered {status} sold out").format(status=status), f"{status} {_('sold out')}"
    elif a.outcome is Outcome.CONFLICT:
        long, short = _("answered {status} declined").format(status=status), f"{status} {_('declined')}"
    else:
        long, short = _("failed: {error}").format(error=a.error), _("error")
    return [sent, Step(a.t_write if a.t_write is not None else a.t_end, a.buyer, long, short, END)]
