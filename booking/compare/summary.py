"""From runs to cells: what one run contributes (a Trial), and a cell's figures over its trials."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from pathlib import Path

from booking.compare.cells import CROWD, Cell, CellKey, Trial
from booking.compare.steady import steady
from booking.options.store_url import StoreURL
from booking.run.result import RunResult
from booking.stats import outliers, percentile, repeated, wilson
from booking.stores.base import KIND_NAMES, StoreKind
from booking.strategies import StrategyInfo


def trial_of(result: RunResult, batches: int) -> Trial:
    v = result.verdict
    return Trial(
        anomaly=bool(v.anomalies),  # an inconclusive trial (one buyer: no race) is not an anomaly
        inconclusive=v.inconclusive is not None,
        oversold=v.oversold,
        double_sold=v.double_sold,
        lost_updates=v.lost_updates or 0,
        undersold=v.undersold or 0,
        errors=v.errors,
        retries=v.retries,
        conflicts=v.conflicts,
        sold=v.sold,
        steady=steady(result, batches) if result.config.duration_s is not None else None,
        witness=result if v.anomalies else None,
        unavailable=v.unavailable,
        store_before=dict(result.store_before),
    )


def store_label(spec: StoreURL) -> str:
    """A store as people name it: `db.json`, `sqlite t.db`, `postgresql test`, `mariadb test` (no temp paths)."""
    kind = spec.kind
    if kind is StoreKind.COUNTER:
        return Path(spec.text).name
    if spec.scheme is None:
        return f"sqlite {Path(spec.text).name}"
    rest = spec.address.split("?", 1)[0]
    name = Path(rest).name if kind is StoreKind.SQLITE else rest.rsplit("/", 1)[-1]
    return f"{KIND_NAMES[kind]} {name}"


def store_labels(specs: Iterable[StoreURL]) -> dict[StoreURL, str]:
    """Each store's label; two stores with one label (t.db in two directories) keep their masked specs."""
    labels = {s: store_label(s) for s in specs}
    taken = [label for label in labels.values()]
    return {s: (label if taken.count(label) == 1 else s.display) for s, label in labels.items()}


def summarise(key: CellKey, label: str, info: StrategyInfo, ts: list[Trial], tickets: int) -> Cell:
    anomalies = sum(t.anomaly for t in ts)

    def mean(values: Iterable[float]) -> float:
        vs = list(values)
        return sum(vs) / len(vs) if vs else 0.0

    cell = Cell(
        store=label,
        strategy=key.strategy,
        label=info.description,
        scope=info.scope,
        safe=info.safe,
        question="cost" if key.cost else "correctness",
        schedule=key.schedule.value,
        buyers=key.buyers,
        tickets=tickets,
        trials=len(ts),
        anomaly_runs=anomalies,
        anomaly_probability=anomalies / len(ts),
        anomaly_ci95=wilson(anomalies, len(ts)),
        inconclusive_runs=sum(t.inconclusive for t in ts),
        oversold_mean=mean(t.oversold for t in ts),
        oversold_max=max(t.oversold for t in ts),
        double_sold_mean=mean(t.double_sold for t in ts),
        double_sold_max=max(t.double_sold for t in ts),
        lost_updates_mean=mean(t.lost_updates for t in ts),
        lost_updates_max=max(t.lost_updates for t in ts),
        undersold_mean=mean(t.undersold for t in ts),
        undersold_max=max(t.undersold for t in ts),
        errors=sum(t.errors for t in ts),
        unavailable=sum(t.unavailable for t in ts),
        retries=sum(t.retries for t in ts),
        conflicts=sum(t.conflicts for t in ts),
        witness=next((t.witness for t in ts if t.witness is not None), None),
        store_before=_largest([t.store_before for t in ts]),
    )
    if key.cost:
        _cost(cell, ts)
    return cell


def _largest(sizes: list[dict[str, int]]) -> dict[str, int]:
    """Each figure's largest value over the runs: a store that grew between runs shows it."""
    out: dict[str, int] = {}
    for size in sizes:
        for name, value in size.items():
            out[name] = max(out.get(name, value), value)
    return out


def _cost(cell: Cell, ts: list[Trial]) -> None:
    """The steady-state figures: purchases/s over the repetitions, the rest over every repetition's window."""
    windows = [t.steady for t in ts if t.steady is not None and t.steady.seconds > 0]
    if not windows:
        return
    reps = [w.rate for w in windows]
    cell.throughput_mean, cell.throughput_ci95, cell.throughput_range = repeated(reps)
    cell.repetitions = reps
    cell.outliers = [reps[i] for i in outliers(reps)]
    cell.crowd = CROWD
    cell.window_s = sum(w.seconds for w in windows)
    cell.batches = sum(len(w.rates) for w in windows)
    first = percentile([x for w in windows for x in w.first_latencies], 50)
    later = percentile([x for w in windows for x in w.later_latencies], 50)
    cell.first_attempt_p50_ms = None if first is None else first * 1000
    cell.later_p50_ms = None if later is None else later * 1000
    if any(w.real < 1 for w in windows):  # oversold: receipts for tickets the store never lost
        cell.real_sales_mean = statistics.fmean(w.rate * w.real for w in windows)
    cell.sold_out = any(w.sold_out for w in windows)
    cell.after_ready = all(w.after_ready for w in windows)
    margins = [w.start - w.last_ready for w in windows if w.last_ready is not None]
    cell.ready_margin_ms = min(margins) * 1000 if margins else None
    latencies = [x for w in windows for x in w.latencies]
    for q in (50, 95, 99):
        p = percentile(latencies, q)
        setattr(cell, f"latency_p{q}_ms", None if p is None else p * 1000)
    waits = [w.lock_wait_share for w in windows if w.lock_wait_share is not None]
    fair = [w.fairness for w in windows if w.fairness is not None]
    cell.lock_wait_share = sum(waits) / len(waits) if waits else None
    cell.fairness = sum(fair) / len(fair) if fair else None


def rates(ts: list[Trial]) -> list[float]:
    """Each repetition's purchases/s: the samples a cost cell's interval and ratios are computed from."""
    return [t.steady.rate for t in ts if t.steady is not None and t.steady.seconds > 0]
