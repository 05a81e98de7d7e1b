"""The purchaser process: plain data in, Attempt records out on the parent's channel."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from multiprocessing.connection import Connection

from booking.errors import unavailable
from booking.history import Attempt, Outcome
from booking.i18n.words import one_line
from booking.kit import points, printed
from booking.options.config import RunConfig
from booking.processes import kills, pauses
from booking.processes.messages import Channel, Done, Dying
from booking.processes.pacer import Pacer
from booking.processes.reporter import Reporter
from booking.processes.schedule import next_run
from booking.redact import redact
from booking.stores.base import Store
from booking.strategies import BuyerContext, Choice, Made, StrategyInfo


@dataclass(frozen=True)
class BuyerPlan:
    """Everything one buyer needs, as plain data (engines and handles are made in the buyer)."""

    buyer: int
    config: RunConfig
    choice: Choice
    t0: float  # time.monotonic() when the run started; the clock is shared by processes on a host
    deadline: float  # time.monotonic() value (a warm buyer's later runs: BuyerContext.deadline)
    kill: kills.Kill | None = None  # fault injection: where this buyer dies
    live: bool = False  # say the attempt so far at every point (a watched run: live output)
    warm: bool = False  # a search's buyer: after a run it waits for the next (processes/warm.py)


@dataclass
class Links:
    """The parent's handles every buyer shares: made before the buyers start, inherited by each."""

    channel: Channel
    made: Made


def run_buyer(plan: BuyerPlan, links: Links, gate: Connection) -> None:
    """Process target: start up, wait for everyone, then look and buy, `attempts` times or until sold out;
    a search's warm buyer then waits for its next run, and buys again, until the search is over."""
    c = plan.config
    info = plan.choice.buyer_info()
    reporter = Reporter(links.channel)
    zero = [plan.t0]  # the run's clock starts here: a warm buyer is given a new zero for each run

    def clock() -> float:
        return time.monotonic() - zero[0]

    pacer = Pacer(
        plan.buyer,
        links.channel,
        gate,
        plan.choice.holds_buyers(c.schedule),
        info.window,
        c.think_ms / 1000,
        plan.deadline,
        clock,
        random_schedule=c.schedule.one_at_a_time,
        before_wait=reporter.flush,
        live=plan.live,
        every_visit=info.every_visit,
    )
    # The store (and your code) knows this buyer by its number in the whole run: across hosts, this host's
    # buyers come after the hosts that joined before it. The mp-lock's holder record stays this process tree's.
    ctx = BuyerContext(plan.buyer + c.buyer_base, pacer.point, clock, plan.deadline, links.made, holder=plan.buyer)
    ctx.written = lambda: pacer.say("written", done=True)
    ctx.said = lambda: pacer.said
    ctx.tell = pacer.say
    stores: list[Store] = []
    unfinished, said = "", False
    try:
        if not _ready(plan, ctx, pacer, reporter, lambda: _start_up(plan, info, ctx, stores)):
            return
        unfinished = _buy(plan, info, stores[0] if stores else None, ctx, pacer, reporter, links, gate)
        while plan.warm and not unfinished:  # a search's buyer: this run is done, wait for the next
            reporter.flush()
            links.channel.send(Done(plan.buyer))
            said = True
            following = next_run(gate)
            if following is None:
                return  # the search is over
            said, (zero[0], ctx.deadline) = False, following
            pacer.next_run(ctx.deadline)
            if not _ready(plan, ctx, pacer, reporter, lambda: None):
                return
            unfinished = _buy(plan, info, stores[0] if stores else None, ctx, pacer, reporter, links, gate)
    finally:
        if links.made.seller is not None:
            links.made.seller.leave(plan.buyer)  # --lock queue: this buyer sends no more requests
        for store in stores:
            store.close()
        reporter.close()
        # Alive at the end with a kill planned at --kill-buyer: the kill never fired (chaos may miss, by design).
        missed = plan.kill.point if plan.kill is not None and c.kill_buyer == plan.buyer else None
        if not said:
            kept = printed.taken()
            links.channel.send(Done(plan.buyer, unfinished, missed, points.passed(), kept), timeout=ctx.time_left() + 5)


