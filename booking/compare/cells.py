"""What a comparison is made of: its config, one Trial per run, a Cell per matrix entry, the whole Comparison.

Two questions, two measurements. Correctness (the lockstep schedule): every buyer reaches the race
window at once, `trials` times; P(anomaly) with its Wilson interval. Cost (the free schedule):
`repetitions` independent repetitions per cell, each a fresh crowd on a freshly reset store, warm
behind the start barrier and buying for `duration_s` (compare/steady.py); purchases/s is the mean
of the repetitions with a 95% t-interval from them and their min-max, and a cell whose interval is
still wide gets more repetitions while the time budget lasts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from booking.compare.steady import Steady
from booking.options.config import Schedule
from booking.options.store_url import StoreURL
from booking.run.result import RunResult

DEFAULT_BUYERS = (1, 4, 16)
DEFAULT_TICKETS = 20  # a correctness trial's stock, bought until sold out
DEFAULT_TRIALS = 5  # correctness trials per cell
DEFAULT_DURATION_S = 0.25  # one repetition's window
DEFAULT_BATCHES = 5  # the window's batches: where in a window the purchases fell (the interval is the repetitions')
DEFAULT_REPETITIONS = 3  # independent repetitions per cost cell: the fewest a t-interval is worth having from
MAX_REPETITIONS = 10  # a cost cell gets another repetition while its interval is wider than WIDE of its mean
WIDE = 0.10
CROWD = "fresh"  # each repetition starts its own crowd on a freshly reset store; none is reused warm
COST_STOCK_PER_S = 40_000  # a cost crowd's stock per second of window: more than any store here sells
MAX_RUNS = 20_000  # a matrix larger than this is refused, with the limit named


@dataclass(frozen=True)
class CompareConfig:
    """A matrix: stores x strategies (and your purchase functions) x buyers x schedules."""

    stores: tuple[StoreURL, ...]
    strategies: tuple[str, ...] | None = None  # None: every strategy that applies to each store
    buyers: tuple[int, ...] = DEFAULT_BUYERS
    tickets: int = DEFAULT_TICKETS
    trials: int = DEFAULT_TRIALS
    schedules: tuple[Schedule, ...] = (Schedule.FREE, Schedule.LOCKSTEP)
    seed: int = 0
    deadline_s: float = 60.0
    duration_s: float = DEFAULT_DURATION_S
    batches: int = DEFAULT_BATCHES
    repetitions: int = DEFAULT_REPETITIONS
    max_repetitions: int = MAX_REPETITIONS
    budget_s: float = 45.0  # extra repetitions for wide intervals are run only while the comparison is within this
    reference: str | None = None  # the strategy ratios are against; None: the store's default
    purchases: tuple[str, ...] = ()  # your own purchase functions, module:function, as rows
    isolation: str | None = None
    think_ms: float = 0.0
    broker: str | None = None  # with cache: seckill joins the SQL stores' rows (its broker and Redis)
    cache: str | None = None

    def cost_stock(self) -> int:
        return max(self.tickets, int(self.duration_s * COST_STOCK_PER_S))


@dataclass(frozen=True)
class CellKey:
    store: StoreURL
    strategy: str  # a strategy's name, or "purchase module:function"
    schedule: Schedule
    buyers: int
    purchase: str | None = None

    @property
    def cost(self) -> bool:
        """Free-schedule cells measure cost; lockstep cells measure correctness."""
        return self.schedule is Schedule.FREE


@dataclass
class Trial:
    """What one run contributes to its cell."""

    anomaly: bool
    inconclusive: bool
    oversold: int
    double_sold: int
    lost_updates: int
    undersold: int
    errors: int
    retries: int
    conflicts: int
    sold: int
    steady: Steady | None = None  # cost runs: the steady-state window
    store_before: dict[str, int] = field(default_factory=dict)  # the store's size once reset, before the buyers
    witness: RunResult | None = None  # an anomalous trial: the run whose stories and lanes the report shows
    unavailable: int = 0  # attempts the environment failed: the trial proved nothing either way


@dataclass
class Cell:
    """One cell of the matrix over its trials. Times in the output are milliseconds."""

    store: str  # kind and database: "db.json", "sqlite t.db", "postgresql test"
    strategy: str
    label: str  # the strategy's one-line description
    scope: str
    safe: bool
    question: str  # "cost" (free schedule, steady state) or "correctness" (lockstep)
    schedule: str
    buyers: int
    tickets: int
    trials: int  # runs: lockstep trials, or a cost cell's repetitions (each a fresh crowd on a fresh store)
    anomaly_runs: int
    anomaly_probability: float
    anomaly_ci95: tuple[float, float]
    inconclusive_runs: int
    oversold_mean: float
    oversold_max: int
    double_sold_mean: float
    double_sold_max: int
    lost_updates_mean: float
    lost_updates_max: int
    undersold_mean: float
    undersold_max: int
    errors: int
    retries: int
    conflicts: int
    # cost cells only (None elsewhere)
    window_s: float | None = None  # the steady-state windows measured, in all
    batches: int | None = None
    throughput_mean: float | None = None  # purchases (receipts) per second over the steady-state windows
    throughput_ci95: tuple[float, float] | None = None  # from the repetitions (t), never below 0
    throughput_range: tuple[float, float] | None = None  # the repetitions' min-max
    repetitions: list[float] = field(default_factory=list)  # each repetition's purchases/s, in the order run
    outliers: list[float] = field(default_factory=list)  # repetitions far from the others (modified z-score > 3.5)
    extra_repetitions: int = 0  # added because the interval was wider than WIDE of the mean
    still_wide: bool = False  # the interval is wider than WIDE of the mean, and the time budget ran out
    crowd: str = ""  # cost cells: "fresh", each repetition a crowd of its own
    store_before: dict[str, int] = field(default_factory=dict)  # the store's largest size once reset, over the runs
    first_attempt_p50_ms: float | None = None  # the median of each buyer's first attempt in the window
    later_p50_ms: float | None = None  # the median of every later attempt
    real_sales_mean: float | None = None  # tickets the store really lost per second, when fewer than the receipts
    sold_out: bool = False  # a window ended early: the stock ran out
    after_ready: bool | None = None  # every window opened after the last buyer was ready (checked per crowd)
    ready_margin_ms: float | None = None  # the smallest gap from the last buyer's ready to the window's start
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    lock_wait_share: float | None = None
    fairness: float | None = None
    reference: str | None = None  # the strategy its ratio is against
    vs_reference: float | None = None  # this one's purchases/s over the reference's (>1: faster)
    vs_reference_ci95: tuple[float, float] | None = None
    relation: str = ""  # reference, indistinguishable, faster, slower, unsafe, or "" (nothing to compare)
    vs_reference_words: str = ""
    # The first anomalous trial: the report tells its stories and draws a lane per buyer involved (its "timeline").
    witness: RunResult | None = field(default=None, repr=False)
    unavailable: int = 0  # attempts the environment failed (timeouts, lost connections), over the trials
    baseline: str = ""  # --baseline: this cell against the saved report's

    @property
    def broken(self) -> bool:
        """A strategy documented as safe that showed an anomaly."""
        return self.safe and self.anomaly_runs > 0

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.store, self.strategy, self.schedule, self.buyers)

    def to_json(self) -> dict[str, Any]:
        """The cell's figures (its witness run is the report's to tell: booking/render/tables.py, cell_row)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "witness"}


