"""Fault injection: a buyer paused at its point (--pause-buyer K --pause-at POINT --pause-ms MS).

Like a kill (kills.py), the pause lands exactly at the point: the buyer, armed there, sends what it has
to report, says `Pausing` and waits on its own gate. The parent then stops it with SIGSTOP (a garbage
collector's pause, a VM frozen, a laptop lid closed), resumes it with SIGCONT --pause-ms later and opens
its gate: the buyer goes on from the point believing nothing happened, holding whatever it held.

In lockstep, the buyer to be paused goes into the race window alone in the first round, and the others
follow once it is stopped, so someone is there to contend for what it holds: what a pause costs (a
lease lost, a lock waited for) is then shown every run, not by luck of who got there first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from booking.history import History, Paused
from booking.i18n.lang import _
from booking.kit import points
from booking.options.config import RunConfig
from booking.processes.messages import Channel, Pausing
from booking.processes.schedule import Gates, LockstepBarrier, wait_at


def arm(point: str, buyer: int, channel: Channel, gate: Connection, deadline: float, flush: Callable[[], None]) -> None:
    """In the buyer: at `point`, report, say Pausing, and wait on the gate until the parent lets it go."""

    def pause(at: str) -> None:
        flush()
        channel.send(Pausing(buyer, at))
        wait_at(gate, deadline)  # stopped here by the parent; the gate opens after SIGCONT

    points.arm(point, pause)


class PausedFirst(LockstepBarrier):
    """Lockstep, but in the first round the buyer to be paused is let into the window alone; the others
    follow once it is stopped (or came back to the window, or left, without reaching its point)."""

    def __init__(self, gates: Gates, buyers: set[int], first: int) -> None:
        super().__init__(gates, buyers)
        self._first, self._alone, self._used = first, False, False

    def _let_go(self, buyers: list[int], why: str) -> None:
        if not self._used and self._first in buyers and len(buyers) > 1:
            self._used = self._alone = True
            super()._let_go([self._first], "next")
            return
        super()._let_go(buyers, why)

    def _step(self) -> None:
        if not self._alone:
            super()._step()

    def next_check(self) -> float | None:
        return None if self._alone else super().next_check()

    def paused(self, buyer: int) -> None:
        """The parent stopped `buyer`: the others go now."""
        if self._alone and buyer == self._first:
            self._alone = False
            if self._waiting:
                super()._let_go(list(self._waiting), "all")

    def arrive(self, buyer: int, point: str) -> None:
        if buyer == self._first:
            self._alone = False  # back at the window without being paused: an ordinary round
        super().arrive(buyer, point)

    def leave(self, buyer: int) -> None:
        if buyer == self._first:
            self._alone = False
        super().leave(buyer)


def lockstep(gates: Gates, buyers: set[int], pause_buyer: int | None) -> LockstepBarrier:
    """The lockstep barrier of a run: the paused buyer first when there is one."""
    return LockstepBarrier(gates, buyers) if pause_buyer is None else PausedFirst(gates, buyers, pause_buyer)


class Pauses:
    """The parent's side: stop the buyer when it says Pausing, resume it when its time is up, record both."""

    def __init__(self, config: RunConfig, gates: Gates, barrier: Any, t0: float) -> None:
        self._pause_s, self._gates, self._barrier, self._t0 = config.pause_ms / 1000, gates, barrier, t0
        self._planned, self._point = config.pause_buyer, config.pause_point
        self._due: dict[int, tuple[int, float, Paused]] = {}  # buyer -> (pid, resume at, its record)
        self.done: list[Paused] = []

    def stop(self, message: Pausing, process: Any) -> None:
        now = time.monotonic()
        record = Paused(message.buyer, message.point, now - self._t0)
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGSTOP)
        self._due[message.buyer] = (process.pid, now + self._pause_s, record)
        if isinstance(self._barrier, PausedFirst):
            self._barrier.paused(message.buyer)

    def next_due(self) -> float | None:
        return min((at for _pid, at, _r in self._due.values()), default=None)

    def resume_due(self, now: float) -> None:
        for buyer, (_pid, at, _record) in list(self._due.items()):
            if at <= now:
                self._resume(buyer)

    def close(self, history: History) -> None:
        """The run is over: nobody is left stopped; the pauses go into the history (and one never reached)."""
        for buyer in list(self._due):
            self._resume(buyer)
        history.pauses = sorted(self.done, key=lambda p: p.t_stopped)
        if not self.done:
            said = _("--pause-at {point}: buyer {n} never reached it")
            history.missed.append(said.format(point=self._point, n=self._planned))

    def _resume(self, buyer: int) -> None:
        pid, _at, record = self._due.pop(buyer)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
        record.t_resumed = time.monotonic() - self._t0
        self._gates.release(buyer)
        self.done.append(record)
