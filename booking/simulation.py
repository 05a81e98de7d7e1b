"""A run: seed the store, start the buyers, collect their history, ask the verifier."""

from __future__ import annotations

import multiprocessing
import random
import time
from dataclasses import dataclass, replace
from typing import Any

from booking.buyer import BuyerPlan
from booking.config import RunConfig, Schedule
from booking.crowd import Crowd, Shared
from booking.errors import BadInput, CannotRun
from booking.faults import IN_CRITICAL, KILL_POINTS
from booking.history import History, save
from booking.redact import redact
from booking.schedule import Gates, LockstepBarrier, RandomScheduler
from booking.seller import Sellers, seller_strategy, wait_percentiles
from booking.stores import CounterStore, FinalState, open_store, store_kind
from booking.stores.base import StoreKind
from booking.strategies import default_strategy, get_strategy
from booking.verify import Verdict, verify

# fork, chosen rather than inherited: buyers start in milliseconds and share nothing but plain data
# (Python 3.14 makes forkserver the Linux default). Engines and handles are made in each buyer.
START_METHOD = "fork"
PATIENCE_S = 0.3  # user purchase code: open the lockstep gate after this long without an arrival


@dataclass
class RunResult:
    """What a simulation produced: the config, the store's before and after, the history, the verdict."""

    config: RunConfig
    store: str  # display form (password masked)
    kind: StoreKind
    initial: int
    final: FinalState | None  # None: --receipts-only, the store is the purchase function's own
    history: History
    verdict: Verdict
    elapsed_s: float
    aborted: str | None = None  # why the run was stopped before its buyers finished (exit 3)
    seed: int | None = None  # --schedule random: the seed that gives this order of points again
    order: list[tuple[int, str]] | None = None  # --schedule random: (buyer, point) in the order let through

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def strategy(self) -> str:
        """The strategy's name, or `purchase module:function` for your own purchase code."""
        return f"purchase {self.config.purchase}" if self.config.purchase else str(self.config.strategy)

    @property
    def exit_code(self) -> int:
        if self.aborted or self.verdict.stuck:
            return 3
        return 0 if self.verdict.ok else 1

    def to_json(self) -> dict[str, Any]:
        v = self.verdict.to_json()
        return {
            "store": self.store,
            "strategy": self.strategy,
            "isolation": None if self.config.isolation is None else self.config.isolation.value,
            "schedule": self.config.schedule.value,
            "buyers": self.config.buyers,
            "tickets": self.initial,
            **{
                k: v[k]
                for k in (
                    "sold",
                    "remaining",
                    "oversold",
                    "double_sold",
                    "lost_updates",
                    "undersold",
                    "unreceipted",
                    "errors",
                    "stuck",
                    "attempts",
                    "refused",
                    "conflicts",
                    "retries",
                )
            },
            "killed": v["killed"],
            "ok": v["ok"] and not self.aborted,
            "aborted": self.aborted,
            "anomalies": v["anomalies"],
            "elapsed_s": round(self.elapsed_s, 6),
            **self._queue_json(),
            **({"seed": self.seed, "order": [f"{b}:{p}" for b, p in self.order]} if self.order is not None else {}),
        }

    def _queue_json(self) -> dict[str, Any]:
        c = self.config
        if c.strategy != "queue":
            return {}
        return {
            "sellers": c.sellers,
            "seller_lock": c.seller_lock or "none",
            "queue_wait_s": wait_percentiles(self.history),
        }


