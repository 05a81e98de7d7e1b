"""The parent's side of --lock queue --broker URL: start this run's sellers, restart one that dies, stop them.

The broker keeps what a dead seller held: its unacknowledged request goes back on the queue. So the
parent does not answer for a dead seller (the queue strategy's parent must: a JoinableQueue forgets);
it starts another in its place, as a supervisor would, and the broker delivers the request again.
With --sellers 0 this run starts none: `booking seller` elsewhere consumes the requests.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from booking.i18n.lang import _
from booking.i18n.words import exit_status
from booking.options.config import RunConfig
from booking.processes import kills, teardown
from booking.processes.broker import BrokerLink, BrokerSellerPlan, run_broker_seller
from booking.processes.messages import Channel
from booking.processes.sellers import Sellers
from booking.strategies import Choice, Made

EXIT_WAIT_S = 1.0  # a seller whose sentinel fired: how long its exit status may take to be readable
STOP_S = 2.0


def _seller(plan: BrokerSellerPlan, closed: Any) -> None:
    run_broker_seller(plan, closed.is_set)


class BrokerSellers(Sellers):
    """The queue's Sellers, with the broker in the JoinableQueue's place (the crowd drives both alike)."""

    def __init__(self, ctx: Any, config: RunConfig, choice: Choice, t0: float, deadline: float) -> None:
        assert config.broker is not None and config.store_url is not None and choice.seller_strategy is not None
        self._ctx = ctx
        # The buyers' SellerLink is the broker's: Made.seller takes either (the Protocol in strategies/base.py).
        self.link = BrokerLink(config.broker, uuid.uuid4().hex, config.think_ms)  # type: ignore[assignment]
        self._closed = ctx.Event()
        epoch_deadline = time.time() + (deadline - time.monotonic())
        isolation = None if config.isolation is None else config.isolation.value
        self._broker_plans = {
            s: BrokerSellerPlan(
                s, config.broker, config.store_url, choice.seller_strategy, config.idempotent, epoch_deadline,
                kills.Kill(config.kill_point) if s == config.kill_seller else None, isolation, config.deadline_s,
            )
            for s in range(1, config.sellers + 1)
        }  # fmt: skip
        self._procs: dict[int, Any] = {}
        self._dead: dict[int, str] = {}
        self._closing = False
        self.missed_kill: str | None = None
        self.killed: dict[int, str] = {}

    def start(self, made: Made, live: Channel | None = None) -> None:
        """Start this run's sellers (none with --sellers 0); they say nothing live, only what they answer."""
        for plan in list(self._broker_plans.values()):
            self._start(plan)

    def _start(self, plan: BrokerSellerPlan) -> None:
        self._spawn(plan.seller, _seller, plan, self._closed)

    @property
    def sentinels(self) -> dict[int, int]:
        return {p.sentinel: s for s, p in self._procs.items()}

    def died(self, seller: int) -> str:
        return "" if self._procs[seller].exitcode == 0 else self._dead.get(seller, "")

    def buyer_died(self, buyer: int) -> None:
        pass

    def exited(self, seller: int) -> None:
        """A seller died: say how, and start another in its place (the broker redelivers what it held)."""
        p = self._procs[seller]
        p.join(EXIT_WAIT_S)
        if self._closing or p.exitcode is None or p.exitcode == 0:
            return
        self._dead[seller] = exit_status(p.exitcode)
        plan = self._broker_plans[seller]
        if plan.kill is not None and p.exitcode < 0:
            self.killed[seller] = _("killed at {point} (injected)").format(point=plan.kill.point)
        n = max(self._broker_plans) + 1
        self._broker_plans[n] = BrokerSellerPlan(
            n, plan.broker, plan.store, plan.strategy, plan.idempotent, plan.deadline, None, plan.isolation,
            plan.timeout_s,
        )  # fmt: skip
        self._start(self._broker_plans[n])

    def watch(self) -> None:
        pass

    def close(self, drain: bool) -> dict[int, str]:
        """Stop the sellers: every buyer has its answer (or the deadline passed); nothing is left to drain."""
        self._closing = True
        self._closed.set()
        still = teardown.stop(list(self._procs.values()), STOP_S if drain else 0.05)
        for plan in self._broker_plans.values():
            if plan.kill is not None and self._procs[plan.seller].exitcode == 0:
                self.missed_kill = _("seller {n} never reached {point} in its first sale").format(
                    n=plan.seller, point=plan.kill.point
                )
        why = _("still running after the last buyer") if drain else _("still running at the deadline")
        return {s: why for s, p in self._procs.items() if p in still}
