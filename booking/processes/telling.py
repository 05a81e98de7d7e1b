"""What the parent tells a run's watcher (booking/history/watch.py), from its event loop: nothing when none watches."""

from __future__ import annotations

from typing import Any

from booking.history import Attempt, BuyerEnd, BuyerStatus, Opened
from booking.history.watch import Watcher
from booking.processes.messages import Progress, Released
from booking.types import Barrier


class Teller:
    """The crowd's side of the live output: each report, gate and end, told once, in the order handled."""

    def __init__(self, watcher: Watcher | None, t0: float) -> None:
        self.watcher = watcher
        self._t0 = t0
        self._told = 0  # the window barrier's openings told so far
        self._seller_phases: set[int] = set()  # the sellers' barrier openings told so far

    def records(self, records: list[Attempt]) -> None:
        if self.watcher is not None:
            for record in records:
                self.watcher.step(record, True)

    def progress(self, message: Progress | Released) -> None:
        if self.watcher is None:
            return
        if isinstance(message, Progress):
            self.watcher.step(message.attempt, message.done)
        elif message.phase not in self._seller_phases:
            self._seller_phases.add(message.phase)
            self.watcher.opened(Opened(message.t, message.point, [], "all"), "seller", message.together)

    def gates(self, barrier: Barrier | None) -> None:
        """The window's barrier openings not told yet (before anything the buyers it let go say next)."""
        if self.watcher is None or barrier is None:
            return
        for t, point, whom, why in barrier.opened[self._told :]:
            self.watcher.opened(Opened(t - self._t0, point, whom, why))
        self._told = len(barrier.opened)

    def opened(self, gate: Opened) -> None:
        if self.watcher is not None:
            self.watcher.opened(gate)

    def ended(self, end: BuyerEnd, t: float) -> None:
        if self.watcher is not None and end.status is not BuyerStatus.DONE:
            self.watcher.ended(end, t)

    def seller_ended(self, seller: int, sellers: Any, t: float) -> None:
        why = sellers.killed.get(seller) or sellers.died(seller)
        if why:
            status = BuyerStatus.KILLED if seller in sellers.killed else BuyerStatus.STUCK
            self.ended(BuyerEnd(seller, status, why, who="seller"), t)
