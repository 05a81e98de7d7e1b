"""The parent's side of the queue strategy: start the sellers, answer for those that die, close the queue."""

from __future__ import annotations

import os
import queue as queue_module
import threading
import time
from typing import Any

from booking.history import Attempt, Outcome
from booking.i18n import lang
from booking.i18n.lang import _
from booking.i18n.words import exit_status
from booking.options.config import RunConfig, Schedule
from booking.processes import kills, signals, teardown
from booking.processes.gate import SellerGate
from booking.processes.messages import Channel
from booking.processes.seller import ANSWERED, HOLDING, Request, SellerLink, SellerPlan, run_seller
from booking.strategies import Choice, Made

WATCH_S = 0.05  # while joining the queue: how often the parent looks for dead sellers
EXIT_WAIT_S = 1.0  # a seller whose sentinel fired: how long its exit status may take to be readable
DRAIN_S = 2.0  # after the buyers are done: how long the queue gets to drain, sellers to exit


class Sellers:
    """The parent's side: starts the sellers, answers for those that die, closes the queue."""

    def __init__(self, ctx: Any, config: RunConfig, choice: Choice, t0: float, deadline: float) -> None:
        self._ctx = ctx
        self._t0 = t0
        self._deadline = deadline
        count = choice.sellers
        gate = SellerGate(ctx, count, config.buyers) if config.schedule is Schedule.LOCKSTEP and count > 1 else None
        self.link = SellerLink(ctx, count, config.buyers, gate)
        assert choice.seller_strategy is not None
        victim = config.kill_seller
        self._plans = [
            SellerPlan(
                s, config, choice.seller_strategy, t0, deadline, kills.Kill(config.kill_point) if s == victim else None
            )
            for s in range(1, count + 1)
        ]
        self._procs: dict[int, Any] = {}
        self._dead: dict[int, str] = {}
        self._closing = False
        self.missed_kill: str | None = None  # a planned seller kill whose point was never reached
        self.killed: dict[int, str] = {}  # sellers killed on purpose (--kill-seller), with where

    def start(self, made: Made, live: Channel | None = None) -> None:
        """Start every seller; `live`: the channel on which they say what they do (live output)."""
        for plan in self._plans:
            self._spawn(plan.seller, run_seller, plan, self.link, made, live)

    def _spawn(self, seller: int, target: Any, *args: Any) -> None:
        """Seller `seller`'s process, started as every child is (signals blocked, the run's language)."""
        child_args = (os.getpid(), lang.spoken(), target, *args)
        p = self._ctx.Process(target=signals.run_child, args=child_args, name=f"seller-{seller}", daemon=True)
        with signals.forking(self._ctx.get_start_method()):
            p.start()
        self._procs[seller] = p

    @property
    def sentinels(self) -> dict[int, int]:
        """Sentinel -> seller, for the parent to wait on."""
        return {p.sentinel: s for s, p in self._procs.items()}

    def died(self, seller: int) -> str:
        """How a seller that left during the run ended ("" for one still running, or one that exited cleanly)."""
        how = self._dead.get(seller, "")
        return "" if self._procs[seller].exitcode == 0 else how

    def buyer_died(self, buyer: int) -> None:
        self.link.leave(buyer)

    def exited(self, seller: int) -> None:
        """A seller's sentinel fired: read its exit status (a moment after the sentinel), then answer for it."""
        self._procs[seller].join(EXIT_WAIT_S)
        self.watch()

    def watch(self) -> None:
        """Answer for sellers that died: their request gets an error, the queue its task_done()."""
        if self._closing:
            return
        for s, p in self._procs.items():
            if s in self._dead or p.exitcode is None:
                continue
            how = (
                _("was {how}").format(how=exit_status(p.exitcode)) if (p.exitcode or 0) < 0 else exit_status(p.exitcode)
            )
            self._dead[s] = how
            kill = self._plans[s - 1].kill
            if kill is not None and (p.exitcode or 0) < 0:
                self.killed[s] = _("killed at {point} (injected)").format(point=kill.point)
            if self.link.gate is not None:
                self.link.gate.seller_died(s)
            stage, buyer, attempt = self.link.slot(s)
            if stage == HOLDING:
                self._answer_error(buyer, attempt, _("seller {n} {how} before answering").format(n=s, how=how))
            if stage in (HOLDING, ANSWERED):
                self.link.requests.task_done()  # on the dead seller's behalf: join() stays exact
        if self._procs and len(self._dead) == len(self._procs):
            dead = (_("seller {n} {how}").format(n=s, how=how) for s, how in sorted(self._dead.items()))
            self._answer_everyone(_("; ").join(dead))

    def close(self, drain: bool) -> dict[int, str]:
        """Stop the sellers. `drain`: every buyer is done, so join() the queue first (bounded).

        Returns the sellers that were still running and had to be stopped, with why.
        """
        if drain and self._procs:
            self._join_queue(min(self._deadline, time.monotonic() + DRAIN_S))
        self._closing = True
        self.link.closed.set()
        # Drained, they are idle and return within IDLE_POLL_S; at the deadline, they are stopped now.
        still = teardown.stop(list(self._procs.values()), DRAIN_S if drain else 0.05)
        why = _("still running after the last buyer") if drain else _("still running at the deadline")
        for plan in self._plans:
            if plan.kill is not None and self._procs[plan.seller].exitcode == 0:
                self.missed_kill = _("seller {n} never reached {point} in its first sale").format(
                    n=plan.seller, point=plan.kill.point
                )
        return {s: why for s, p in self._procs.items() if p in still}

    def _join_queue(self, until: float) -> None:
        # JoinableQueue.join() has no timeout: wait for it in a thread, watching for sellers that die.
        joiner = threading.Thread(target=self.link.requests.join, name="requests-join", daemon=True)
        joiner.start()
        while joiner.is_alive() and time.monotonic() < until:
            joiner.join(timeout=WATCH_S)
            self.watch()

    def _answer_error(self, buyer: int, attempt: int, reason: str) -> None:
        if self.link.answered[buyer] >= attempt + 1:
            return  # the seller answered before it died
        now = time.monotonic() - self._t0
        self.link.answer(Attempt(buyer, attempt, Outcome.ERROR, t_start=now, t_end=now, error=reason))

    def _answer_everyone(self, why: str) -> None:
        """No seller is left: take what is queued, and answer every buyer still waiting, with an error."""
        reason = _("no seller left to answer ({why})").format(why=why)
        self.link.sellerless.set()  # first: a buyer that sends after the scan below answers itself
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
