"""A buyer's side of the schedule: the points it passes, where it is held, and the race window it times.

At each named point: fault injection may fire (points.hit), the schedule may hold the buyer at its
gate, and at the strategy's window point the time is written into the attempt (`t_window`), so the
verifier can say how many buyers were inside the window together.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from booking.history import Attempt
from booking.kit import points
from booking.kit.points import AFTER_READ, BEFORE_LOCK, CRITICAL_POINTS, SCHEDULE_POINTS, START, is_statement
from booking.processes.messages import Arrive, Channel, Progress, restamp
from booking.processes.schedule import BarrierTimeout, wait_at


class Pacer:
    """Holds one buyer at its window once per attempt (lockstep), at every visit of it (`every_visit`: your
    own code, whose retries must conflict as hard as its first try), or at every schedule point (random).

    Lockstep with every visit is in rounds: in round r every buyer still in its purchase is held at its
    r-th visit until all have arrived, finished or are blocked inside (the barrier's stall rule). The
    attempt records how many times it passed its window (`tries`) and the round of its last hold."""

    def __init__(
        self,
        buyer: int,
        channel: Channel,
        gate: Connection,
        hold: bool,
        window: str,
        think_s: float,
        deadline: float,
        clock: Callable[[], float],
        random_schedule: bool = False,
        before_wait: Callable[[], None] = lambda: None,
        live: bool = False,
        every_visit: bool = False,
    ) -> None:
        self._buyer = buyer
        self._channel = channel
        self._gate = gate
        self._hold = hold  # False: never held at the window (free schedule, or the sellers are held instead)
        self._window = window
        self._think_s = think_s
        self._deadline = deadline
        self._clock = clock
        # Random schedule: hold at every schedule point outside a critical section (inside one, the
        # others would block on the lock instead of arriving); your own code's named points too.
        self._hold_all: frozenset[str] | None = None
        if random_schedule and hold:
            self._hold_all = frozenset({BEFORE_LOCK} if window == BEFORE_LOCK else SCHEDULE_POINTS)
        self._before_wait = before_wait  # send what is pending before blocking
        self._attempt: Attempt | None = None
        self._held = False
        self.live = live  # say the attempt so far at every point (live output)
        self._every_visit = every_visit  # lockstep: hold at every visit of the window, not only the first
        self._rounds = 0  # window holds so far in this buyer's run: the round it is in
        self._stamped: set[str] = set()  # the attempt's times already said (restamp)
        self.said = b""  # what the gate said when it last let this buyer go

    def begin_attempt(self, attempt: Attempt) -> None:
        self._attempt, self._held = attempt, False
        if self.live:
            self._stamped = set()  # the attempt's times already said (restamp)

    def point(self, name: str) -> None:
        if self.live:
            self.say(name)  # first: a buyer killed here has said how far it got
        if not is_statement(name):  # statements are never kill points, nor listed as points passed
            points.hit(name)  # --kill-at after-read: die here, before any barrier
        if name == self._window and self._attempt is not None:
            self._attempt.tries += 1
            if self._attempt.t_window is None:
                self._attempt.t_window = self._clock()
        if self._hold_all is not None:
            if name in self._hold_all or name not in (*SCHEDULE_POINTS, *CRITICAL_POINTS):
                self._wait(name)
        elif self._hold and self._holds_here(name):
            self._rounds += 1
            if self._attempt is not None and self._every_visit and name == self._window:
                self._attempt.round = self._rounds  # the round of its last hold at the window
            self._wait(name)
        if name == AFTER_READ and self._think_s:
            time.sleep(self._think_s)  # the notes' time.sleep(1), inside the window

    def _holds_here(self, name: str) -> bool:
        """Lockstep: the window's first visit in the attempt; with `every_visit` each visit, and each
        statement your connection runs outside the locks it holds (a `statement` point)."""
        if self._every_visit:
            return name == self._window or is_statement(name)
        return name == self._window and not self._held

    def say(self, name: str, done: bool = False) -> None:
        """Watched: say the attempt so far, stamped under the channel's order lock (live output)."""
        if self.live and self._attempt is not None:
            self._before_wait()  # the records before it first: a buyer's events arrive in order
            attempt, stamped = self._attempt, self._stamped
            self._channel.say(lambda t: Progress(restamp(attempt, t, stamped, done), name, done, t), self._clock)

    def end_attempt(self) -> None:
        # An attempt that ended before its window still takes part in the round, so rounds stay
        # aligned: every active buyer arrives exactly once per attempt.
        if self._hold and not self._held and self._hold_all is None:
            with contextlib.suppress(BarrierTimeout):  # past the deadline: the buyer stops anyway
                self._wait(self._window)

    def next_run(self, deadline: float) -> None:
        """A warm buyer's next run (processes/warm.py): its own deadline, and its rounds counted afresh."""
        self._deadline, self._rounds, self._attempt, self._held = deadline, 0, None, False

    def ready(self) -> None:
        """The start barrier: this buyer is started and warmed up; wait until everyone is."""
        self._before_wait()
        self._channel.send(Arrive(self._buyer, START))
        wait_at(self._gate, self._deadline)

    def _wait(self, name: str) -> None:
        self._held = True
        self._before_wait()
        self.said = b""
        self._channel.send(Arrive(self._buyer, name))
        self.said = wait_at(self._gate, self._deadline)
