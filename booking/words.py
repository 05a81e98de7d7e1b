"""The domain's wording, said once: what an attempt did, counts and lists of buyers, one-line errors.

Every place that puts a run into words (the run's event lines, the timeline's lanes, the
verifier's stories, the pytest failure message) takes its phrases from here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from booking.history import Attempt, Outcome
from booking.redact import redact

MAX_STORIES = 5  # stories per anomaly kind; the counts carry the rest
MAX_ERROR = 300  # characters of an error kept in a record or a line
# The distribution's name on the package index ("booking" there is someone else's project); the
# import package and the command are `booking`.
DISTRIBUTION = "booking-race-lab"


def install_hint(extra: str | None = None) -> str:
    """How to install booking (with an extra: its drivers or its report libraries)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install {DISTRIBUTION}"


def plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def count(n: int, word: str) -> str:
    """'1 ticket', '3 tickets'."""
    return f"{n} {plural(n, word)}"


def times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def ms(t: float | None) -> str:
    return "?" if t is None else f"{t * 1000:.1f} ms"


def buyers(numbers: list[int], who: str = "buyer") -> str:
    """'buyer 3', 'buyers 3 and 7', 'buyers 1, 2, 3 and 4', 'buyers 1, 2, 3, ... and 50 (50 buyers)'."""
    bs = sorted(set(numbers))
    if len(bs) == 1:
        return f"{who} {bs[0]}"
    if len(bs) <= 6:
        return f"{who}s " + ", ".join(map(str, bs[:-1])) + f" and {bs[-1]}"
    return f"{who}s " + ", ".join(map(str, bs[:3])) + f", ... and {bs[-1]} ({len(bs)} {who}s)"


def exit_status(exitcode: int | None) -> str:
    """How a process ended: 'killed by signal 9', 'exited with code 1'."""
    if exitcode is not None and exitcode < 0:
        return f"killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


def lanes_left_out(numbers: list[int]) -> str:
    """Under a lane diagram: who is not drawn, and where to find them."""
    return f"({buyers(numbers)} not shown: --history FILE keeps every attempt)"


def downgrade_loss(store: str, current: str, target: str) -> str:
    """What `booking db downgrade` would drop: said before it asks, and when it refuses."""
    what = (
        "booking's tables, every ticket and sale in them"
        if target == "base"
        else "the tables those revisions made, with their data"
    )
    return f"store {store}: stepping the schema back from revision {current} to {target} drops {what}"


