"""The purchaser process: plain data in, Attempt records out through the parent's Queue."""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import count
from typing import Any

from booking.history import Attempt, Outcome
from booking.reporter import Reporter
from booking.schedule import AFTER_READ, BEFORE_LOCK, Phaser, Schedule
from booking.strategies import STRATEGIES, BuyerContext

DONE = "done"  # the last message a buyer sends: ("done", buyer)


@dataclass(frozen=True)
class BuyerPlan:
    """Everything a buyer needs, as plain data (engines and handles are made in the buyer)."""

    buyer: int
    store: str
    strategy: str
    attempts: int
    until_sold_out: bool
    think_s: float
    t0: float  # time.monotonic() when the run started; the clock is shared by processes on a host
    deadline: float  # time.monotonic() value
    lock_path: str | None
    isolation: str | None = None  # SQL stores: the transactions' isolation level


def run_buyer(plan: BuyerPlan, queue: Any, phaser: Phaser | None, mp_lock: Any) -> None:
    """Process target: look, then buy under the strategy, `attempts` times or until sold out."""
    from booking.stores import open_store

    info = STRATEGIES[plan.strategy]
    schedule = Schedule(phaser, BEFORE_LOCK if info.holds_lock else AFTER_READ, plan.think_s, plan.deadline)
    t0 = plan.t0

    def clock() -> float:
        return time.monotonic() - t0

    ctx = BuyerContext(plan.buyer, schedule.point, clock, plan.deadline, mp_lock, plan.lock_path)
    store = None
    reporter = Reporter(queue)  # batches records: one Queue.put per attempt cost more than a SQLite purchase
    try:
        try:
            store = open_store(plan.store, plan.isolation)
        except Exception as exc:
            queue.put(Attempt(plan.buyer, 0, Outcome.ERROR, error=_one_line(exc), t_start=clock(), t_end=clock()))
            return
        for number in count():
            if not plan.until_sold_out and number >= plan.attempts:
                break
            rec = Attempt(plan.buyer, number, t_start=clock())
            schedule.begin_attempt()
            try:
                rec.looked = store.remaining()  # the notes' search(): a look outside the lock
                info.purchase(store, ctx, rec)
            except Exception as exc:  # one failed attempt is a result to report, not a crash
                rec.outcome, rec.error = Outcome.ERROR, _one_line(exc)
            finally:
                schedule.end_attempt()
            rec.t_end = clock()
            reporter.put(rec)
            if rec.outcome is not Outcome.OK or time.monotonic() > plan.deadline:
                break  # sold out, gave up, or failed: this buyer is done
    finally:
        schedule.leave()
        if store is not None:
            store.close()
        reporter.close()
        queue.put((DONE, plan.buyer))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
