"""Lockstep for several sellers: the race window is in the sellers, so they are the ones held.

Buyers are held by the parent (processes/schedule.py), which sees every arrival on its channel.
Sellers cannot be held that way: whether one more request can still come depends on the buyers'
requests in flight on the JoinableQueue, which the parent does not see. So the sellers share this
gate, in shared memory, and open it among themselves.
"""

from __future__ import annotations

from typing import Any

from booking.i18n.lang import _
from booking.processes.schedule import BarrierTimeout

# A buyer's state in the gate.
IDLE, WAITING, LEFT, LEFT_WAITING = 0, 1, 2, 3
# A seller's state in the gate.
OUT, IN_WINDOW, DEAD = 0, 1, 2


class SellerGate:
    """A seller waits at its window until every live seller is there, or until every request that
    could come is already there (each live buyer has one in flight and all of them are held): the
    last few requests never wait for sellers that have nothing to do. No barrier is ever inside a
    critical section: with a seller lock the window is before the lock.
    """

    def __init__(self, ctx: Any, sellers: int, buyers: int) -> None:
        self._cond = ctx.Condition(ctx.Lock())
        self._alive: Any = ctx.Value("i", sellers, lock=False)
        self._held: Any = ctx.Value("i", 0, lock=False)  # sellers waiting in the window
        self._phase: Any = ctx.Value("i", 0, lock=False)
        self._live: Any = ctx.Value("i", buyers, lock=False)  # buyers that have not left
        self._waiting: Any = ctx.Value("i", 0, lock=False)  # live buyers with a request in flight
        self._in_flight: Any = ctx.Value("i", 0, lock=False)  # requests put and not yet answered
        # per buyer: IDLE, WAITING for an answer, LEFT, LEFT_WAITING
        self._buyer: Any = ctx.Array("b", buyers + 1, lock=False)
        self._seller: Any = ctx.Array("b", sellers + 1, lock=False)  # OUT, IN_WINDOW, DEAD
        self._together: Any = ctx.Value("i", 0, lock=False)  # sellers let go at the last opening

    def submit(self, buyer: int) -> None:
        with self._cond:
            self._buyer[buyer] = WAITING
            self._waiting.value += 1
            self._in_flight.value += 1

    def answered(self, buyer: int) -> None:
        with self._cond:
            self._in_flight.value -= 1
            if self._buyer[buyer] == WAITING:
                self._buyer[buyer] = IDLE
                self._waiting.value -= 1
            elif self._buyer[buyer] == LEFT_WAITING:
                self._buyer[buyer] = LEFT
            self._open_if_ready()

    def leave(self, buyer: int) -> None:
        """A buyer is done (or dead): it will send nothing more. Idempotent."""
        with self._cond:
            state = self._buyer[buyer]
            if state in (LEFT, LEFT_WAITING):
                return
            self._live.value -= 1
            if state == WAITING:
                self._waiting.value -= 1
            self._buyer[buyer] = LEFT_WAITING if state == WAITING else LEFT
            self._open_if_ready()

    def seller_died(self, seller: int) -> None:
        with self._cond:
            if self._seller[seller] == DEAD:
                return
            self._alive.value -= 1
            if self._seller[seller] == IN_WINDOW:
                self._held.value -= 1
            self._seller[seller] = DEAD
            self._open_if_ready()

    def window(self, seller: int, timeout: float) -> tuple[int, int | None]:
        """Wait in the window until the gate opens. Returns which opening let this seller go, and how many
        sellers went together (None when the gate opened again before this seller could look)."""
        with self._cond:
            phase = self._phase.value
            self._held.value += 1
            self._seller[seller] = IN_WINDOW
            if self._open_if_ready():
                return phase + 1, self._together.value
            if not self._cond.wait_for(lambda: self._phase.value != phase, timeout=max(timeout, 0.0)):
                self._held.value -= 1
                self._seller[seller] = OUT
                raise BarrierTimeout(_("the other sellers did not reach the race window before the deadline"))
            return phase + 1, self._together.value if self._phase.value == phase + 1 else None

    def _open_if_ready(self) -> bool:
        held = self._held.value
        if held <= 0:
            return False
        everyone_here = held >= self._alive.value
        nothing_more_to_come = held >= self._in_flight.value and self._waiting.value >= self._live.value
        if not (everyone_here or nothing_more_to_come):
            return False
        self._together.value = held
        self._held.value = 0
        for s in range(len(self._seller)):
            if self._seller[s] == IN_WINDOW:
                self._seller[s] = OUT
        self._phase.value += 1
        self._cond.notify_all()
        return True
