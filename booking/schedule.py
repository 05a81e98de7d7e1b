"""Schedule points and the lockstep barrier that makes the race window a choice instead of luck.

The barrier is kept by the parent, not by a lock the buyers share: a buyer killed while holding
a shared lock (a multiprocessing.Barrier or Condition) would freeze every other buyer. Here a buyer
announces its arrival on the report queue and waits on a semaphore; the parent, which knows who is
alive and who is done, releases one token per waiting buyer once every active buyer has arrived.
"""

from __future__ import annotations

import contextlib
import time
from multiprocessing.context import BaseContext
from typing import Any

# Named points a purchase passes through. The lockstep barrier sits at one of them:
# `after-read` when no lock is held across the window (so every buyer reads before any writes),
# `before-lock` when one is (so all contend at once; never a barrier inside a critical section).
BEFORE_LOCK = "before-lock"
AFTER_READ = "after-read"
POINTS = (BEFORE_LOCK, AFTER_READ)

ARRIVE = "arrive"  # report-queue message: ("arrive", buyer)


class BarrierTimeout(Exception):
    """The other buyers did not arrive before the run's deadline."""


class Gates:
    """Two semaphores, used by alternate rounds, so a fast buyer cannot take a slow one's token."""

    def __init__(self, ctx: BaseContext) -> None:
        self.sems: tuple[Any, Any] = (ctx.Semaphore(0), ctx.Semaphore(0))


class LockstepBarrier:
    """The parent's side: counts arrivals of active buyers, opens the gate when all have arrived."""

    def __init__(self, gates: Gates, buyers: set[int]) -> None:
        self._gates = gates
        self._active = set(buyers)
        self._arrived: set[int] = set()
        self._round = 0

    def arrive(self, buyer: int) -> None:
        self._arrived.add(buyer)
        self._maybe_open()

    def leave(self, buyer: int) -> None:
        """A buyer that is done, or dead, is no longer waited for."""
        self._active.discard(buyer)
        self._arrived.discard(buyer)
        self._maybe_open()

    def _maybe_open(self) -> None:
        if self._arrived and self._arrived >= self._active:
            gate = self._gates.sems[self._round % 2]
            for _ in self._arrived:
                gate.release()
            self._arrived.clear()
            self._round += 1


class Schedule:
    """One buyer's view of the schedule: holds it at the barrier point once per attempt."""

    def __init__(
        self, buyer: int, reports: Any, gates: Gates | None, hold_at: str, think_s: float, deadline: float
    ) -> None:
        self._buyer = buyer
        self._reports = reports
        self._gates = gates
        self._hold_at = hold_at
        self._think_s = think_s
        self._deadline = deadline
        self._round = 0
        self._arrived = False

    def begin_attempt(self) -> None:
        self._arrived = False

    def point(self, name: str) -> None:
        if name == self._hold_at and not self._arrived:
            self._wait()
        if name == AFTER_READ and self._think_s:
            time.sleep(self._think_s)  # the notes' time.sleep(1), inside the window

    def end_attempt(self) -> None:
        # An attempt that ended before its barrier point still takes part in the round, so rounds
        # stay aligned: every active buyer arrives exactly once per attempt.
        if not self._arrived:
            with contextlib.suppress(BarrierTimeout):  # past the deadline: the buyer stops anyway
                self._wait()

    def _wait(self) -> None:
        self._arrived = True
        if self._gates is None:
            return
        gate = self._gates.sems[self._round % 2]
        self._round += 1
        self._reports.put((ARRIVE, self._buyer))
        if not gate.acquire(timeout=max(self._deadline - time.monotonic(), 0.0)):
            raise BarrierTimeout("the other buyers did not reach the race window before the deadline")
