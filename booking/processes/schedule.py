"""The barrier protocol: where buyers are held, and who lets them go.

Buyers are held by the parent, never by a lock they share: a buyer killed while holding a shared
lock (a multiprocessing.Barrier or Condition) would freeze every other buyer. A held buyer tells
the parent it arrived (on the report channel) and waits on its own gate, a pipe only the parent
writes to; a release is addressed to one buyer, so no other buyer can take it.

Two holds use it. The start barrier: every buyer starts, imports, connects and warms up, says it
is ready, and all are released at once, so start-up never counts as the race. The window: in
lockstep every buyer is held at its strategy's race window until every active buyer is there.
A buyer that never arrives because it is blocked inside the purchase (your code took a lock before
its point) is told from a slow one by measuring from the release: the gate opens for those waiting
when nobody has arrived for twice as long as the arrivals so far took, and at least STALL_MIN_S.
"""

from __future__ import annotations

import contextlib
import random
import struct
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Protocol

from booking.errors import Unavailable
from booking.i18n.lang import _
from booking.processes.stepper import NO_STEPS, Stepper
from booking.strategies.target.handover import GO, Held
from booking.types import Peers

STALL_MIN_S = 0.3  # the shortest quiet spell that opens the window for those waiting
STALL_FACTOR = 2.0  # ... and it must also be this many times the time the arrivals so far took
NEXT_RUN = struct.Struct("!dd")  # on a warm buyer's gate: the next run's t0 and deadline (processes/warm.py)


class BarrierTimeout(Unavailable):
    """The other buyers did not arrive before the run's deadline."""


class Releases(Protocol):
    """What a schedule needs of the gates: let one buyer go (Gates in a run; a recorder in the tests)."""

    def release(self, buyer: int, said: bytes = GO) -> None: ...


class Gates:
    """The parent's end of every buyer's gate. `make` before a buyer starts, `release` to let it go."""

    def __init__(self, ctx: BaseContext) -> None:
        self._ctx = ctx
        self._writers: dict[int, Connection] = {}
        self.held: Held | None = None  # last bytes handed to the parent: closed with the gates

    def make(self, buyer: int) -> Connection:
        """A new gate for `buyer`: returns the end the buyer waits on (the parent closes it once the buyer has it)."""
        reader, writer = self._ctx.Pipe(duplex=False)
        self._writers[buyer] = writer
        return reader

    def release(self, buyer: int, said: bytes = GO) -> None:
        self.send(buyer, said)

    def send(self, buyer: int, data: bytes) -> None:
        with contextlib.suppress(OSError):  # the buyer died: nobody to release
            self._writers[buyer].send_bytes(data)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        if self.held is not None:
            self.held.close()


def wait_at(gate: Connection, deadline: float) -> bytes:
    """The buyer's side: block until the parent releases this buyer, or raise at the deadline; what the gate said."""
    if not gate.poll(max(deadline - time.monotonic(), 0.0)):
        raise BarrierTimeout(_("the other buyers did not reach the race window before the deadline"))
    return gate.recv_bytes()


def next_run(gate: Connection) -> tuple[float, float] | None:
    """A warm buyer's side, after its run: block until the parent sends the next run's (t0, deadline);
    None when the search is over (the parent closed the gate, or is gone)."""
    try:
        t0, deadline = NEXT_RUN.unpack(gate.recv_bytes())
    except (EOFError, OSError):
        return None
    return float(t0), float(deadline)


