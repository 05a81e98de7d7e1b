"""The queue strategy's processes: sellers take requests off a JoinableQueue and answer each buyer.

The notes' producer/consumer. A seller owns the store: it takes a request, runs the read-check-write
under its own strategy (`none` by default: with one seller nothing else writes, so no lock is
needed), and answers the buyer on the buyer's own pipe; that answer is the buyer's receipt.

Shutdown needs no sentinel per consumer: a seller calls task_done() for every request it took,
after answering it. Once every buyer is done the parent join()s the queue (every request is
answered), sets `closed`, and idle sellers see it and return. A seller that dies is noticed by the
parent (processes/sellers.py), which answers for it.
"""

from __future__ import annotations

import queue as queue_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from booking.errors import CannotRun, Unavailable, unavailable
from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.kit import points
from booking.kit.points import AFTER_READ
from booking.options.config import RunConfig
from booking.processes import kills
from booking.processes.gate import SellerGate
from booking.processes.messages import Channel, Progress, Released, restamp
from booking.strategies import STRATEGIES, BuyerContext, Made

IDLE_POLL_S = 0.02  # how often an idle seller looks whether the run is over

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
    "seller",
)


class SellerTimeout(Unavailable):
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
    config: RunConfig
    strategy: str  # the strategy the seller runs each purchase under
    t0: float
    deadline: float
    kill: kills.Kill | None = None  # fault injection: where this seller dies, in its first sale


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
        self.sellerless = ctx.Event()  # every seller died: a request sent from now on has nobody to answer it
        self.gate = gate

    # -- the buyer's side
    def buy(self, ctx: BuyerContext, rec: Attempt) -> None:
        """Send one request and wait for its answer; the answer fills the buyer's Attempt."""
        buyer = ctx.buyer
        if self.gate is not None:
            self.gate.submit(buyer)
        self.asked[buyer] = rec.attempt + 1
        self.requests.put(Request(buyer, rec.attempt, ctx.clock()))
        if self.sellerless.is_set():
            # The parent sets this before it answers every buyer whose `asked` it sees: a request
            # sent after its scan would wait for nobody until the deadline.
            raise RuntimeError(_("no seller left to answer (every seller died)"))
        points.hit(points.IN_CRITICAL)  # the purchase is in the sellers' hands until the answer
        reader = self.readers[buyer - 1]
        while True:
            if not reader.poll(ctx.time_left()):
                raise SellerTimeout(_("no seller answered before the deadline"))
            answer: Attempt = reader.recv()
            if answer.attempt == rec.attempt:
                break  # an older attempt's late duplicate (its seller died mid-answer) is dropped
        for name in ANSWER_FIELDS:
            setattr(rec, name, getattr(answer, name))

    def leave(self, buyer: int) -> None:
        if self.gate is not None:
            self.gate.leave(buyer)

    def let_go(self) -> None:
        """Before this process is killed: its requests are in the pipe, the queue's feeder is gone."""
        self.requests.close()
        self.requests.join_thread()

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


def _clock(plan: SellerPlan) -> Callable[[], float]:
    return lambda: time.monotonic() - plan.t0


def _say(live: Channel | None, plan: SellerPlan, current: list[Any], name: str, done: bool = False) -> None:
    """Watched: the attempt in hand said, stamped under the channel's order lock (live output).
    `current` is [attempt, the names of its times already said] while a request is in hand."""
    if live is not None and current:
        attempt, stamped = current
        live.say(lambda t: Progress(restamp(attempt, t, stamped, done, buyer=False), name, done, t), _clock(plan))


def _pointer(
    plan: SellerPlan, link: SellerLink, window: str, current: list[Any], live: Channel | None
) -> Callable[[str], None]:
    """A seller's `point`: fault injection, the sellers' gate at its window, the think time; and, watched,
    the attempt in hand said at each point (live output)."""

    def point(name: str) -> None:
        _say(live, plan, current, name)  # first: a seller killed here has said how far it got
        points.hit(name)
        if name == window and link.gate is not None:
            phase, together = link.gate.window(plan.seller, plan.deadline - time.monotonic())
            if live is not None:
                live.say(lambda t: Released(plan.seller, name, phase, together, t), _clock(plan))
        if name == AFTER_READ and plan.config.think_ms:
            time.sleep(plan.config.think_ms / 1000)  # the notes' time.sleep(1), inside the seller's window

    return point


def run_seller(plan: SellerPlan, link: SellerLink, made: Made, live: Channel | None = None) -> None:
    """Process target: take requests until the run is closed, answer each, task_done() each. `live`: the
    parent's channel, to say what the seller does at each point as it happens (live output)."""
    from booking.stores import open_store

    c = plan.config
    info = STRATEGIES[plan.strategy]
    t0 = plan.t0
    current: list[Any] = []  # the attempt in hand, and its times already said
    point = _pointer(plan, link, info.window, current, live)
    ctx = BuyerContext(0, point, lambda: time.monotonic() - t0, plan.deadline, made, holder=-plan.seller)
    ctx.written = lambda: _say(live, plan, current, "written", done=True)
    store, broken = None, ""
    try:
        assert c.store_url is not None  # sellers never run for a service raced without --store
        store = open_store(c.store_url, None if c.isolation is None else c.isolation.value, c.durable, c.deadline_s)
        if info.setup is not None:
            info.setup(ctx)
    except Exception as exc:  # answer every request with the reason rather than leave buyers waiting
        broken = one_line(exc, c.secrets)
    if plan.kill is not None:
        kills.arm(plan.kill, lambda: None, lambda _point: None)  # the parent sees its death on its sentinel
    try:
        while True:
            try:
                req: Request = link.requests.get(timeout=IDLE_POLL_S)
            except queue_module.Empty:
                if link.closed.is_set() or time.monotonic() > plan.deadline:
                    return
                continue
            link.set_slot(plan.seller, HOLDING, req)
            rec = Attempt(req.buyer, req.attempt, t_start=ctx.clock(), seller=plan.seller)
            current[:] = [rec, set()]
            rec.queue_wait_s = max(rec.t_start - req.t_sent, 0.0)
            ctx.buyer = req.buyer  # the store records the buyer who asked, not the seller
            try:
                if store is None:
                    raise CannotRun(
                        _("seller {seller} could not open the store: {broken}").format(
                            seller=plan.seller, broken=broken
                        )
                    )
                info.purchase(store, ctx, rec)
            except Exception as exc:  # one failed purchase is an answer, not a crash
                rec.outcome, rec.error, rec.unavailable = Outcome.ERROR, one_line(exc, c.secrets), unavailable(exc)
            rec.t_end = ctx.clock()
            _say(live, plan, current, "answer", done=True)  # the sale as made, before the buyer hears of it
            link.answer(rec)
            link.set_slot(plan.seller, ANSWERED)
            link.requests.task_done()
            link.set_slot(plan.seller, IDLE)
            points.arm(None)  # a kill is planned for the first sale only
    finally:
        if store is not None:
            store.close()
