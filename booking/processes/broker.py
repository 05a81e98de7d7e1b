"""--lock queue --broker URL: buyers publish requests to a durable queue; sellers consume them with manual acks.

A request is JSON, persistent, with a correlation id naming the run, the buyer and the attempt; the
seller answers on RabbitMQ's direct reply-to, then acknowledges. Between the sale and the ack lies the
`after-sale` point: a seller killed there leaves the request unacknowledged, and the broker delivers it
again to another seller, flagged `redelivered`. Without --idempotent that seller sells it again; with
it, the request is answered from the record of what was sold (processes/inbox.py).

Times cross invocations as epoch seconds: a seller in another `booking seller` has its own start.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from booking.errors import CannotRun, Unavailable, unavailable
from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.kit import points
from booking.options.store_url import StoreURL
from booking.processes import kills
from booking.processes.inbox import Inbox, inbox_path
from booking.processes.seller import SellerTimeout
from booking.strategies import STRATEGIES, BuyerContext, Made
from booking.strategies.broker import REPLY_TO, Broker, connect, declare, pika_module

LEASE_MS = 10_000.0  # a leased seller lock's time to live (redis-lock, fenced)
CONTENDERS = 8  # file-lock backs off by how many may wait: sellers elsewhere are not counted
IDLE_POLL_S = 0.05  # how often an idle seller looks whether it should stop
TIMES = ("t_acquired", "t_read", "t_write")  # epoch seconds on the wire, the run's clock in the history
ANSWERED = "outcome ticket read wrote lock_wait_s queue_wait_s retries conflicts error unavailable seller served_by"
FIELDS: tuple[str, ...] = (*ANSWERED.split(), "redelivered", *TIMES)  # what a seller's answer carries


class BrokerLink:
    """The buyers' side (a SellerLink): publish the request, wait on direct reply-to for its answer."""

    def __init__(self, broker: str, run: str, think_ms: float) -> None:
        self.broker, self.run, self.think_ms = broker, run, think_ms
        self._conn: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_conn": None}  # each process connects on its own

    def _channel(self) -> Any:
        if self._conn is None:
            broker = Broker.parse(self.broker)
            self._conn = connect(broker, Unavailable)
            self._ch = self._conn.channel()
            declare(self._ch, broker)
            self._ch.confirm_delivery()  # the publish returns once the broker has the request
            self._ch.basic_consume(REPLY_TO, self._on_reply, auto_ack=True)
            self._queue, self._wanted, self._answer = broker.queue, "", None
        return self._ch

    def _on_reply(self, _ch: Any, _method: Any, props: Any, body: bytes) -> None:
        if props.correlation_id == self._wanted:  # an older attempt's duplicate answer is dropped
            self._answer = json.loads(body)

    def buy(self, ctx: BuyerContext, rec: Attempt) -> None:
        ch = self._channel()
        self._wanted, self._answer = f"{self.run}:{ctx.buyer}:{rec.attempt}", None
        now = time.time()
        body = {"buyer": ctx.buyer, "attempt": rec.attempt, "sent": now, "expires": now + ctx.time_left()}
        props = pika_module().BasicProperties(
            reply_to=REPLY_TO, correlation_id=self._wanted, delivery_mode=2, content_type="application/json"
        )
        ch.basic_publish("", self._queue, json.dumps({**body, "think_ms": self.think_ms}), props)
        points.hit(points.IN_CRITICAL)  # the purchase is in the sellers' hands until the answer
        while self._answer is None:
            if ctx.time_left() <= 0:
                raise SellerTimeout(_("no seller answered before the deadline"))
            self._conn.process_data_events(time_limit=min(ctx.time_left(), 1.0))
        t0_epoch = time.time() - ctx.clock()
        for name in FIELDS:
            value = self._answer.get(name)
            if name in TIMES and value is not None:
                value -= t0_epoch
            setattr(rec, name, Outcome(value) if name == "outcome" else value)

    def leave(self, buyer: int) -> None:
        pass

    def let_go(self) -> None:
        pass  # every publish was confirmed: nothing of this process's is on its way


@dataclass(frozen=True)
class BrokerSellerPlan:
    """A broker seller, as plain data: where requests come from, the store it sells from, how."""

    seller: int
    broker: str
    store: StoreURL
    strategy: str
    idempotent: bool = False
    deadline: float | None = None  # epoch seconds; None: until stopped
    kill: kills.Kill | None = None
    isolation: str | None = None
    timeout_s: float = 60.0


