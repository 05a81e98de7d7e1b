"""The queue strategy: buyers produce purchase requests, seller processes consume them.

The notes' producer/consumer with a JoinableQueue. A seller owns the store: it takes a request,
runs the read-check-write under its own strategy (`none` by default: with one seller nothing else
writes, so no lock is needed), and answers the buyer on the buyer's own pipe; that answer is the
buyer's receipt.

Shutdown needs no sentinel per consumer: a seller calls task_done() for every request it took,
after answering it. Once every buyer is done the parent join()s the queue (every request is
answered), sets `closed`, and idle sellers see it and return.

A seller that dies is noticed by the parent, which answers the request it held with an error and
calls task_done() on its behalf; when no seller is left, the parent answers every pending buyer.
"""

from __future__ import annotations

import os
import queue as queue_module
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from booking.buyer import _one_line
from booking.config import RunConfig, Schedule
from booking.errors import BadInput, CannotRun
from booking.history import Attempt, History, Outcome
from booking.schedule import AFTER_READ, BEFORE_LOCK, BarrierTimeout
from booking.stores.base import StoreKind
from booking.strategies import STRATEGIES, BuyerContext, StrategyInfo, get_strategy

IDLE_POLL_S = 0.02  # how often an idle seller looks whether the run is over
WATCH_S = 0.05  # how often the parent looks for dead sellers
GRACE_S = 2.0  # after the buyers are done: how long the queue gets to drain, sellers to exit
# Test-only: "S:N" makes seller S SIGKILL itself when it takes its Nth request (before answering it).
KILL_ENV = "BOOKING_TEST_KILL_SELLER"

# What a seller is doing, in its slot: what the parent must finish for it if it dies.
IDLE, HOLDING, ANSWERED = 0, 1, 2
# The fields of a buyer's Attempt that come from the seller's answer.
ANSWER_FIELDS = (
    "outcome",
    "ticket",
    "read",
    "wrote",
    "t_acquired",
    "t_read",
    "t_write",
    "lock_wait_s",
    "queue_wait_s",
    "retries",
    "conflicts",
    "error",
)


class SellerTimeout(Exception):
    """No seller answered before the run's deadline."""


@dataclass(frozen=True)
class Request:
    """One purchase request on the queue: plain data."""

    buyer: int
    attempt: int
    t_sent: float  # seconds since the run started, when the buyer put it


@dataclass(frozen=True)
class SellerPlan:
    """Everything a seller needs, as plain data (the store is opened in the seller)."""

    seller: int
    store: str
    lock: str  # the strategy the seller runs each purchase under
    think_s: float
    t0: float
    deadline: float
    lock_path: str | None
    kill_after: int  # test hook: SIGKILL itself on taking this many requests (0: never)


def seller_strategy(config: RunConfig, kind: StoreKind, info: StrategyInfo) -> StrategyInfo | None:
    """The strategy sellers write under (None when the run is not a queue run); refuses misuse."""
    if info.name != "queue":
        if config.sellers != 1 or config.seller_lock is not None:
            raise BadInput("--sellers and --seller-lock apply only to --lock queue")
        return None
    name = config.seller_lock or "none"
    if name == "queue":
        raise BadInput("--seller-lock queue: sellers cannot queue to themselves; choose a lock strategy")
    try:
        return get_strategy(name, kind)
    except BadInput as exc:
        raise BadInput(f"--seller-lock: {exc}") from None