@dataclass
class Conclusion:
    store: str
    strategy: str
    label: str
    scope: str
    safe: bool
    correct: bool  # no anomaly in any trial of any cell
    cost: str


@dataclass
class Comparison:
    config: CompareConfig
    cells: list[Cell]
    conclusions: list[Conclusion]
    elapsed_s: float
    command: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    partial: str = ""  # why the comparison stopped before every run was done ("" when complete)
    stopped_by: int = 0  # the signal that stopped it (its exit code is 128 + it)
    runs: tuple[int, int] = (0, 0)  # runs done, runs planned
    regressions: list[str] = field(default_factory=list)  # --baseline: what got worse
    advice: list[Any] = field(default_factory=list)  # compare/advice.py's Advice per store: safe ones, fastest first
    skipped: list[str] = field(default_factory=list)  # default servers left out, each with the reason

    @property
    def broken(self) -> list[Cell]:
        return [c for c in self.cells if c.broken]

    @property
    def exit_code(self) -> int:
        if self.broken or self.regressions:
            return 1
        return 3 if any(c.unavailable for c in self.cells) else 0  # some trials could not be carried out

    def to_json(self) -> dict[str, Any]:
        cfg = asdict(self.config)
        cfg["schedules"] = [s.value for s in self.config.schedules]
        cfg["stores"] = [s.display for s in self.config.stores]  # a URL's password never reaches a report
        return {
            "command": self.command,
            "versions": self.versions,
            "machine": self.machine,
            "config": cfg,
            "elapsed_s": round(self.elapsed_s, 3),
            "partial": self.partial,
            "runs": {"done": self.runs[0], "planned": self.runs[1]},
            "ok": not self.broken and not self.regressions,
            "regressions": self.regressions,
            "advice": [a.to_json() for a in self.advice],
            "skipped": self.skipped,
            "cells": [c.to_json() for c in self.cells],
            "conclusions": [asdict(c) for c in self.conclusions],
        }