class _Hold:
    """What both schedules share: who is active, who waits, and the stall rule measured from the release."""

    stepper: Stepper = NO_STEPS  # --step: the parent holds the run before each opening
    held: Held | None = None  # last bytes handed over: written by the parent as the gate opens

    def __init__(self, gates: Releases, buyers: set[int], clock: Callable[[], float] = time.monotonic) -> None:
        self._gates = gates
        self._active = set(buyers)
        self._waiting: dict[int, str] = {}  # buyer -> the point it waits at
        self._clock = clock  # injectable: the stall rule is tested against a fake clock, without waiting
        self._round_start = clock()
        self._last_arrival = self._round_start
        self.opened: list[tuple[float, str, list[int], str]] = []  # (when, point, whom, why): gates opened

    def started(self, now: float) -> None:
        """The start barrier opened: the first round is measured from now."""
        self._round_start = self._last_arrival = now

    def arrive(self, buyer: int, point: str) -> None:
        if self.held is not None:  # handed over before it said it arrived: taken now, so few wait in the socket
            self.held.take()
        self._waiting[buyer] = point
        self._last_arrival = self._clock()
        self._step()

    def leave(self, buyer: int) -> None:
        """A buyer that is done, or dead, is no longer waited for (nor its last byte written)."""
        self._active.discard(buyer)
        self._waiting.pop(buyer, None)
        if self.held is not None:
            self.held.drop(buyer)
        self._step()

    def next_check(self) -> float | None:
        """When the stall rule would open the gate if nobody else arrives (None: nobody waits, or all do)."""
        if not self._waiting or self._all_waiting():
            return None
        took = self._last_arrival - self._round_start
        return self._last_arrival + max(STALL_MIN_S, STALL_FACTOR * took)

    def check_stall(self, now: float) -> None:
        """Open for those waiting when the others are blocked inside the purchase, not just slow."""
        due = self.next_check()
        if due is not None and now >= due and not self._all_waiting():
            self._open_stalled()

    def _all_waiting(self) -> bool:
        """Every active buyer waits. O(1) on most arrivals (a crowd of 2,000 arrives 2,000 times a round)."""
        if len(self._waiting) < len(self._active):
            return False
        return self._active <= self._waiting.keys()

    def _let_go(self, buyers: list[int], why: str) -> None:
        point = self._waiting[buyers[0]]
        if not self.stepper.hold(point, sorted(buyers), why):
            return  # stopped while held: the gate stays shut, the run ends
        now = self._clock()  # after the hold: the round is measured from the release
        said = self.held.write(buyers) if self.held is not None else {}  # every last byte, in one loop
        for buyer in buyers:
            self._waiting.pop(buyer, None)
            self._gates.release(buyer, said.get(buyer, GO))
        self._round_start = self._last_arrival = now
        self.opened.append((now, point, sorted(buyers), why))

    def _step(self) -> None:
        raise NotImplementedError

    def _open_stalled(self) -> None:
        raise NotImplementedError


class LockstepBarrier(_Hold):
    """Lockstep: every active buyer waits at its window; all go at once. In a run across hosts (`peers`),
    every host still buying must be at the same round's window too."""

    peers: Peers | None = None  # a run across hosts: every host's buyers wait at each round
    _round = 0

    def _step(self) -> None:
        if self._waiting and self._all_waiting() and (self.peers is None or self.peers.agree(self._round)):
            self._round += 1
            self._let_go(list(self._waiting), "all")

    def retry(self) -> None:
        """Another host arrived: this window may open now."""
        self._step()

    def _open_stalled(self) -> None:
        self._let_go(list(self._waiting), "stalled")