def simulate(config: RunConfig) -> RunResult:
    """Run one simulation. Raises BadInput (exit 2) or CannotRun (exit 3) before touching the store."""
    config.validate()
    kind = store_kind(config.store)
    seed = config.seed if config.seed is not None else random.randrange(1_000_000)
    if config.strategy is None:
        config = replace(config, strategy=default_strategy(kind))
    assert config.strategy is not None
    if config.schedule is Schedule.RANDOM and config.strategy == "queue" and config.purchase is None:
        raise BadInput("--schedule random does not apply to --lock queue (choose lockstep or free)")
    if config.purchase is not None:
        from booking.custom import user_strategy

        info = user_strategy(config.purchase, config.store)  # imported here first: errors are BadInput
        seller_info = None
    else:
        info = get_strategy(config.strategy, kind)
        seller_info = seller_strategy(config, kind, info)  # --lock queue: what the sellers write under
    locks = {info.name, seller_info.name if seller_info else ""}
    if config.isolation is not None and kind is StoreKind.COUNTER:
        raise BadInput("--isolation applies to SQL stores only (db.json has no transactions)")
    isolation = None if config.isolation is None else config.isolation.value
    if config.history is not None:
        _check_history_path(config)

    store = None if config.receipts_only else open_store(config.store, isolation)
    try:
        initial = config.tickets if store is None else store.prepare(None if config.keep else config.tickets)
        lock_path = str(store.lock_path()) if store is not None and "file-lock" in locks else None
        ctx = multiprocessing.get_context(START_METHOD)
        reports: Any = ctx.Queue()
        mp_lock = ctx.Lock() if "mp-lock" in locks else None
        mp_holder = ctx.Value("i", 0, lock=False) if mp_lock is not None else None

        t0 = time.monotonic()
        deadline = t0 + config.deadline_s
        sellers = None
        if seller_info is not None:
            sellers = Sellers(ctx, config, seller_info, t0, deadline, lock_path, mp_lock)
        lockstep = config.schedule is Schedule.LOCKSTEP and (sellers is None or sellers.holds_buyers)
        held = lockstep or config.schedule is Schedule.RANDOM
        gates = Gates(ctx, config.buyers, addressed=config.schedule is Schedule.RANDOM) if held else None
        buyers = set(range(1, config.buyers + 1))
        barrier: LockstepBarrier | RandomScheduler | None = None
        if config.schedule is Schedule.RANDOM and gates is not None:
            per_buyer = config.attempts if not config.until_sold_out else config.tickets // config.buyers + 1
            barrier = RandomScheduler(gates, buyers, seed, steps_hint=config.buyers * per_buyer * 2)
        elif gates is not None:
            barrier = LockstepBarrier(gates, buyers)
        kills = plan_kills(config, seed)
        plans = [
            BuyerPlan(
                b,
                config.store,
                config.strategy,
                config.attempts,
                config.until_sold_out,
                config.think_ms / 1000,
                t0,
                deadline,
                lock_path,
                config.purchase,
                config.receipts_only,
                config.schedule is Schedule.RANDOM,
                isolation,
                kill_at=kills[b][0] if b in kills else None,
                kill_attempt=kills[b][1] if b in kills else 0,
                durable=config.durable,
            )
            for b in range(1, config.buyers + 1)
        ]
        # Your own purchase code may hold a lock at its point: then the others block instead of arriving,
        # and the gate opens after a quiet spell rather than waiting for the deadline.
        patience = PATIENCE_S if config.purchase is not None else None
        kill_ready = {b: ctx.Semaphore(0) for b in kills}
        shared = Shared(reports, gates, mp_lock, mp_holder, sellers, kill_ready)
        crowd = Crowd(ctx, plans, shared, barrier, deadline, patience, {b: point for b, (point, _) in kills.items()})
        history = crowd.run()
        elapsed = time.monotonic() - t0
        if isinstance(store, CounterStore):
            store.tidy()  # temporary files of writers killed mid-write
        final = store.final() if store is not None else None
    finally:
        if store is not None:
            store.close()

    if config.history is not None:
        save(history, config.history)
    verdict = verify(initial, final, history, kind)
    display = store.display if store is not None else redact(config.store)
    result = RunResult(config, display, kind, initial, final, history, verdict, elapsed, aborted=crowd.aborted)
    if isinstance(barrier, RandomScheduler):
        result.seed, result.order = seed, barrier.order
    elif config.chaos:
        result.seed = seed
    return result


def plan_kills(config: RunConfig, seed: int) -> dict[int, tuple[str, int]]:
    """Which buyers die where (fault injection): buyer -> (point, attempt number)."""
    kills: dict[int, tuple[str, int]] = {}
    if config.kill_buyer is not None:
        kills[config.kill_buyer] = (config.kill_at or IN_CRITICAL, 0)
    if config.chaos:
        rng = random.Random(seed)
        per_buyer = config.attempts if not config.until_sold_out else max(1, config.tickets // config.buyers)
        for b in range(1, config.buyers + 1):
            if rng.random() < config.chaos and b not in kills:
                kills[b] = (rng.choice(KILL_POINTS), rng.randrange(per_buyer))
    return kills


def _check_history_path(config: RunConfig) -> None:
    """Fail before the run, not after it, when the history file cannot be written."""
    assert config.history is not None
    try:
        with open(config.history, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise BadInput(f"history {config.history}: cannot be written ({exc.strerror})") from None


__all__ = ["CannotRun", "RunResult", "simulate"]