def served_sale(ticket: int, who: str, processes: list[str], n: int) -> str:
    """A ticket a service (--target) sold several times, and which of its worker processes sold it."""
    if len(processes) > 1:
        return (
            f"the service sold ticket #{ticket} to {who} from {len(processes)} worker processes "
            f"({', '.join(processes)}): a cross-worker double sale, sold {times(n)}"
        )
    return f"the service sold ticket #{ticket} to {who}, all from one worker process ({processes[0]}): sold {times(n)}"


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message, secrets masked."""
    lines = str(exc).strip().splitlines()
    return redact(f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": "))[:MAX_ERROR]


def read_value(value: int | None, counter: bool) -> str:
    """What a read inside the window saw: 'count=1' or 'ticket #3 free'."""
    if counter:
        return f"count={value}"
    return f"ticket #{value} free" if value else "no free ticket"


def wrote_value(value: int | None, counter: bool) -> str:
    return f"count={value}" if counter else f"ticket #{value} taken"


@dataclass(frozen=True)
class Step:
    """One thing an attempt did: when, and how it is said in a line (`long`) and in a lane (`short`)."""

    t: float
    buyer: int
    long: str | None  # None: not an event line of its own (folded into another)
    short: str | None  # None: not shown in a lane


def steps(a: Attempt, counter: bool) -> list[Step]:
    """The look, the lock, the read, and how the attempt ended, in the order they happened."""
    out: list[Step] = []
    if a.looked is not None:
        out.append(Step(a.t_start, a.buyer, f"sees {count(a.looked, 'ticket')} left", None))
    if a.t_acquired is not None and a.lock_wait_s > 0.0005:
        out.append(Step(a.t_acquired, a.buyer, None, f"lock (waited {a.lock_wait_s * 1000:.1f}ms)"))
    if a.t_read is not None:
        out.append(Step(a.t_read, a.buyer, _read_line(a, counter), _read_lane(a, counter)))
    end = _outcome(a, counter)
    if end is not None:
        out.append(end)
    return out


def _read_line(a: Attempt, counter: bool) -> str:
    if a.read is None:
        return "reaches after-read (your race window)"
    waited = f" (waited {a.lock_wait_s * 1000:.1f} ms for the lock)" if a.t_acquired is not None else ""
    if a.queue_wait_s is not None:
        waited = f" (through the queue: waited {a.queue_wait_s * 1000:.1f} ms){waited}"
    return f"reads {read_value(a.read, counter)}{waited}"


def _read_lane(a: Attempt, counter: bool) -> str:
    if a.read is None:
        return "at after-read"
    return f"read count={a.read}" if counter else f"sees #{a.read} free"


def _outcome(a: Attempt, counter: bool) -> Step | None:
    if a.outcome is Outcome.OK and a.t_write is not None:
        if counter and a.wrote is not None:
            long, short = f"writes count={a.wrote}: bought ticket #{a.ticket}", f"write {a.wrote}, ticket #{a.ticket}"
        else:
            long, short = f"bought ticket #{a.ticket}", f"-> ticket #{a.ticket}"
        return Step(a.t_write, a.buyer, long, short)
    if a.outcome is Outcome.SOLD_OUT:
        return Step(a.t_end, a.buyer, "found no tickets left", "sold out")
    if a.outcome is Outcome.CONFLICT:
        return Step(a.t_end, a.buyer, f"gave up after {count(a.conflicts, 'conflict')}", "gave up (conflicts)")
    if a.outcome is Outcome.ERROR:
        return Step(a.t_end, a.buyer, f"failed: {a.error}", "error")
    return None


# -- the verdict: safety (an invariant of selling broken) apart from availability (a sale refused)

# A broken invariant: the run sold what it did not have, or lost track of what it sold.
BROKEN_INVARIANT = {
    "oversold": "more tickets sold than existed",
    "double_sold": "a ticket sold more than once",
    "lost_updates": "purchases the store forgot",
    "unreceipted": "sales nobody holds a receipt for",
}
# An availability cost: buyers were refused, failed or kept waiting; nothing was sold wrongly.
AVAILABILITY_COST = ("errors", "undersold", "stuck")
SAFETY_FIGURES = ("oversold", "double_sold", "lost_updates")
AVAILABILITY_FIGURES = ("errors", "undersold", "stuck")
OPTIONAL_FIGURES = {
    "unreceipted": "safety",
    "unavailable": "availability",
    "declined": "availability",
    "conflicts": "availability",
    "retries": "availability",
}


@dataclass(frozen=True)
class Judgement:
    """The verdict's first words: `head` (OK, OK by luck, UNSAFE, ...), why, and its tone."""

    head: str
    why: str
    tone: str  # good, luck, cost, unproved, bad


