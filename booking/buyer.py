"""The purchaser process: plain data in, Attempt records out through the parent's Queue."""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import count
from typing import Any

from booking import faults
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
    kill_at: str | None = None  # fault injection: the point where this buyer is killed ...
    kill_attempt: int = 0  # ... in this attempt (counted from 0)
    durable: bool = False  # db.json: fsync the file and its directory on every write


def run_buyer(
    plan: BuyerPlan,
    queue: Any,
    gates: Gates | None,
    mp_lock: Any,
    seller: Any = None,
    mp_holder: Any = None,
    kill_ready: Any = None,
) -> None:
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

    ctx = BuyerContext(plan.buyer, schedule.point, clock, plan.deadline, mp_lock, plan.lock_path, seller, mp_holder)
    store = None
    unfinished = ""
    reporter = Reporter(queue)  # batches records: one Queue.put per attempt cost more than a SQLite purchase
    try:
        try:
            store = None if plan.receipts_only else open_store(plan.store, plan.isolation, durable=plan.durable)
            if info.setup is not None:
                info.setup(ctx)
        except Exception as exc:
            queue.put(Attempt(plan.buyer, 0, Outcome.ERROR, error=_one_line(exc), t_start=clock(), t_end=clock()))
            return
        for number in count():
            if not plan.until_sold_out and number >= plan.attempts:
                break
            rec = Attempt(plan.buyer, number, t_start=clock())
            if plan.kill_at is not None and number == plan.kill_attempt:
                faults.arm(plan.kill_at, lambda point: _ask_to_be_killed(plan, queue, reporter, kill_ready))
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


def _ask_to_be_killed(plan: BuyerPlan, queue: Any, reporter: Reporter, kill_ready: Any) -> None:
    """At the armed point: send every report, let go of the report queue, then hold still for the SIGKILL.

    The queue's writers share one lock; a process killed while its feeder thread holds it would
    silence every other buyer. So the queue is closed and its feeder joined before the parent,
    told through this buyer's own semaphore, kills it.
    """
    reporter.close()
    queue.close()
    queue.join_thread()
    kill_ready.release()
    faults.wait_to_be_killed(plan.deadline)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
