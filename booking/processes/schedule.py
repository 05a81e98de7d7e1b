"""Schedule points and the lockstep barrier that makes the race window a choice instead of luck.

The barrier is kept by the parent, not by a lock the buyers share: a buyer killed while holding
a shared lock (a multiprocessing.Barrier or Condition) would freeze every other buyer. Here a buyer
announces its arrival on the report channel and waits on a semaphore; the parent, which knows who is
alive and who is done, releases one token per waiting buyer once every active buyer has arrived.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from multiprocessing.context import BaseContext
from typing import Any

from booking import points
from booking.points import AFTER_READ, CRITICAL_POINTS, SCHEDULE_POINTS
from booking.processes.messages import Arrive, Channel


class BarrierTimeout(Exception):
    """The other buyers did not arrive before the run's deadline."""


class Gates:
    """Where held buyers wait. Lockstep: two semaphores used by alternate arrivals of each buyer (a
    buyer at its next arrival waits on the other one, so it cannot take a token meant for a buyer
    still waiting at this one). Random: one semaphore per buyer, so the parent can let one through.

    Semaphores are few on purpose: each is a memory mapping that every fork copies (measured here:
    1,001 semaphores doubled the cost of a fork, 2.7 ms against 1.3 ms).
    """

    def __init__(self, ctx: BaseContext, buyers: int, addressed: bool = False) -> None:
        self.addressed = addressed
        count = buyers + 1 if addressed else 2
        self.sems: list[Any] = [ctx.Semaphore(0) for _ in range(count)]

    def gate(self, buyer: int, arrival: int) -> Any:
        """The semaphore `buyer` waits on at its `arrival`-th arrival (counted from 0)."""
        return self.sems[buyer] if self.addressed else self.sems[arrival % 2]


class LockstepBarrier:
    """The parent's side: counts arrivals of active buyers, opens the gate when all have arrived."""

    def __init__(self, gates: Gates, buyers: set[int]) -> None:
        self._gates = gates
        self._active = set(buyers)
        self._arrived: set[int] = set()
        self._arrivals: dict[int, int] = {}  # buyer -> arrivals so far, to pick the gate it waits on
        self._last_arrival = time.monotonic()

    def arrive(self, buyer: int, point: str = "") -> None:
        self._arrived.add(buyer)
        self._last_arrival = time.monotonic()
        self._maybe_open()

    def open_if_quiet(self, patience: float) -> None:
        """Open for those waiting when nobody else arrived for `patience` seconds (the rest are blocked)."""
        if self._arrived and time.monotonic() - self._last_arrival >= patience:
            self._open()

    def leave(self, buyer: int) -> None:
        """A buyer that is done, or dead, is no longer waited for."""
        self._active.discard(buyer)
        self._arrived.discard(buyer)
        self._maybe_open()

    def _maybe_open(self) -> None:
        if self._arrived and self._arrived >= self._active:
            self._open()

    def _open(self) -> None:
        for buyer in self._arrived:
            arrival = self._arrivals.get(buyer, 0)
            self._gates.gate(buyer, arrival).release()
            self._arrivals[buyer] = arrival + 1
        self._arrived.clear()