def judgement(
    kinds: list[str],
    by_luck: bool = False,
    strategy: str = "",
    lockstep: bool = True,
    inconclusive: str | None = None,
    stopped: bool = False,
    unavailable: bool = False,
) -> Judgement:
    """What a verdict means for a person, safety first: a broken invariant is UNSAFE; a run that was
    stuck or stopped could not be carried out; errors, refusals and unsold stock are an availability
    cost; a run that proved nothing is INCONCLUSIVE; a clean run of an unsafe strategy is OK by luck."""
    broken = [BROKEN_INVARIANT[k] for k in BROKEN_INVARIANT if k in kinds]
    if broken:
        return Judgement("UNSAFE", "an invariant is broken: " + ", ".join(broken), "bad")
    if "stuck" in kinds:
        return Judgement("STUCK", "buyers never finished: the run could not be carried out", "bad")
    if stopped:
        return Judgement("STOPPED", "the run could not be carried out (see below)", "bad")
    if unavailable:
        why = "the environment failed attempts (a deadline, a timeout, a lost server): nothing proved either way"
        return Judgement("COULD NOT RUN", why, "bad")
    if kinds:
        return Judgement(
            "SAFE, AT A COST",
            "nothing sold wrongly; buyers were refused or failed: an availability cost, not an oversell",
            "cost",
        )
    luck = f"strategy {strategy} does not prevent the race: no oversell this time was luck" if by_luck else ""
    if inconclusive:
        return Judgement("INCONCLUSIVE", "; ".join(filter(None, [inconclusive, luck])), "unproved")
    if by_luck:
        hint = "" if lockstep else " (--schedule lockstep makes the race certain)"
        return Judgement("OK by luck", luck + hint, "luck")
    return Judgement("OK", "", "good")


def is_broken_invariant(kind: str) -> bool:
    return kind in BROKEN_INVARIANT


def not_measured(unread: bool = False) -> str:
    """Figures a run on your own tables cannot give without a way to count them (`unread`: a service raced
    without --store, whose store booking does not read)."""
    if unread:
        return "remaining, lost_updates, unreceipted and undersold (receipts alone: --store reads the service's store)"
    return "remaining, lost_updates, unreceipted and undersold (your own tables: --stock MODULE:FUNCTION counts them)"


def interruption(
    signal: str, elapsed_s: float, finished: int, buyers: int, sold: int, store: str, left: int | None, kept: str | None
) -> str:
    """The one line of an interrupted run: what finished, where the store was left, where the history is."""
    where = f"store {store} left with {count(left, 'ticket')}" if left is not None else f"store {store}"
    history = f"history kept in {kept}" if kept is not None else "no history kept (--history FILE keeps one)"
    done = f"{finished} of {count(buyers, 'buyer')} finished, {count(sold, 'ticket')} sold"
    return f"interrupted by {signal} after {elapsed_s:.2f} s: {done}; {where}; {history}"


def could_not_run(failed: list[Attempt]) -> list[str]:
    """The environment's failures, grouped by what was said: '50 attempts by buyers 1, 2, ...: BarrierTimeout: ...'."""
    by_error: dict[str, list[int]] = defaultdict(list)
    for a in failed:
        by_error[a.error or "unknown"].append(a.buyer)
    return [
        f"{count(len(bs), 'attempt')} by {buyers(bs)}: {error}"
        for error, bs in sorted(by_error.items(), key=lambda kv: -len(kv[1]))[:MAX_STORIES]
    ]


def _on_hosts(rs: list[Attempt]) -> str:
    """'buyers 3 and 7', or across hosts (--run) 'buyer 3 on host a and buyers 12 and 17 on host b'."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for r in rs:
        by_host[r.host or ""].append(r.buyer)
    if len(by_host) == 1 and not rs[0].host:
        return buyers([r.buyer for r in rs])
    parts = [f"{buyers(bs)} on host {h}" for h, bs in sorted(by_host.items())]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def double_sale(ticket: int, receipts: list[Attempt], counter: bool) -> str:
    """Why `ticket` has several receipts, in plain words, from the receipts' reads and writes."""
    rs = sorted(receipts, key=lambda r: (r.t_read or 0.0, r.buyer))
    n = len(rs)
    last_read = max((r.t_read or 0.0) for r in rs)
    first_write = min((r.t_write or 0.0) for r in rs)
    who = _on_hosts(rs)
    both, either = ("both", "either") if n == 2 else ("all", "any")
    procs = sorted({str(r.served_by) for r in rs if r.served_by is not None})  # --target: the service's processes
    if procs and all(r.served_by for r in rs):
        return served_sale(ticket, who, procs, n)
    if all(r.read is None for r in rs):  # your own purchase code: only its points and receipts are known
        if all(r.t_read is not None for r in rs) and last_read < first_write:
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
