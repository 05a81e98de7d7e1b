"""A run's events for a person, a line each, as they happen: the live output.

`EventLines` is a Watcher (booking/history/watch.py): the parent's event loop tells it each look, read and
write as the buyer (or its seller) passes a point, each barrier as it opens, each buyer killed or
stuck as the parent learns it, and it prints the line at once. A finished run (the first failing run
of --runs, a run a signal stopped) is told to the same lines afterwards, in time order (`replay`).
On a pipe the lines are plain; on a terminal they are styled, and wrapped to its width.
"""

from __future__ import annotations

from collections import deque

from booking.history import Attempt, BuyerEnd, BuyerStatus, Opened
from booking.history.watch import Began
from booking.i18n.lang import _
from booking.i18n.words import buyers, count, who_is
from booking.kit.points import AFTER_READ, BEFORE_LOCK, START
from booking.render.steps import END, Step, steps
from booking.render.text import Part, Printer, cells, pad
from booking.run.result import RunResult

HEAD_LINES = 60  # printed as they come; beyond, the last TAIL_LINES are printed at the end
TAIL_LINES = 10


class EventLines:
    """Prints a run's events as they happen (a Watcher), at most HEAD_LINES of them, then its last ones."""

    def __init__(self, out: Printer, counter: bool = True) -> None:
        self.out = out
        self._counter = counter
        self._said: set[tuple[int, int, str]] = set()  # (buyer, attempt, step kind) already printed
        self._printed = 0
        self._skipped = 0
        self._tail: deque[tuple[list[Part], int]] = deque(maxlen=TAIL_LINES)
        self.queue = False  # --lock queue: the buyers' barrier lets them send their requests
        self.http = False  # --target: the endpoint's words, not the notes'
        self.own = False  # --purchase: your code's reads and writes, not the notes' search() and get()

    # -- the Watcher
    def began(self, run: Began) -> None:
        self._counter, self.queue, self.http = run.counter, run.sellers, run.config.target is not None
        self.own = run.config.purchase is not None
        seed = _seed_note(run.seed)
        c = run.config
        self.out.line(
            (header(c.buyers, run.initial, run.strategy + run.note, c.schedule.value, seed, run.store), "bold")
        )
        self.names()

    def step(self, attempt: Attempt, done: bool, t: float | None = None) -> None:
        for s in steps(attempt, self._counter):
            if done or s.kind != END:  # an attempt so far has not ended, whatever its outcome says yet
                self.say_step(s, attempt.attempt, t)

    def opened(self, gate: Opened, who: str = "buyer", together: int | None = None) -> None:
        words = gate_words(gate, who, together, self.queue, self.http)
        if words:
            self._line([(when(gate.t), "dim"), (f"-- {words}", "bold cyan")], indent(4))

    def coming(self, point: str, whom: list[int], why: str, keys: bool = False) -> None:
        """--step: what the barrier about to open does, said before the run is held there (`keys`: until Enter)."""
        what = gate_words(Opened(0.0, point, whom, why), queue=self.queue, http=self.http)
        said = _("next: {what} — Enter to go on, q to stop") if keys else _("next: {what}")
        self.out.line(" " * indent(0), (said.format(what=what), "bold yellow"), indent=indent(4))

    def ended(self, end: BuyerEnd, t: float) -> None:
        killed = end.status is BuyerStatus.KILLED
        words = end.reason if killed else _("stuck: {why}").format(why=end.reason)
        self._line(_event(t, who_is(end.who, end.buyer), (words, "bold red" if killed else "bold yellow")))

    # -- lines
    def names(self) -> None:
        """The notes' names for what the lines say (an HTTP target's lines say its requests and answers)."""
        if self.http or self.own:
            return
        self.out.line(
            (
                "  " + _("as in the notes: search() sees (outside the lock), get() reads and writes"),
                "dim",
            )
        )

    def say_step(self, s: Step, attempt: int, t: float | None = None) -> None:
        """A step's line, at `t` when it was said live (a few microseconds after the step), else at its time."""
        key = (s.buyer, attempt, s.kind)
        if s.long is None or key in self._said:
            return
        self._said.add(key)
        self._line(_event(s.t if t is None else t, s.who, s.long))

    def finish(self) -> None:
        """The run is over: the last lines held back, after how many were left out."""
        if self._skipped:
            more = _("  ... {n} more events (--history FILE keeps all of them)").format(n=self._skipped)
            self.out.line((more, "dim"))
        for parts, indent in self._tail:
            self.out.line(*parts, indent=indent)
        self._tail.clear()

    def _line(self, parts: list[Part], at: int | None = None) -> None:
        at = indent(11) if at is None else at  # after the time column and who: '{who:<10} '
        if self._printed < HEAD_LINES:
            self._printed += 1
            self.out.line(*parts, indent=at)
            return
        if len(self._tail) == TAIL_LINES:
            self._skipped += 1
        self._tail.append((parts, at))