class SellerGate:
    """Lockstep for several sellers: the race window is in the sellers, so they are the ones held.

    A seller waits at its window until every live seller is there, or until every request that
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
        # per buyer: 0 idle, 1 waiting for an answer, 2 left, 3 left while waiting
        self._buyer: Any = ctx.Array("b", buyers + 1, lock=False)
        self._seller: Any = ctx.Array("b", sellers + 1, lock=False)  # 0 out, 1 in the window, 2 dead

    def submit(self, buyer: int) -> None:
        with self._cond:
            self._buyer[buyer] = 1
            self._waiting.value += 1
            self._in_flight.value += 1

    def answered(self, buyer: int) -> None:
        with self._cond:
            self._in_flight.value -= 1
            if self._buyer[buyer] == 1:
                self._buyer[buyer] = 0
                self._waiting.value -= 1
            elif self._buyer[buyer] == 3:
                self._buyer[buyer] = 2
            self._open_if_ready()

    def leave(self, buyer: int) -> None:
        """A buyer is done (or dead): it will send nothing more. Idempotent."""
        with self._cond:
            state = self._buyer[buyer]
            if state >= 2:
                return
            self._live.value -= 1
            if state == 1:
                self._waiting.value -= 1
            self._buyer[buyer] = 3 if state == 1 else 2
            self._open_if_ready()

    def seller_died(self, seller: int) -> None:
        with self._cond:
            if self._seller[seller] == 2:
                return
            self._alive.value -= 1
            if self._seller[seller] == 1:
                self._held.value -= 1
            self._seller[seller] = 2
            self._open_if_ready()

    def window(self, seller: int, timeout: float) -> None:
        with self._cond:
            phase = self._phase.value
            self._held.value += 1
            self._seller[seller] = 1
            if self._open_if_ready():
                return
            if not self._cond.wait_for(lambda: self._phase.value != phase, timeout=max(timeout, 0.0)):
                self._held.value -= 1
                self._seller[seller] = 0
                raise BarrierTimeout("the other sellers did not reach the race window before the deadline")

    def _open_if_ready(self) -> bool:
        held = self._held.value
        if held <= 0:
            return False
        everyone_here = held >= self._alive.value
        nothing_more_to_come = held >= self._in_flight.value and self._waiting.value >= self._live.value
        if not (everyone_here or nothing_more_to_come):
            return False
        self._held.value = 0
        for s in range(len(self._seller)):
            if self._seller[s] == 1:
                self._seller[s] = 0
        self._phase.value += 1
        self._cond.notify_all()
        return True


class SellerLink:
    """What buyers and sellers share: the request queue, one reply pipe per buyer, the bookkeeping.

    The bookkeeping arrays have one writer each at a time and need no lock: `asked[b]` is written
    by buyer b, `answered[b]` by whoever answers b's one request in flight, a seller's slot by
    that seller. The parent reads them only to answer for sellers that died.
    """

    def __init__(self, ctx: Any, sellers: int, buyers: int, gate: SellerGate | None) -> None:
        self.requests: Any = ctx.JoinableQueue()
        pipes = [ctx.Pipe(duplex=False) for _ in range(buyers)]
        self.readers = [r for r, _ in pipes]
        self.writers = [w for _, w in pipes]
        self.asked: Any = ctx.Array("i", buyers + 1, lock=False)  # attempt + 1 of b's last request
        self.answered: Any = ctx.Array("i", buyers + 1, lock=False)  # attempt + 1 of b's last answer
        self.slots: Any = ctx.Array("i", 3 * (sellers + 1), lock=False)  # per seller: stage, buyer, attempt
        self.closed = ctx.Event()
        self.gate = gate

    # -- the buyer's side
    def buy(self, ctx: BuyerContext, rec: Attempt) -> None:
        """Send one request and wait for its answer; the answer fills the buyer's Attempt."""
        buyer = ctx.buyer
        if self.gate is not None:
            self.gate.submit(buyer)
        self.asked[buyer] = rec.attempt + 1
        self.requests.put(Request(buyer, rec.attempt, ctx.clock()))
        reader = self.readers[buyer - 1]
        while True:
            if not reader.poll(ctx.time_left()):
                raise SellerTimeout("no seller answered before the deadline")
            answer: Attempt = reader.recv()
            if answer.attempt == rec.attempt:
                break  # an older attempt's late duplicate (its seller died mid-answer) is dropped
        for name in ANSWER_FIELDS:
            setattr(rec, name, getattr(answer, name))

    def leave(self, buyer: int) -> None:
        if self.gate is not None:
            self.gate.leave(buyer)

    # -- the answering side (a seller, or the parent for a seller that died)
    def answer(self, rec: Attempt) -> None:
        if self.gate is not None:
            self.gate.answered(rec.buyer)
        self.answered[rec.buyer] = rec.attempt + 1
        self.writers[rec.buyer - 1].send(rec)

    def slot(self, seller: int) -> tuple[int, int, int]:
        i = 3 * seller
        return self.slots[i], self.slots[i + 1], self.slots[i + 2]

    def set_slot(self, seller: int, stage: int, req: Request | None = None) -> None:
        i = 3 * seller
        if req is not None:
            self.slots[i + 1], self.slots[i + 2] = req.buyer, req.attempt
        self.slots[i] = stage  # last: the parent trusts buyer and attempt once the stage says so


