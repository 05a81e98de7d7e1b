"""The parent's side of a run: start the buyers, read their reports, keep the schedule, reap.

Everything a buyer tells the parent arrives on one report queue: attempts (alone or in batches),
arrivals at a schedule point, a request to be killed (fault injection), and its last word, done.
"""

from __future__ import annotations

import queue as queue_module
import time
from dataclasses import dataclass, field
from typing import Any

from booking.buyer import DONE, BuyerPlan, run_buyer
from booking.history import Attempt, BuyerEnd, BuyerStatus, History
from booking.schedule import ARRIVE, Gates, LockstepBarrier, RandomScheduler
from booking.seller import Sellers

POLL_S = 0.2  # how often the parent looks for dead buyers while no report arrives
GRACE_S = 2.0  # after the deadline: how long buyers get to stop by themselves and report
JOIN_S = 0.5  # then: how long exiting buyers get before they are terminated

ABANDONED_MP_LOCK = (
    "buyer {buyer} died holding the multiprocessing.Lock: a multiprocessing.Lock is never released when "
    "its holder dies; use file-lock or a database strategy"
)


@dataclass
class Shared:
    """What the parent made for the buyers (the queue, the gates, the locks): plain handles for fork."""

    reports: Any
    gates: Gates | None = None
    mp_lock: Any = None
    mp_holder: Any = None  # a shared int: who holds the mp-lock
    sellers: Sellers | None = None
    kill_ready: dict[int, Any] = field(default_factory=dict)  # victim -> semaphore it releases at its point


@dataclass
class Crowd:
    """Runs the buyers of one simulation to the end, or to the deadline, or to an abandoned lock."""

    ctx: Any
    plans: list[BuyerPlan]
    shared: Shared
    barrier: LockstepBarrier | RandomScheduler | None
    deadline: float
    patience: float | None = None  # your own purchase code: open the gate after a quiet spell
    victims: dict[int, str] = field(default_factory=dict)  # buyer -> the point it is killed at
    history: History = field(default_factory=History)
    aborted: str | None = None  # why the run was stopped early
    _procs: dict[int, Any] = field(default_factory=dict)
    _ended: dict[int, BuyerEnd] = field(default_factory=dict)
    _killed_at: dict[int, str] = field(default_factory=dict)

    def run(self) -> History:
        sellers = self.shared.sellers
        try:
            if sellers is not None:
                sellers.start()
            s = self.shared
            for plan in self.plans:
                link = sellers.link if sellers else None
                args = (plan, s.reports, s.gates, s.mp_lock, link, s.mp_holder, s.kill_ready.get(plan.buyer))
                p = self.ctx.Process(target=run_buyer, args=args, name=f"buyer-{plan.buyer}", daemon=True)
                p.start()
                self._procs[plan.buyer] = p
            while not self._over() and time.monotonic() < self.deadline:
                if sellers is not None:
                    sellers.watch()
                if not self._receive(min(self.deadline - time.monotonic(), POLL_S)):
                    self._notice_dead()
                    if self.barrier is not None and self.patience is not None:
                        self.barrier.open_if_quiet(self.patience)
            # Past the deadline buyers stop by themselves; keep reading so their last reports are not
            # lost (a child blocked writing to a full pipe could not exit).
            grace = time.monotonic() + GRACE_S
            while not self._over() and self.aborted is None and time.monotonic() < grace:
                if not self._receive(POLL_S / 4):
                    self._notice_dead()
        finally:
            drain_until = time.monotonic() + JOIN_S  # a done buyer's last words may still be in the pipe
            while time.monotonic() < drain_until and self._receive(0.01):
                pass
            all_done = len(self._ended) == len(self.plans)
            self._reap()
            stopped = sellers.close(drain=all_done) if sellers is not None else {}
        ends = sorted(self._ended.values(), key=lambda e: e.buyer)
        ends += [BuyerEnd(s, BuyerStatus.STUCK, why, who="seller") for s, why in sorted(stopped.items())]
        self.history.ends = ends
        return self.history

    def _over(self) -> bool:
        return self.aborted is not None or len(self._ended) == len(self.plans)

    def _receive(self, timeout: float) -> bool:
        if self.shared.kill_ready:
            self._kill_the_ready()
        try:
            message = self.shared.reports.get(timeout=timeout)
        except queue_module.Empty:
            return False
        if isinstance(message, Attempt):
            self.history.attempts.append(message)
        elif isinstance(message, list):  # a buyer's batch (booking.reporter)
            self.history.attempts.extend(message)
        elif message[0] == ARRIVE:
            if self.barrier is not None:
                self.barrier.arrive(message[1], message[2])
        elif message[0] == DONE:
            _, buyer, unfinished = message
            status = BuyerStatus.STUCK if unfinished else BuyerStatus.DONE
            self._end(buyer, BuyerEnd(buyer, status, unfinished))
        return True

    def _kill_the_ready(self) -> None:
        """Fault injection: kill the victims that reached their point and let go of the report queue."""
        for buyer, ready in self.shared.kill_ready.items():
            if buyer not in self._killed_at and ready.acquire(block=False):
                self._killed_at[buyer] = self.victims[buyer]
                self._procs[buyer].kill()
                self._procs[buyer].join(timeout=5)

    def _end(self, buyer: int, end: BuyerEnd) -> None:
        if buyer in self._ended:
            return
        self._ended[buyer] = end
        if self.barrier is not None:
            self.barrier.leave(buyer)
        if self.shared.sellers is not None and end.status is not BuyerStatus.DONE:
            self.shared.sellers.buyer_died(buyer)

    def _notice_dead(self) -> None:
        """A buyer that exited without saying it was done died: report it, and stop waiting for it."""
        holder = self.shared.mp_holder
        for buyer, p in self._procs.items():
            # Exit code 0: it said done before exiting, and that message is still on its way.
            if buyer in self._ended or p.exitcode is None or p.exitcode == 0:
                continue
            if buyer in self._killed_at:
                point = self._killed_at[buyer]
                self._end(buyer, BuyerEnd(buyer, BuyerStatus.KILLED, f"killed at {point} (injected)"))
            else:
                self._end(buyer, BuyerEnd(buyer, BuyerStatus.STUCK, f"{_how(p.exitcode)} before finishing"))
            if holder is not None and holder.value == buyer and self.aborted is None:
                self.aborted = ABANDONED_MP_LOCK.format(buyer=buyer)

    def _reap(self) -> None:
        """No child outlives the run: join with a deadline, then terminate, then kill."""
        grace = time.monotonic() + (0 if self.aborted else JOIN_S)
        for p in self._procs.values():
            p.join(timeout=max(grace - time.monotonic(), 0.01))
        for buyer, p in self._procs.items():
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
                if p.is_alive():
                    p.kill()
                    p.join(timeout=1.0)
                why = "stopped with the run" if self.aborted else "still running at the deadline"
                self._ended.setdefault(buyer, BuyerEnd(buyer, BuyerStatus.STUCK, why))
            elif buyer not in self._ended:
                self._notice_dead()
                self._ended.setdefault(buyer, BuyerEnd(buyer, BuyerStatus.STUCK, "exited without saying it was done"))


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"killed by signal {-exitcode}"
    return f"exited with code {exitcode}"
