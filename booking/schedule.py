"""Schedule points and the barrier that makes the race window a choice instead of luck."""

from __future__ import annotations

import time
from multiprocessing.context import BaseContext
from typing import Any

# Named points a purchase passes through. The lockstep barrier sits at one of them:
# `after-read` when no lock is held across the window (so every buyer reads before any writes),
# `before-lock` when one is (so all contend at once; never a barrier inside a critical section).
BEFORE_LOCK = "before-lock"
AFTER_READ = "after-read"
POINTS = (BEFORE_LOCK, AFTER_READ)


class BarrierTimeout(Exception):
    """The other buyers did not arrive before the run's deadline."""


class Phaser:
    """A reusable barrier whose parties may leave: buyers that are done (or dead) deregister.

    multiprocessing.Barrier has a fixed party count, so a buyer that finishes early (sold out)
    or dies would hold every other buyer until the deadline.
    """

    def __init__(self, ctx: BaseContext, parties: int) -> None:
        self._cond = ctx.Condition(ctx.Lock())
        self._parties: Any = ctx.Value("i", parties, lock=False)
        self._arrived: Any = ctx.Value("i", 0, lock=False)
        self._phase: Any = ctx.Value("i", 0, lock=False)

    def arrive_and_wait(self, timeout: float) -> None:
        with self._cond:
            phase = self._phase.value
            self._arrived.value += 1
            if self._arrived.value >= self._parties.value:
                self._advance()
                return
            if not self._cond.wait_for(lambda: self._phase.value != phase, timeout=max(timeout, 0.0)):
                raise BarrierTimeout("the other buyers did not reach the race window before the deadline")

    def arrive(self) -> None:
        """Count this party in for the current phase without waiting (an attempt that ended early)."""
        with self._cond:
            self._arrived.value += 1
            if self._arrived.value >= self._parties.value:
                self._advance()

    def leave(self) -> None:
        """Deregister a party for good; the phase may now be complete without it."""
        with self._cond:
            self._parties.value -= 1
            if self._parties.value > 0 and self._arrived.value >= self._parties.value:
                self._advance()

    def _advance(self) -> None:
        self._arrived.value = 0
        self._phase.value += 1
        self._cond.notify_all()


class Schedule:
    """One buyer's view of the schedule: holds it at the barrier point once per attempt."""

    def __init__(self, phaser: Phaser | None, hold_at: str, think_s: float, deadline: float) -> None:
        self._phaser = phaser
        self._hold_at = hold_at
        self._think_s = think_s
        self._deadline = deadline
        self._arrived = False

    def begin_attempt(self) -> None:
        self._arrived = False

    def point(self, name: str) -> None:
        if name == self._hold_at and self._phaser is not None and not self._arrived:
            self._arrived = True
            self._phaser.arrive_and_wait(self._deadline - time.monotonic())
        if name == AFTER_READ and self._think_s:
            time.sleep(self._think_s)  # the notes' time.sleep(1), inside the window

    def end_attempt(self) -> None:
        # An attempt that failed before its barrier point still counts in, or the others would wait.
        if self._phaser is not None and not self._arrived:
            self._arrived = True
            self._phaser.arrive()

    def leave(self) -> None:
        if self._phaser is not None:
            self._phaser.leave()
