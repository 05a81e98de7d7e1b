"""A run: seed the store, start the buyers, collect their history, ask the verifier."""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time
from dataclasses import dataclass, replace
from typing import Any

from booking.buyer import DONE, BuyerPlan, run_buyer
from booking.config import RunConfig, Schedule
from booking.errors import BadInput, CannotRun
from booking.history import Attempt, BuyerEnd, BuyerStatus, History, save
from booking.schedule import Phaser
from booking.stores import FinalState, open_store, store_kind
from booking.stores.base import StoreKind
from booking.strategies import default_strategy, get_strategy
from booking.verify import Verdict, verify

# fork, chosen rather than inherited: buyers start in milliseconds and share nothing but plain data
# (Python 3.14 makes forkserver the Linux default). Engines and handles are made in each buyer.
START_METHOD = "fork"
POLL_S = 0.2  # how often the parent looks for dead buyers while no report arrives
GRACE_S = 2.0  # after the deadline: how long terminated buyers get to go


@dataclass
class RunResult:
    """What a simulation produced: the config, the store's before and after, the history, the verdict."""

    config: RunConfig
    store: str  # display form (password masked)
    kind: StoreKind
    initial: int
    final: FinalState
    history: History
    verdict: Verdict
    elapsed_s: float

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def exit_code(self) -> int:
        if self.verdict.stuck:
            return 3
        return 0 if self.verdict.ok else 1

    def to_json(self) -> dict[str, Any]:
        v = self.verdict.to_json()
        return {
            "store": self.store,
            "strategy": self.config.strategy,
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
            "ok": v["ok"],
            "anomalies": v["anomalies"],
            "elapsed_s": round(self.elapsed_s, 6),
        }


def simulate(config: RunConfig) -> RunResult:
    """Run one simulation. Raises BadInput (exit 2) or CannotRun (exit 3) before touching the store."""
    config.validate()
    kind = store_kind(config.store)
    if config.strategy is None:
        config = replace(config, strategy=default_strategy(kind))
    assert config.strategy is not None
    info = get_strategy(config.strategy, kind)
    if config.isolation is not None and kind is StoreKind.COUNTER:
        raise BadInput("--isolation applies to SQL stores only (db.json has no transactions)")
    isolation = None if config.isolation is None else config.isolation.value
    if config.history is not None:
        _check_history_path(config)

    store = open_store(config.store, isolation)
    try:
        initial = store.prepare(None if config.keep else config.tickets)
        lock_path = str(store.lock_path()) if info.name == "file-lock" else None
        ctx = multiprocessing.get_context(START_METHOD)
        reports: Any = ctx.Queue()
        phaser = Phaser(ctx, config.buyers) if config.schedule is Schedule.LOCKSTEP else None
        mp_lock = ctx.Lock() if info.name == "mp-lock" else None

        t0 = time.monotonic()
        deadline = t0 + config.deadline_s
        plans = [
            BuyerPlan(
                b,
                config.store,
                info.name,
                config.attempts,
                config.until_sold_out,
                config.think_ms / 1000,
                t0,
                deadline,
                lock_path,
                isolation,
            )
            for b in range(1, config.buyers + 1)
        ]
        history = _run_buyers(ctx, plans, reports, phaser, mp_lock, deadline)
        elapsed = time.monotonic() - t0
        final = store.final()
    finally:
        store.close()

    if config.history is not None:
        save(history, config.history)
    verdict = verify(initial, final, history, kind)
    return RunResult(config, store.display, kind, initial, final, history, verdict, elapsed)


def _run_buyers(
    ctx: Any, plans: list[BuyerPlan], reports: Any, phaser: Phaser | None, mp_lock: Any, deadline: float
) -> History:
    history = History()
    procs: dict[int, Any] = {}
    finished: set[int] = set()
    ended: dict[int, BuyerEnd] = {}
    try:
        for plan in plans:
            p = ctx.Process(
                target=run_buyer, args=(plan, reports, phaser, mp_lock), name=f"buyer-{plan.buyer}", daemon=True
            )
            p.start()
            procs[plan.buyer] = p
        while len(finished) + len(ended) < len(plans):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                message = reports.get(timeout=min(left, POLL_S))
            except queue_module.Empty:
                _notice_dead(procs, finished, ended, phaser)
                continue
            if isinstance(message, Attempt):
                history.attempts.append(message)
            elif isinstance(message, list):  # a buyer's batch (booking.reporter)
                history.attempts.extend(message)
            elif message[0] == DONE:
                finished.add(message[1])
    finally:
        _reap(procs, finished, ended)
    history.ends = [BuyerEnd(b, BuyerStatus.DONE) for b in sorted(finished)] + list(ended.values())
    return history


def _notice_dead(procs: dict[int, Any], finished: set[int], ended: dict[int, BuyerEnd], phaser: Phaser | None) -> None:
    """A buyer that exited without saying it was done died: report it, and stop waiting for it."""
    for buyer, p in procs.items():
        if buyer in finished or buyer in ended or p.exitcode is None:
            continue
        how = f"killed by signal {-p.exitcode}" if p.exitcode < 0 else f"exited with code {p.exitcode}"
        ended[buyer] = BuyerEnd(buyer, BuyerStatus.STUCK, f"{how} before finishing")
        if phaser is not None:
            phaser.leave()


def _reap(procs: dict[int, Any], finished: set[int], ended: dict[int, BuyerEnd]) -> None:
    """No child outlives the run: join with a deadline, then terminate, then kill."""
    grace = time.monotonic() + GRACE_S
    for buyer, p in procs.items():
        p.join(timeout=max(grace - time.monotonic(), 0.01) if buyer in finished else 0.05)
    for buyer, p in procs.items():
        if p.is_alive():
            p.terminate()
            p.join(timeout=1.0)
            if p.is_alive():
                p.kill()
                p.join(timeout=1.0)
            if buyer not in finished:
                ended.setdefault(buyer, BuyerEnd(buyer, BuyerStatus.STUCK, "still running at the deadline"))
        elif buyer not in finished and buyer not in ended:
            code = p.exitcode
            how = f"killed by signal {-code}" if code and code < 0 else f"exited with code {code}"
            ended[buyer] = BuyerEnd(buyer, BuyerStatus.STUCK, f"{how} before finishing")


def _check_history_path(config: RunConfig) -> None:
    """Fail before the run, not after it, when the history file cannot be written."""
    assert config.history is not None
    try:
        with open(config.history, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise BadInput(f"history {config.history}: cannot be written ({exc.strerror})") from None


__all__ = ["CannotRun", "RunResult", "simulate"]