def run_broker_seller(
    plan: BrokerSellerPlan, stop: Callable[[], bool] = lambda: False, kind: type[Seller] | None = None
) -> int:
    """Consume requests until `stop()` or the deadline; returns how many were answered. `kind`: the
    seller that sells each one (Seller; the seckill pipeline's writes an order)."""
    from booking.stores import locks, open_store

    make = kind or Seller
    broker = Broker.parse(plan.broker)
    store = open_store(plan.store, plan.isolation, False, plan.timeout_s)
    keep = plan.idempotent and make.keeps_inbox
    inbox = Inbox(inbox_path(locks.prepare(store.lock_path()))) if keep else None
    conn = connect(broker)
    ch = conn.channel()
    declare(ch, broker)
    ch.basic_qos(prefetch_count=1)  # one unacknowledged request per seller: the one it is selling
    if plan.kill is not None:
        kills.arm(plan.kill, lambda: None, lambda _point: None)  # the parent sees its death on its sentinel
    seller = make(plan, store, inbox)
    try:
        for method, props, body in ch.consume(broker.queue, inactivity_timeout=IDLE_POLL_S):
            if method is None:
                if stop() or (plan.deadline is not None and time.time() > plan.deadline):
                    break
                continue
            answer = seller.sell(json.loads(body), props.correlation_id, method.redelivered)
            if answer is not None:
                reply = pika_module().BasicProperties(correlation_id=props.correlation_id)
                ch.basic_publish("", props.reply_to, json.dumps(answer), reply)
            ch.basic_ack(method.delivery_tag)
            points.arm(None)  # a kill is planned for the first sale only
    finally:
        if conn.is_open:
            conn.close()
        store.close()
        if inbox is not None:
            inbox.close()
    return seller.answered


class Seller:
    """One request sold (or answered from the record), as the answer's fields."""

    keeps_inbox = True  # --idempotent: the record beside the store (processes/inbox.py); False: the sale keeps it

    def __init__(self, plan: BrokerSellerPlan, store: Any, inbox: Inbox | None) -> None:
        self.plan, self.store, self.inbox = plan, store, inbox
        self.info = STRATEGIES[plan.strategy]
        self.served_by = f"{socket.gethostname()}:{os.getpid()}"
        self.answered = 0
        made = Made(lease_ms=LEASE_MS)  # what the seller's strategy needs, made here: sellers run anywhere
        if self.info.needs.lock_file:
            from booking.stores import locks

            made.lock_path, made.contenders = str(locks.prepare(store.lock_path())), CONTENDERS
        self.ctx = BuyerContext(0, self._point, time.time, time.monotonic(), made, holder=-plan.seller)
        self.think_ms = 0.0
        if self.info.setup is not None:
            self.info.setup(self.ctx)

    def _point(self, name: str) -> None:
        points.hit(name)
        if name == points.AFTER_READ and self.think_ms:
            time.sleep(self.think_ms / 1000)  # the notes' time.sleep(1), inside the seller's window

    def sell(self, req: dict[str, Any], request: str, redelivered: bool) -> dict[str, Any] | None:
        now = time.time()
        if now > req["expires"]:
            return None  # its buyer has given up: acknowledged unsold, never sold to nobody
        rec = Attempt(req["buyer"], req["attempt"], seller=self.plan.seller, served_by=self.served_by)
        rec.redelivered, rec.queue_wait_s = redelivered, max(now - req["sent"], 0.0)
        self.ctx.buyer, self.ctx.deadline = req["buyer"], time.monotonic() + req["expires"] - now
        self.think_ms = req.get("think_ms", 0.0)
        held = self.inbox.sold(request) if self.inbox is not None else None
        if held is not None:
            rec.outcome, rec.ticket = Outcome.OK, held  # sold before: answered from the record
        else:
            self._purchase(rec)
        if rec.outcome is Outcome.OK:
            if self.inbox is not None and held is None and rec.ticket is not None:
                self.inbox.record(request, rec.ticket)
            points.hit(points.AFTER_SALE)  # the sale committed (and recorded), the ack not sent
        self.answered += 1
        return {name: getattr(rec, name) for name in FIELDS}

    def _purchase(self, rec: Attempt) -> None:
        try:
            if self.store is None:
                raise CannotRun(_("seller {seller} could not open the store").format(seller=self.plan.seller))
            self.info.purchase(self.store, self.ctx, rec)
        except Exception as exc:  # one failed purchase is an answer, not a crash
            rec.outcome, rec.unavailable = Outcome.ERROR, unavailable(exc)
            rec.error = one_line(exc, self.plan.store.secrets)