class Pacer:
    """One buyer's side of the schedule: holds it at its point once per attempt (lockstep), or at every
    schedule point (random), and sleeps --think inside the race window."""

    def __init__(
        self,
        buyer: int,
        channel: Channel,
        gates: Gates | None,
        hold_at: str | None,
        think_s: float,
        deadline: float,
        hold_all: frozenset[str] | None = None,
        before_wait: Callable[[], None] = lambda: None,
    ) -> None:
        self._hold_all = hold_all  # random schedule: hold at each of these points, every time
        self._buyer = buyer
        self._channel = channel
        self._gates = gates
        self._hold_at = hold_at
        self._think_s = think_s
        self._deadline = deadline
        self._before_wait = before_wait  # send what is pending before blocking
        self._arrived = False
        self._arrivals = 0
        self.passed: list[str] = []  # the distinct points this buyer passed, in order

    def begin_attempt(self) -> None:
        self._arrived = False

    def point(self, name: str) -> None:
        if name not in self.passed:
            self.passed.append(name)
        points.hit(name)  # --kill-at after-read: die here, before any barrier
        if self._hold_all is not None:
            # Your own code's points are held too, except those inside its critical section.
            if name in self._hold_all or name not in (*SCHEDULE_POINTS, *CRITICAL_POINTS):
                self._wait(name)
        elif name == self._hold_at and not self._arrived:
            self._wait(name)
        if name == AFTER_READ and self._think_s:
            time.sleep(self._think_s)  # the notes' time.sleep(1), inside the window

    def end_attempt(self) -> None:
        # An attempt that ended before its barrier point still takes part in the round, so rounds
        # stay aligned: every active buyer arrives exactly once per attempt.
        if not self._arrived and self._hold_all is None and self._hold_at is not None:
            with contextlib.suppress(BarrierTimeout):  # past the deadline: the buyer stops anyway
                self._wait(self._hold_at)

    def _wait(self, name: str) -> None:
        self._arrived = True
        if self._gates is None:
            return
        gate = self._gates.gate(self._buyer, self._arrivals)
        self._arrivals += 1
        self._before_wait()
        self._channel.send(Arrive(self._buyer, name))
        if not gate.acquire(timeout=max(self._deadline - time.monotonic(), 0.0)):
            raise BarrierTimeout("the other buyers did not reach the race window before the deadline")


class RandomScheduler:
    """The parent's side of `--schedule random --seed S`: one buyer runs at a time, point to point.

    PCT-style (probabilistic concurrency testing): every buyer gets a seeded random priority; when
    all active buyers are held at a point, the highest-priority one is let through to its next
    point; at a few seeded steps the running buyer's priority drops below everyone's. The same seed
    gives the same order of points, which `order` records.
    """

    def __init__(self, gates: Gates, buyers: set[int], seed: int, steps_hint: int, changes: int = 3) -> None:
        rng = random.Random(seed)
        self._gates = gates
        self._active = set(buyers)
        ranks = rng.sample(range(len(buyers)), len(buyers))
        self._priority = {b: float(r) for b, r in zip(sorted(buyers), ranks, strict=True)}
        hint = max(steps_hint, 1)
        self._changes = set(rng.sample(range(1, hint + 1), min(changes, hint)))
        self._waiting: dict[int, str] = {}
        self._running: int | None = None
        self._last_arrival = time.monotonic()
        self.order: list[tuple[int, str]] = []

    def arrive(self, buyer: int, point: str = "") -> None:
        self._waiting[buyer] = point
        self._last_arrival = time.monotonic()
        if self._running == buyer:
            self._running = None
        self._maybe_release()

    def leave(self, buyer: int) -> None:
        self._active.discard(buyer)
        self._waiting.pop(buyer, None)
        if self._running == buyer:
            self._running = None
        self._maybe_release()

    def open_if_quiet(self, patience: float) -> None:
        """Someone is blocked outside a point (your code holds a lock): let the best waiting one go."""
        if self._waiting and time.monotonic() - self._last_arrival >= patience:
            self._running = None
            self._release()

    def _maybe_release(self) -> None:
        if self._running is None and self._waiting and self._active <= set(self._waiting):
            self._release()

    def _release(self) -> None:
        if not self._waiting:
            return
        pick = max(self._waiting, key=lambda b: self._priority[b])
        if len(self.order) + 1 in self._changes:
            self._priority[pick] = min(self._priority.values()) - 1  # a priority change point
            pick = max(self._waiting, key=lambda b: self._priority[b])
        self.order.append((pick, self._waiting.pop(pick)))
        self._running = pick
        self._gates.gate(pick, 0).release()