def run_seller(plan: SellerPlan, link: SellerLink, mp_lock: Any) -> None:
    """Process target: take requests until the run is closed, answer each, task_done() each."""
    from booking.stores import open_store

    info = STRATEGIES[plan.lock]
    hold_at = BEFORE_LOCK if info.holds_lock else AFTER_READ
    t0 = plan.t0

    def clock() -> float:
        return time.monotonic() - t0

    def point(name: str) -> None:
        if name == hold_at and link.gate is not None:
            link.gate.window(plan.seller, plan.deadline - time.monotonic())
        if name == AFTER_READ and plan.think_s:
            time.sleep(plan.think_s)  # the notes' time.sleep(1), inside the seller's window

    ctx = BuyerContext(0, point, clock, plan.deadline, mp_lock, plan.lock_path)
    store, broken = None, ""
    try:
        store = open_store(plan.store)
    except Exception as exc:  # answer every request with the reason rather than leave buyers waiting
        broken = _one_line(exc)
    taken = 0
    try:
        while True:
            try:
                req: Request = link.requests.get(timeout=IDLE_POLL_S)
            except queue_module.Empty:
                if link.closed.is_set() or time.monotonic() > plan.deadline:
                    return
                continue
            link.set_slot(plan.seller, HOLDING, req)
            taken += 1
            if taken == plan.kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            rec = Attempt(req.buyer, req.attempt, t_start=clock())
            rec.queue_wait_s = max(rec.t_start - req.t_sent, 0.0)
            ctx.buyer = req.buyer  # the store records the buyer who asked, not the seller
            try:
                if store is None:
                    raise CannotRun(f"seller {plan.seller} could not open the store: {broken}")
                info.purchase(store, ctx, rec)
            except Exception as exc:  # one failed purchase is an answer, not a crash
                rec.outcome, rec.error = Outcome.ERROR, _one_line(exc)
            rec.t_end = clock()
            link.answer(rec)
            link.set_slot(plan.seller, ANSWERED)
            link.requests.task_done()
            link.set_slot(plan.seller, IDLE)
    finally:
        if store is not None:
            store.close()


