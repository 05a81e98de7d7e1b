"""What a comparison is made of: its config, one Trial per run, a Cell per matrix entry, the conclusions."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from booking.compare.stats import jain, mean_sd, percentile, wilson
from booking.config import Schedule
from booking.redact import mask_url
from booking.result import RunResult
from booking.strategies import STRATEGIES

DEFAULT_BUYERS = (1, 4, 16)
DEFAULT_TICKETS = 20
DEFAULT_TRIALS = 5
MAX_RUNS = 20_000  # a matrix larger than this is refused, with the limit named


@dataclass(frozen=True)
class CompareConfig:
    """A matrix: stores x strategies x buyers x schedules, each cell run `trials` times."""

    stores: tuple[str, ...]
    strategies: tuple[str, ...] | None = None  # None: every strategy that applies to each store
    buyers: tuple[int, ...] = DEFAULT_BUYERS
    tickets: int = DEFAULT_TICKETS
    trials: int = DEFAULT_TRIALS
    schedules: tuple[Schedule, ...] = (Schedule.FREE, Schedule.LOCKSTEP)
    seed: int = 0
    deadline_s: float = 60.0


@dataclass(frozen=True)
class CellKey:
    store: str
    strategy: str
    schedule: Schedule
    buyers: int


@dataclass
class Trial:
    """What one run contributes to its cell."""

    anomaly: bool
    oversold: int
    double_sold: int
    lost_updates: int
    undersold: int
    errors: int
    retries: int
    conflicts: int
    sold: int
    throughput: float | None
    latencies: list[float]
    lock_wait_share: float | None
    fairness: float | None
    timeline: str = ""  # an anomalous trial's story and lanes, for the report

    @classmethod
    def of(cls, result: RunResult) -> Trial:
        v, attempts = result.verdict, result.history.attempts
        window = (max(a.t_end for a in attempts) - min(a.t_start for a in attempts)) if attempts else 0.0
        busy = sum(a.t_end - a.t_start for a in attempts)
        per_buyer = Counter(r.buyer for r in result.history.receipts)
        return cls(
            anomaly=bool(v.anomalies),  # an inconclusive trial (one buyer: no race) is not an anomaly
            oversold=v.oversold,
            double_sold=v.double_sold,
            lost_updates=v.lost_updates or 0,
            undersold=v.undersold or 0,
            errors=v.errors,
            retries=v.retries,
            conflicts=v.conflicts,
            sold=v.sold,
            throughput=v.sold / window if window > 0 else None,
            latencies=[a.t_end - a.t_start for a in attempts if a.outcome.value == "ok"]
            or [a.t_end - a.t_start for a in attempts],
            lock_wait_share=sum(a.lock_wait_s for a in attempts) / busy if busy > 0 else None,
            fairness=jain([per_buyer.get(b, 0) for b in range(1, result.config.buyers + 1)]),
            timeline=_timeline(result) if v.anomalies else "",
        )


@dataclass
class Cell:
    """One cell of the matrix over its trials. Times in the output are milliseconds."""

    store: str
    strategy: str
    label: str  # the strategy's one-line description: its row label
    scope: str
    safe: bool
    schedule: str
    buyers: int
    tickets: int
    trials: int
    anomaly_runs: int
    anomaly_probability: float
    anomaly_ci95: tuple[float, float]
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
    throughput_mean: float | None
    throughput_sd: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    lock_wait_share: float | None
    fairness: float | None
    slowdown_vs_none: float | None = None  # none's purchases/s over this one's; >1 is slower
    timeline: str = ""  # the first anomalous trial: its stories and a lane per buyer involved
    vs_none: str = ""

    @property
    def broken(self) -> bool:
        """A strategy documented as safe that showed an anomaly."""
        return self.safe and self.anomaly_runs > 0


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

    @property
    def broken(self) -> list[Cell]:
        return [c for c in self.cells if c.broken]

    @property
    def exit_code(self) -> int:
        return 1 if self.broken else 0

    def to_json(self) -> dict[str, Any]:
        cfg = asdict(self.config)
        cfg["schedules"] = [s.value for s in self.config.schedules]
        cfg["stores"] = [mask_url(s) for s in self.config.stores]  # a URL's password never reaches a report
        return {
            "command": self.command,
            "versions": self.versions,
            "config": cfg,
            "elapsed_s": round(self.elapsed_s, 3),
            "ok": not self.broken,
            "cells": [asdict(c) for c in self.cells],
            "conclusions": [asdict(c) for c in self.conclusions],
        }


def summarise(key: CellKey, ts: list[Trial], tickets: int) -> Cell:
    info = STRATEGIES[key.strategy]
    anomalies = sum(t.anomaly for t in ts)
    tp_mean, tp_sd = mean_sd([t.throughput for t in ts if t.throughput is not None])
    latencies = [x for t in ts for x in t.latencies]
    waits = [t.lock_wait_share for t in ts if t.lock_wait_share is not None]
    fair = [t.fairness for t in ts if t.fairness is not None]

    def ms(q: float) -> float | None:
        p = percentile(latencies, q)
        return None if p is None else p * 1000

    def mean(values: Iterable[float]) -> float:
        vs = list(values)
        return sum(vs) / len(vs) if vs else 0.0

    return Cell(
        store=_display(key.store),
        strategy=key.strategy,
        label=info.description,
        scope=info.scope,
        safe=info.safe,
        schedule=key.schedule.value,
        buyers=key.buyers,
        tickets=tickets,
        trials=len(ts),
        anomaly_runs=anomalies,
        anomaly_probability=anomalies / len(ts),
        anomaly_ci95=wilson(anomalies, len(ts)),
        oversold_mean=mean(t.oversold for t in ts),
        oversold_max=max(t.oversold for t in ts),
        double_sold_mean=mean(t.double_sold for t in ts),
        double_sold_max=max(t.double_sold for t in ts),
        lost_updates_mean=mean(t.lost_updates for t in ts),
        lost_updates_max=max(t.lost_updates for t in ts),
        undersold_mean=mean(t.undersold for t in ts),
        undersold_max=max(t.undersold for t in ts),
        errors=sum(t.errors for t in ts),
        retries=sum(t.retries for t in ts),
        conflicts=sum(t.conflicts for t in ts),
        throughput_mean=tp_mean,
        throughput_sd=tp_sd,
        latency_p50_ms=ms(50),
        latency_p95_ms=ms(95),
        latency_p99_ms=ms(99),
        lock_wait_share=mean(waits) if waits else None,
        fairness=mean(fair) if fair else None,
        timeline=next((t.timeline for t in ts if t.timeline), ""),
    )


def _timeline(result: RunResult) -> str:
    from booking.render.timeline import story

    return story(result)


def relate_to_none(cells: list[Cell]) -> None:
    """Each cell's purchases/s against the unprotected strategy's on the same store, schedule and buyers."""
    baseline = {(c.store, c.schedule, c.buyers): c for c in cells if not c.safe}
    for c in cells:
        base = baseline.get((c.store, c.schedule, c.buyers))
        if base is None or c is base or not base.throughput_mean or not c.throughput_mean:
            continue
        ratio = base.throughput_mean / c.throughput_mean
        c.slowdown_vs_none = ratio
        if ratio >= 1.05:
            c.vs_none = f"{ratio:.1f}x slower than none"
        elif ratio <= 1 / 1.05:
            c.vs_none = f"{1 / ratio:.1f}x faster than none"
        else:
            c.vs_none = "as fast as none"


def conclude(cells: list[Cell]) -> list[Conclusion]:
    out: list[Conclusion] = []
    groups: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for c in cells:
        groups[(c.store, c.strategy)].append(c)
    for (store, strategy), cs in groups.items():
        first = cs[0]
        # Cost where it is largest: the most buyers, natural timing when it was measured.
        top = max(c.buyers for c in cs)
        pick = [c for c in cs if c.buyers == top and c.schedule == "free"] or [c for c in cs if c.buyers == top]
        c = pick[0]
        tp = f"{c.throughput_mean:,.0f} purchases/s" if c.throughput_mean else "no purchases"
        p99 = f", p99 {c.latency_p99_ms:.1f} ms" if c.latency_p99_ms is not None else ""
        rel = f" ({c.vs_none})" if c.vs_none else ""
        out.append(
            Conclusion(
                store=store,
                strategy=strategy,
                label=first.label,
                scope=first.scope,
                safe=first.safe,
                correct=all(x.anomaly_runs == 0 for x in cs),
                cost=f"{tp}{rel}{p99} at {top} buyers, {c.schedule}",
            )
        )
    return out


def _display(store: str) -> str:
    return mask_url(store)
