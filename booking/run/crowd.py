"""The crowd a run starts: its buyers, and whatever the strategy declared it needs (a lock, a lock file,
sellers, a lease), made in the parent before any fork; the barrier its schedule asks for."""

from __future__ import annotations

import multiprocessing
from typing import Any

from booking.history.watch import Watcher
from booking.options.config import RunConfig, Schedule
from booking.options.validate import replay_order
from booking.processes import pauses
from booking.processes.broker_sellers import BrokerSellers
from booking.processes.buyer import BuyerPlan, Links
from booking.processes.crowd import Crowd
from booking.processes.kills import plan_kills
from booking.processes.messages import Channel
from booking.processes.schedule import Gates, LockstepBarrier, RandomScheduler, ReplayScheduler
from booking.processes.seckill import SeckillSellers
from booking.processes.sellers import Sellers
from booking.processes.stepper import NO_STEPS, Stepper
from booking.processes.warm import WarmBuyers
from booking.stores import Store, locks
from booking.stores.own import OwnTables
from booking.strategies import Choice, Made
from booking.strategies.target.handover import Held, LastBytes
from booking.strategies.target.spec import HTTP2
from booking.types import Peers


def make_crowd(
    config: RunConfig,
    choice: Choice,
    store: Store | OwnTables,
    seed: int,
    t0: float,
    peers: Peers | None = None,
    watch: Watcher | None = None,
    step: Stepper = NO_STEPS,
    warm: WarmBuyers | None = None,
) -> Crowd:
    """The buyers, and whatever the strategy declared it needs, made in the parent before any fork; a
    search's next run (`warm` kept) gets the buyers it has, with what they inherited."""
    ctx = multiprocessing.get_context(config.processes)
    deadline = t0 + config.deadline_s
    made = _made(config, choice, store, ctx) if warm is None or not warm.kept else None
    sellers = None
    if choice.needs.sellers and made is not None:
        kind = SeckillSellers if config.cache else BrokerSellers if config.broker else Sellers
        sellers = kind(ctx, config, choice, t0, deadline)
        made.seller = sellers.link
    # Watched, buyers say how far they got at every point, except in a cost run (--duration), whose
    # purchases per second would pay for it: there only their records are shown as they come.
    live = watch is not None and config.duration_s is None
    if made is not None:
        links, gates = Links(Channel(ctx, ordered=live), made), Gates(ctx)
    else:  # the kept buyers' own
        assert warm is not None and warm.links is not None and warm.gates is not None
        links, gates = warm.links, warm.gates
    buyers = set(range(1, config.buyers + 1))
    barrier: LockstepBarrier | RandomScheduler | None = None
    held = choice.holds_buyers(config.schedule)
    if held and config.schedule is Schedule.EXHAUSTIVE:
        barrier = ReplayScheduler(gates, buyers, replay_order(config))
    elif held and config.schedule is Schedule.RANDOM:
        per_buyer = config.attempts if not config.until_sold_out else config.tickets // config.buyers + 1
        barrier = RandomScheduler(gates, buyers, seed, steps_hint=config.buyers * per_buyer * 2, depth=config.depth)
    elif held:
        barrier = pauses.lockstep(gates, buyers, config.pause_buyer)
        barrier.peers = peers
    if made is not None and choice.needs.last_bytes and isinstance(barrier, LockstepBarrier):
        # The buyers hand their last bytes over (or their HTTP/2 requests); the barrier's release writes them all.
        handed = _batch(choice) if _http2(choice) else LastBytes()
        made.last_bytes, barrier.held, gates.held = handed.buyer_end, handed, handed
    kills = plan_kills(config, seed, choice.buyer_info().kill_points)
    plans = [BuyerPlan(b, config, choice, t0, deadline, kills.get(b), live, warm is not None) for b in sorted(buyers)]
    paused = pauses.Pauses(config, gates, barrier, t0) if config.pause_buyer is not None else None
    if barrier is not None:
        barrier.stepper = step
    return Crowd(ctx, plans, links, gates, barrier, deadline, sellers, peers, watch, paused, stepper=step, warm=warm)


def _batch(choice: Choice) -> Held:
    from booking.strategies.target.batch import Batch  # h2 and h11: the service extra, imported only here

    return Batch(choice.target or "", 10.0)


def _http2(choice: Choice) -> bool:
    return choice.target_spec is not None and choice.target_spec.http == HTTP2


def _made(config: RunConfig, choice: Choice, store: Store | OwnTables, ctx: Any) -> Made:
    """What the strategy declared it needs (but its sellers), made before the buyers that inherit it."""
    made = Made()
    if choice.needs.mp_lock:
        made.mp_lock, made.mp_holder = ctx.Lock(), ctx.Value("i", 0, lock=False)
    if choice.needs.lock_file:
        made.lock_path = str(locks.prepare(store.lock_path()))
        made.contenders = config.buyers + config.sellers
    made.lease_ms = config.lease_ms if choice.needs.lease else 0.0
    return made