def _start_up(plan: BuyerPlan, info: StrategyInfo, ctx: BuyerContext, stores: list[Store]) -> None:
    """Connect and warm up before the start barrier (into `stores`), then your prepare(store)."""
    from booking.stores import open_store

    c = plan.config
    if info.opens_store and not c.receipts_only and c.store_url is not None:
        store = open_store(c.store_url, None if c.isolation is None else c.isolation.value, c.durable, c.deadline_s)
        stores.append(store)
        store.warm()  # connected and warm before the barrier: no first-time cost in the first attempt
    if info.setup is not None:
        info.setup(ctx)  # e.g. your prepare(store): its cost is start-up, never the race


def _ready(plan: BuyerPlan, ctx: BuyerContext, pacer: Pacer, reporter: Reporter, before: Callable[[], None]) -> bool:
    """`before()`, then wait at the start barrier; a failure of either is reported as one failed attempt."""
    try:
        before()
        pacer.ready()
    except BaseException as exc:  # your prepare() calling sys.exit() too
        now = ctx.clock()
        failed = Attempt(plan.buyer, 0, Outcome.ERROR, error=one_line(exc, plan.config.secrets), t_start=now, t_end=now)
        failed.unavailable = unavailable(exc)
        pacer.begin_attempt(failed)
        pacer.say("end", done=True)
        reporter.put(failed)
        return False
    return True


def _buy(
    plan: BuyerPlan,
    info: StrategyInfo,
    store: Store | None,
    ctx: BuyerContext,
    pacer: Pacer,
    reporter: Reporter,
    links: Links,
    gate: Connection,
) -> str:
    """The attempts; returns why the buyer did not finish ("" when it did)."""
    c = plan.config
    # --duration: the clock starts at this buyer's release from the start barrier, never before it.
    stop = time.monotonic() + c.duration_s if c.duration_s is not None else None
    # What every attempt asks, asked once (the loop runs once per sale: thousands a second).
    attempts = None if c.until_sold_out or c.duration_s is not None else c.attempts
    kill_at = plan.kill.attempt if plan.kill is not None else None
    looks, purchase, buyer = info.looks, info.purchase, plan.buyer
    for number in count():
        if attempts is not None and number >= attempts:
            return ""
        if stop is not None and time.monotonic() >= stop:
            return ""
        rec = Attempt(buyer, number, t_start=ctx.clock())
        if number == kill_at and plan.kill is not None:
            kills.arm(plan.kill, lambda: _let_go(reporter, links), lambda p: links.channel.send(Dying(buyer, p)))
        if number == 0 and c.pause_buyer == buyer:  # --pause-buyer: stopped at its point, then resumed
            pauses.arm(c.pause_point, buyer, links.channel, gate, ctx.deadline, reporter.flush)
        pacer.begin_attempt(rec)
        try:
            if looks and store is not None:
                rec.looked = store.remaining()  # the notes' search(): a look outside the lock
            purchase(store, ctx, rec)
        except BaseException as exc:  # one failed attempt is a result to report, not a crash (sys.exit too)
            rec.outcome, rec.error, rec.unavailable = Outcome.ERROR, one_line(exc, c.secrets), unavailable(exc)
            if c.traceback:  # --debug: where in your code it failed
                rec.trace = redact("".join(traceback.format_exception(exc)), c.secrets)
        finally:
            pacer.end_attempt()
        if rec.outcome is not Outcome.SOLD_OUT or rec.t_end < (rec.t_read or rec.t_start):
            rec.t_end = ctx.clock()  # (a sold-out attempt under a lock ended at its read, said there)
        if pacer.live:
            pacer.say("end", done=True)  # watched: how it ended, in time order with every other line
        reporter.put(rec)
        if rec.outcome is not Outcome.OK:
            return ""  # sold out, gave up, or failed: this buyer is done
        if time.monotonic() > ctx.deadline:
            return "still buying at the deadline"
    return ""


def _let_go(reporter: Reporter, links: Links) -> None:
    """Before an injected kill: nothing pending, nothing of a shared queue held."""
    reporter.close()
    if links.made.seller is not None:
        links.made.seller.let_go()
