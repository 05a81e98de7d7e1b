"""The purchaser process: plain data in, Attempt records out through the parent's Queue."""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import count
from typing import Any

from booking.custom import user_strategy
from booking.history import Attempt, Outcome
from booking.reporter import Reporter
from booking.schedule import AFTER_READ, BEFORE_LOCK, Gates, Schedule
from booking.strategies import STRATEGIES, BuyerContext

DONE = "done"  # the last message a buyer sends: ("done", buyer, why it did not finish or "")


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
    purchase: str | None = None  # module:function (your own purchase code)
    receipts_only: bool = False  # the store is the function's own business: booking does not open it
    random_schedule: bool = False  # hold at every point and let the parent choose who goes next
    isolation: str | None = None  # SQL stores: the transactions' isolation level


def run_buyer(plan: BuyerPlan, queue: Any, gates: Gates | None, mp_lock: Any, seller: Any = None) -> None:
    """Process target: look, then buy under the strategy, `attempts` times or until sold out."""
    from booking.stores import open_store

    info = STRATEGIES[plan.strategy] if plan.purchase is None else user_strategy(plan.purchase, plan.store)
    hold_at = BEFORE_LOCK if info.holds_lock else AFTER_READ
    # Random schedule: hold at every point outside a critical section (inside one, the others would
    # block on the lock instead of arriving).
    hold_all = None
    if plan.random_schedule:
        hold_all = frozenset({BEFORE_LOCK} if info.holds_lock else {BEFORE_LOCK, AFTER_READ})
    schedule = Schedule(plan.buyer, queue, gates, hold_at, plan.think_s, plan.deadline, hold_all)
    t0 = plan.t0

    def clock() -> float:
        return time.monotonic() - t0

    ctx = BuyerContext(plan.buyer, schedule.point, clock, plan.deadline, mp_lock, plan.lock_path, seller)
    store = None
    unfinished = ""
    reporter = Reporter(queue)  # batches records: one Queue.put per attempt cost more than a SQLite purchase
    try:
        try:
            store = None if plan.receipts_only else open_store(plan.store, plan.isolation)
            if info.setup is not None:
                info.setup(ctx)
        except Exception as exc:
            queue.put(Attempt(plan.buyer, 0, Outcome.ERROR, error=_one_line(exc), t_start=clock(), t_end=clock()))
            return
        for number in count():
            if not plan.until_sold_out and number >= plan.attempts:
                break
            rec = Attempt(plan.buyer, number, t_start=clock())
            schedule.begin_attempt()
            try:
                if store is not None:
                    rec.looked = store.remaining()  # the notes' search(): a look outside the lock
                info.purchase(store, ctx, rec)  # type: ignore[arg-type]  # receipts-only: the user's own store
            except Exception as exc:  # one failed attempt is a result to report, not a crash
                rec.outcome, rec.error = Outcome.ERROR, _one_line(exc)
            finally:
                schedule.end_attempt()
            rec.t_end = clock()
            reporter.put(rec)
            if rec.outcome is not Outcome.OK:
                break  # sold out, gave up, or failed: this buyer is done
            if time.monotonic() > plan.deadline:
                unfinished = "still buying at the deadline"
                break
    finally:
        if seller is not None:
            seller.leave(plan.buyer)  # --lock queue: this buyer sends no more requests
        if store is not None:
            store.close()
        reporter.close()
        queue.put((DONE, plan.buyer, unfinished))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
