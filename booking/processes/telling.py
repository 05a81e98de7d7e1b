"""What the parent tells a run's watcher (booking/history/watch.py), from its event loop: nothing when none watches.

A watched run's lines are told in the order of their times. Buyers and sellers stamp each line under
the channel's order lock as they send it (processes/messages.py), so theirs arrive in time order and
are told at once. The parent's own lines (a barrier opening, a buyer ended) are held until no line
stamped before them can still come: until a later-stamped line arrives, or until the parent, holding
the order lock itself, has read everything already in the channel (`sync`).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from booking.history import Attempt, BuyerEnd, BuyerStatus, History, Opened
from booking.history.watch import Watcher
from booking.processes.messages import Progress, Records, Released
from booking.types import Barrier


class Teller:
    """The crowd's side of the live output: each report, gate and end, told once, in time order."""

    def __init__(self, watcher: Watcher | None, t0: float, order: Any = None) -> None:
        self.watcher = watcher
        self._t0 = t0
        # The channel's order lock: buyers say every line, stamped (Progress), and their records add none.
        # None (no watcher, or a --duration run): lines are told as they are handled.
        self._order = order
        self._live = order is not None
        self._told = 0  # the window barrier's openings told so far
        self._seller_phases: set[int] = set()  # the sellers' barrier openings told so far
        self._held: list[tuple[float, int, Callable[[], None]]] = []  # the parent's lines, by time
        self._syncing = False
        self._ties = itertools.count()
        self._unread: list[Attempt | Records] = []  # records received, not yet in the history (rebuild)

    def records(self, message: Attempt | Records, history: History) -> None:
        """A buyer's records: into the history, and told as they come when watched. Unwatched they are kept
        as they came and rebuilt once the run is over (`rebuild`): on a small machine the parent's work
        during the race is CPU taken from the buyers and from the store they race on."""
        self._unread.append(message)
        if self.watcher is not None:
            self.rebuild(history)

    def rebuild(self, history: History) -> None:
        """The records received so far, into the history in the order they came (told, if watched)."""
        for message in self._unread:
            records = message.attempts() if isinstance(message, Records) else [message]
            history.attempts.extend(records)
            if self.watcher is not None and not self._live:
                for record in records:
                    self.watcher.step(record, True)
        self._unread = []

    def progress(self, message: Progress | Released) -> None:
        watcher = self.watcher
        if watcher is None:
            return
        if isinstance(message, Progress):
            self._up_to(message.t)
            watcher.step(message.attempt, message.done, message.t)
        elif message.phase not in self._seller_phases:
            self._seller_phases.add(message.phase)
            self._up_to(message.t)
            watcher.opened(Opened(message.t, message.point, [], "all"), "seller", message.together)

    def gates(self, barrier: Barrier | None) -> None:
        """The window's barrier openings not told yet (before anything the buyers it let go say next)."""
        if self.watcher is None or barrier is None:
            return
        for t, point, whom, why in barrier.opened[self._told :]:
            self.opened(Opened(t - self._t0, point, whom, why))
        self._told = len(barrier.opened)

    def opened(self, gate: Opened) -> None:
        watcher = self.watcher
        if watcher is not None:
            self._hold(gate.t, lambda: watcher.opened(gate))

    def ended(self, end: BuyerEnd, t: float) -> None:
        watcher = self.watcher
        if watcher is not None and end.status is not BuyerStatus.DONE:
            self._hold(t, lambda: watcher.ended(end, t))

    def seller_ended(self, seller: int, sellers: Any, t: float) -> None:
        why = sellers.killed.get(seller) or sellers.died(seller)
        if why:
            status = BuyerStatus.KILLED if seller in sellers.killed else BuyerStatus.STUCK
            self.ended(BuyerEnd(seller, status, why, who="seller"), t)

    def sync(self, drain: Callable[[], None]) -> None:
        """Tell the held lines if the order lock is free: holding it, read what the channel holds (every line
        stamped before now), then tell them. Never waits: a buyer holding the lock is about to send, and that
        wakes the parent's loop again."""
        if not self._held or self._syncing or self._order is None or not self._order.acquire(False):
            return
        self._syncing = True
        try:
            drain()
            self._up_to(None)
        finally:
            self._syncing = False
            self._order.release()

    def finish(self) -> None:
        """The run is over: every line still held, in time order."""
        self._up_to(None)

    def _hold(self, t: float, tell: Callable[[], None]) -> None:
        if not self._live:
            tell()
            return
        heapq.heappush(self._held, (t, next(self._ties), tell))  # equal times: in the order held

    def _up_to(self, t: float | None) -> None:
        """Tell the held lines stamped at or before `t` (None: all of them)."""
        while self._held and (t is None or self._held[0][0] <= t):
            heapq.heappop(self._held)[2]()
