"""What a simulation produced: the config, the store's before and after, the history, the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from booking.history import History
from booking.options.config import RunConfig
from booking.processes.schedule import pct_bound
from booking.stores.base import FinalState, StoreKind
from booking.verdict.leases import PauseStory
from booking.verdict.verify import Verdict

INCONCLUSIVE = 4  # the exit code of a run that proved nothing: the buyers never overlapped in the race window

# The verdict's figures that --json carries, in this order.
JSON_FIGURES = (
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
    "unavailable",
)


@dataclass
class RunResult:
    """One run, judged. `strategy` is the strategy's name, or `purchase module:function`."""

    config: RunConfig
    store: str  # display form (secrets masked)
    kind: StoreKind
    strategy: str
    initial: int
    final: FinalState | None  # None: --receipts-only, the store is the purchase function's own
    history: History
    verdict: Verdict
    elapsed_s: float
    aborted: str | None = None  # why the run was stopped before its buyers finished (exit 3)
    seed: int | None = None  # --schedule random and --chaos: the seed that gives this run again
    order: list[tuple[int, str]] | None = None  # --schedule random: (buyer, point) in the order let through
    decisions: list[tuple[list[int], int]] | None = None  # --schedule exhaustive: (buyers waiting, the one let go)
    note: str = ""  # what the header adds to the strategy's name (sellers, for a queue run)
    extras: dict[str, Any] = field(default_factory=dict)  # what --json adds for the strategy
    strategy_safe: bool | None = None  # documented as preventing the race (None: your own code, unknown)
    interrupted: str | None = None  # the signal that stopped the run (SIGINT, SIGTERM, SIGHUP)
    pauses: list[PauseStory] = field(default_factory=list)  # --pause-buyer: what each pause did
    store_before: dict[str, int] = field(default_factory=dict)  # the store's size once seeded, before the buyers

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def by_luck(self) -> bool:
        """No anomaly, but the strategy does not prevent the race: the buyers happened not to collide
        (the run is OK by luck, or INCONCLUSIVE when they never even overlapped)."""
        unsafe = self.strategy_safe is False and self.config.buyers > 1
        return unsafe and not self.verdict.anomalies and not self.aborted

    @property
    def exit_code(self) -> int:
        """0 OK, 1 an anomaly, 3 could not run (stopped, a buyer stuck, the environment failed attempts),
        4 inconclusive (nothing proved); an interrupted run ends with 128 + the signal (processes/signals.py).
        A broken invariant is exit 1 even when the run was cut short: what it showed stands."""
        if self.verdict.unsafe:
            return 1
        if self.aborted or self.verdict.stuck or self.verdict.unavailable:
            return 3
        if self.verdict.anomalies:
            return 1
        return INCONCLUSIVE if self.verdict.inconclusive else 0

    @property
    def word(self) -> str:
        """The verdict's word as the text says it: a broken invariant or a stuck buyer stands, then STOPPED."""
        v = self.verdict
        return "STOPPED" if self.aborted and not (v.unsafe or v.stuck) else v.word

    def to_json(self) -> dict[str, Any]:
        v = self.verdict.to_json()
        return {
            "store": self.store,
            "strategy": self.strategy,
            "isolation": None if self.config.isolation is None else self.config.isolation.value,
            "schedule": self.config.schedule.value,
            "buyers": self.config.buyers,
            "tickets": self.initial,
            **{k: v[k] for k in JSON_FIGURES},
            "killed": v["killed"],
            "declined": v["declined"],
            "overlap": v["overlap"],
            "verdict": self.word,
            "inconclusive": v["inconclusive"],
            "ok": v["ok"] and not self.aborted and not self.interrupted,
            "by_luck": self.by_luck,
            "aborted": self.aborted,
            "interrupted": self.interrupted,
            "anomalies": v["anomalies"],
            "could_not_run": v["could_not_run"],
            **({"serialized": v["serialized"]} if v["serialized"] is not None else {}),
            "elapsed_s": round(self.elapsed_s, 6),
            **self.extras,
            **({"seed": self.seed} if self.seed is not None else {}),
            **({"order": [f"{b}:{p}" for b, p in self.order]} if self.order is not None else {}),
            **self._schedule_json(),
            **({"pauses": [asdict(p) for p in self.pauses]} if self.pauses else {}),
        }

    @property
    def replay(self) -> str | None:
        """--schedule exhaustive: the order of buyers this run let go, to give it again with --replay."""
        return None if self.decisions is None else ",".join(str(p) for _, p in self.decisions)

    @property
    def pct(self) -> float | None:
        """--schedule random: PCT's lower bound on finding a given bug of --depth in one such run."""
        if self.order is None or self.decisions is not None:
            return None
        return pct_bound(self.config.buyers, len(self.order), self.config.depth)

    def _schedule_json(self) -> dict[str, Any]:
        if self.decisions is not None:
            return {"replay": self.replay}
        if self.pct is not None:
            return {"pct": {"depth": self.config.depth, "steps": len(self.order or ()), "bound": self.pct}}
        return {}


@dataclass
class VerifyResult:
    """The verdict for a past run (`booking verify`)."""

    store: str
    verdict: Verdict
    run: str | None = None  # --run NAME: a run across hosts, judged from the database alone
    missing: list[str] = field(default_factory=list)  # its hosts that did not take part or finish

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def exit_code(self) -> int:
        """As simulate's: a run some of whose buyers never finished could not be carried out (3), unless
        what it did show is a broken invariant (1)."""
        if self.verdict.unsafe:
            return 1
        if self.verdict.stuck:
            return 3
        if self.verdict.anomalies:
            return 1
        if self.verdict.unavailable:
            return 3
        return INCONCLUSIVE if self.verdict.inconclusive else 0

    def to_json(self) -> dict[str, Any]:
        across = {"run": self.run, "missing": self.missing} if self.run is not None else {}
        return {"store": self.store, "tickets": self.verdict.initial, **across, **self.verdict.to_json()}