class Sellers:
    """The parent's side: starts the sellers, answers for those that die, closes the queue."""

    def __init__(
        self,
        ctx: Any,
        config: RunConfig,
        lock: StrategyInfo,
        t0: float,
        deadline: float,
        lock_path: str | None,
        mp_lock: Any,
    ) -> None:
        self._ctx = ctx
        self._t0 = t0
        self._deadline = deadline
        self._mp_lock = mp_lock
        count = config.sellers
        # Lockstep lines up the race window: in the sellers when there are several; with one seller
        # there is no window between sellers, so the buyers are lined up to send at once instead.
        lockstep = config.schedule is Schedule.LOCKSTEP
        gate = SellerGate(ctx, count, config.buyers) if lockstep and count > 1 else None
        self.holds_buyers = lockstep and gate is None
        self.link = SellerLink(ctx, count, config.buyers, gate)
        kill_seller, kill_after = _kill_hook()
        self._plans = [
            SellerPlan(
                s,
                config.store,
                lock.name,
                config.think_ms / 1000,
                t0,
                deadline,
                lock_path,
                kill_after if s == kill_seller else 0,
            )
            for s in range(1, count + 1)
        ]
        self._procs: dict[int, Any] = {}
        self._dead: dict[int, str] = {}
        self._closing = False
        self._next_watch = 0.0

    def start(self) -> None:
        for plan in self._plans:
            p = self._ctx.Process(
                target=run_seller, args=(plan, self.link, self._mp_lock), name=f"seller-{plan.seller}", daemon=True
            )
            p.start()
            self._procs[plan.seller] = p

    def buyer_died(self, buyer: int) -> None:
        self.link.leave(buyer)

    def watch(self, force: bool = False) -> None:
        """Answer for sellers that died: their request gets an error, the queue its task_done()."""
        now = time.monotonic()
        if self._closing or (not force and now < self._next_watch):
            return
        self._next_watch = now + WATCH_S
        for s, p in self._procs.items():
            if s in self._dead or p.exitcode is None:
                continue
            code = p.exitcode
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            self._dead[s] = how
            if self.link.gate is not None:
                self.link.gate.seller_died(s)
            stage, buyer, attempt = self.link.slot(s)
            if stage == HOLDING:
                self._answer_error(buyer, attempt, f"seller {s} {how} before answering")
            if stage in (HOLDING, ANSWERED):
                self.link.requests.task_done()  # on the dead seller's behalf: join() stays exact
        if self._procs and len(self._dead) == len(self._procs):
            self._answer_everyone("; ".join(f"seller {s} {how}" for s, how in sorted(self._dead.items())))

    def close(self, drain: bool) -> dict[int, str]:
        """Stop the sellers. `drain`: every buyer is done, so join() the queue first (bounded).

        Returns the sellers that were still running and had to be stopped, with why.
        """
        if drain and self._procs:
            self._join_queue(min(self._deadline, time.monotonic() + GRACE_S))
        self._closing = True
        self.link.closed.set()
        # Drained, they are idle and return within IDLE_POLL_S; at the deadline, they are stopped now.
        grace = time.monotonic() + (GRACE_S if drain else 0.05)
        for p in self._procs.values():
            p.join(timeout=max(grace - time.monotonic(), 0.01))
        stopped: dict[int, str] = {}
        for s, p in self._procs.items():
            if p.is_alive():
                stopped[s] = "still running at the deadline" if not drain else "still running after the last buyer"
                p.terminate()
                p.join(timeout=1.0)
            if p.is_alive():
                p.kill()
                p.join(timeout=1.0)
        return stopped

    def _join_queue(self, until: float) -> None:
        # JoinableQueue.join() has no timeout: wait for it in a thread, watching for sellers that die.
        joiner = threading.Thread(target=self.link.requests.join, name="requests-join", daemon=True)
        joiner.start()
        while joiner.is_alive() and time.monotonic() < until:
            joiner.join(timeout=WATCH_S)
            self.watch(force=True)

    def _answer_error(self, buyer: int, attempt: int, reason: str) -> None:
        if self.link.answered[buyer] >= attempt + 1:
            return  # the seller answered before it died
        now = time.monotonic() - self._t0
        self.link.answer(Attempt(buyer, attempt, Outcome.ERROR, t_start=now, t_end=now, error=reason))

    def _answer_everyone(self, why: str) -> None:
        """No seller is left: take what is queued, and answer every buyer still waiting, with an error."""
        reason = f"no seller left to answer ({why})"
        while True:
            try:
                req: Request = self.link.requests.get_nowait()
            except queue_module.Empty:
                break
            self._answer_error(req.buyer, req.attempt, reason)
            self.link.requests.task_done()
        for buyer in range(1, len(self.link.asked)):
            asked = self.link.asked[buyer]
            if asked > self.link.answered[buyer]:  # its request is still on its way through the queue
                self._answer_error(buyer, asked - 1, reason)


def wait_percentiles(history: History) -> dict[str, float] | None:
    """p50/p95/p99 of the time requests waited in the queue (None when nothing was queued)."""
    from booking.stats import percentile  # the same percentiles as booking compare's

    waits = [a.queue_wait_s for a in history.attempts if a.queue_wait_s is not None]
    if not waits:
        return None
    return {f"p{q}": round(percentile(waits, q) or 0.0, 6) for q in (50, 95, 99)}


def _kill_hook() -> tuple[int, int]:
    raw = os.environ.get(KILL_ENV, "")
    if not raw:
        return 0, 0
    try:
        seller, after = (int(part) for part in raw.split(":"))
    except ValueError:
        raise BadInput(f"{KILL_ENV} must be SELLER:N, got {raw!r}") from None
    return seller, after