class RandomScheduler(_Hold):
    """`--schedule random --seed S`: one buyer runs at a time, point to point (PCT).

    Probabilistic concurrency testing: every buyer gets a seeded random priority; when all active
    buyers are held, the highest-priority one is let through to its next point; at `depth - 1`
    seeded steps the running buyer's priority drops below everyone's. For n buyers and k steps, one
    run finds a given bug of depth d with probability at least 1 / (n * k^(d-1)). The same seed
    gives the same order of points, which `order` records.
    """

    def __init__(
        self,
        gates: Releases,
        buyers: set[int],
        seed: int,
        steps_hint: int,
        depth: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(gates, buyers, clock)
        rng = random.Random(seed)
        ranks = rng.sample(range(len(buyers)), len(buyers))
        self._priority = {b: float(r) for b, r in zip(sorted(buyers), ranks, strict=True)}
        hint = max(steps_hint, 1)
        self._changes = set(rng.sample(range(1, hint + 1), min(depth - 1, hint)))
        self._running: int | None = None
        self.order: list[tuple[int, str]] = []

    def arrive(self, buyer: int, point: str) -> None:
        if self._running == buyer:
            self._running = None
        super().arrive(buyer, point)

    def leave(self, buyer: int) -> None:
        if self._running == buyer:
            self._running = None
        super().leave(buyer)

    def _step(self) -> None:
        if self._running is None and self._waiting and self._all_waiting():
            self._release()

    def _open_stalled(self) -> None:
        self._running = None  # the running one is blocked outside a point: let the best waiting one go
        self._release()

    def _release(self) -> None:
        pick = self._pick()
        self.order.append((pick, self._waiting[pick]))
        self._running = pick
        self._let_go([pick], "next")

    def _pick(self) -> int:
        pick = max(self._waiting, key=lambda b: self._priority[b])
        if len(self.order) + 1 in self._changes:
            self._priority[pick] = min(self._priority.values()) - 1  # a priority change point
            pick = max(self._waiting, key=lambda b: self._priority[b])
        return pick


class ReplayScheduler(RandomScheduler):
    """`--schedule exhaustive`: one buyer at a time, as RandomScheduler, but each choice follows a given
    prefix of choices and then takes the buyers waiting in turn (the next after the one let go last);
    every choice and the buyers it was made among, in the order it tries them, are recorded, so the
    next run can take the next alternative (stateless model checking, the way loom and Coyote
    enumerate interleavings).

    In turn, not lowest-numbered first: the first order tried is then the most interleaved one (each
    buyer one point, then the next), where a check-then-act race shows at once, and the depth-first
    search that follows varies the last choices first. Lowest first, buyer 1 ran its whole purchase
    alone in the first orders, and varying it came only after every order of the others."""

    def __init__(
        self, gates: Releases, buyers: set[int], prefix: list[int], clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(gates, buyers, seed=0, steps_hint=1, depth=1, clock=clock)
        self._prefix = prefix
        self._last: int | None = None  # the buyer let go last
        self.decisions: list[tuple[list[int], int]] = []  # (buyers waiting in the order tried, the one let go)

    def _pick(self) -> int:
        waiting = in_turn(self._waiting, self._last)
        step = len(self.decisions)
        wanted = self._prefix[step] if step < len(self._prefix) else waiting[0]
        pick = wanted if wanted in self._waiting else waiting[0]  # a replay from another program: go on
        self.decisions.append((waiting, pick))
        self._last = pick
        return pick


def in_turn(waiting: Iterable[int], last: int | None) -> list[int]:
    """The buyers waiting in the order a choice tries them: those after `last` (the one let go last), then
    the rest from the lowest, `last` itself at the end."""
    ordered = sorted(waiting)
    if last is None:
        return ordered
    return [b for b in ordered if b > last] + [b for b in ordered if b <= last]


def next_prefix(decisions: list[tuple[list[int], int]]) -> list[int] | None:
    """The choices of the next schedule to try after `decisions` (depth first), None when all were tried."""
    for i in range(len(decisions) - 1, -1, -1):
        waiting, picked = decisions[i]
        later = waiting[waiting.index(picked) + 1 :]
        if later:
            return [p for _, p in decisions[:i]] + [later[0]]
    return None


def pct_bound(buyers: int, steps: int, depth: int) -> float:
    """PCT's guarantee: one run finds a given bug of this depth with at least this probability."""
    return 1.0 / float(max(buyers, 1) * max(steps, 1) ** (depth - 1))


Barrier = LockstepBarrier | RandomScheduler  # (ReplayScheduler is a RandomScheduler)