def when(t: float) -> str:
    """An event line's time column: '  {ms:8.1f} ms  ', the unit in the language spoken."""
    return f"  {t * 1000:8.1f} {_('ms')}  "


def indent(words: int) -> int:
    """Where an event's (or a barrier's) words start, after the time column and `words` columns."""
    return cells(when(0.0)) + words


def _event(t: float, who: str, words: str | tuple[str, str]) -> list[Part]:
    return [f"{when(t)}{pad(who, 10)} ", words]


def header(n: int, initial: int, strategy: str, schedule: str, seed: str, store: str) -> str:
    """A run's first line: who races for what, under which strategy and schedule, on which store."""
    return _("{buyers}, {tickets}, strategy {strategy}, {schedule} schedule{seed}, store {store}").format(
        buyers=count(n, "buyer"),
        tickets=count(initial, "ticket"),
        strategy=strategy,
        schedule=schedule,
        seed=seed,
        store=store,
    )


def _seed_note(seed: int | None) -> str:
    if seed is None:
        return ""
    return _(" (seed {seed}: --seed {seed} gives this order again)").format(seed=seed)


def gate_words(
    gate: Opened, who: str = "buyer", together: int | None = None, queue: bool = False, http: bool = False
) -> str:
    """A barrier opening in words: who was held where, and what they do now."""
    n = len(gate.buyers)
    if gate.point == START:
        if n == 1:
            return _("the only buyer is started and ready; the start barrier opens (start-up never counts as the race)")
        return _(
            "all {buyers} are started and ready; the start barrier opens (start-up never counts as the race)"
        ).format(buyers=count(n, "buyer"))
    if who == "seller":
        if together is None:
            return _("the sellers' barrier opens: the sellers held at {point} go on").format(point=gate.point)
        held = count(together, "seller")
        if gate.point == AFTER_READ:
            if together == 1:
                return _("the only seller has read; the sellers' barrier opens: now it writes")
            return _("{sellers} have read; the sellers' barrier opens: now they write").format(sellers=held)
        if together == 1:
            return _("the only seller is at {point}; the sellers' barrier opens").format(point=gate.point)
        return _("{sellers} are at {point}; the sellers' barrier opens").format(sellers=held, point=gate.point)
    if gate.why == "next":
        return _("{buyer} goes on from {point}").format(buyer=buyers(gate.buyers), point=gate.point)
    if gate.why == "stalled" and n == 1:
        return _(
            "{buyer} waits at {point}, the others are blocked inside the purchase; the barrier opens for it"
        ).format(buyer=buyers(gate.buyers), point=gate.point)
    if gate.why == "stalled":
        return _(
            "{buyers} wait at {point}, the others are blocked inside the purchase; the barrier opens for them"
        ).format(buyers=buyers(gate.buyers), point=gate.point)
    if n == 1:
        return _only_buyer(gate.point, queue, http)
    held = count(n, "buyer")
    if gate.point == AFTER_READ:
        return _("all {buyers} have read; the barrier opens: now they write").format(buyers=held)
    if gate.point == BEFORE_LOCK and http:
        return _(
            "all {buyers} hold their request back by its last byte; the barrier opens: every last byte goes out"
        ).format(buyers=held)
    if gate.point == BEFORE_LOCK and queue:
        return _("all {buyers} have looked; the barrier opens: they all send their request at once").format(buyers=held)
    if gate.point == BEFORE_LOCK:
        return _("all {buyers} have looked; the barrier opens: they all go for the lock at once").format(buyers=held)
    return _("all {buyers} are at {point}; the barrier opens").format(buyers=held, point=gate.point)


def _only_buyer(point: str, queue: bool, http: bool) -> str:
    """A barrier held for one buyer: the single buyer's own words ("all 1 buyer have read" reads wrong)."""
    if point == AFTER_READ:
        return _("the only buyer has read; the barrier opens: now it writes")
    if point == BEFORE_LOCK and http:
        return _("the only buyer holds its request back by its last byte; the barrier opens: the last byte goes out")
    if point == BEFORE_LOCK and queue:
        return _("the only buyer has looked; the barrier opens: it sends its request")
    if point == BEFORE_LOCK:
        return _("the only buyer has looked; the barrier opens: it goes for the lock")
    return _("the only buyer is at {point}; the barrier opens").format(point=point)


def replay(result: RunResult, lines: EventLines) -> None:
    """A finished run's events, told in time order to `lines` (the header is the caller's)."""
    counter = result.kind.counts
    gates = result.history.gates
    said = [(s, a.attempt) for a in result.history.attempts for s in steps(a, counter)]
    order = [(g.t, 0, 0, i) for i, g in enumerate(gates)] + [(s.t, 1, s.buyer, i) for i, (s, _a) in enumerate(said)]
    for _t, kind, _buyer, i in sorted(order):
        if kind == 0:
            lines.opened(gates[i])
        else:
            lines.say_step(*said[i])
    for e in result.history.ends:
        if e.status is not BuyerStatus.DONE:
            lines.ended(e, result.elapsed_s)
