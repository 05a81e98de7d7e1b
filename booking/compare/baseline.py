"""`booking compare --baseline OLD.json`: a saved report beside the new one, cell by cell.

A regression is a strategy documented as safe that showed no anomaly before and shows one now,
or a cost cell whose 95% interval now lies wholly below the saved one (slower beyond both
intervals) and whose ratio to the saved figure, with its interval from both runs' repetitions,
lies below 1 too: three repetitions can agree closely by chance and give one run a narrow interval,
and a repeat of a run must never fail against it. Overlapping intervals are no change. The
machines are shown side by side: a figure from another machine, or a loaded one, is a weaker
baseline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from booking.compare.cells import Comparison
from booking.errors import BadInput
from booking.files import opened
from booking.i18n.lang import _
from booking.stats import ratio_ci

MAX_BASELINE_BYTES = 50 * 1024 * 1024


def load_baseline(path: Path) -> dict[str, Any]:
    """A report `booking compare --format json` wrote; BadInput for anything else."""
    with opened(path, "--baseline", mode="rb") as src:
        raw = src.read(MAX_BASELINE_BYTES + 1)
    if len(raw) > MAX_BASELINE_BYTES:
        raise BadInput(
            _("--baseline {path}: larger than {value} MB, not a report").format(
                path=path, value=MAX_BASELINE_BYTES // 1024 // 1024
            )
        )
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise BadInput(
            _("--baseline {path}: not JSON (save one with --format json --out FILE)").format(path=path)
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise BadInput(_("--baseline {path}: not a booking compare report (no cells)").format(path=path))
    for cell in data["cells"]:
        if not isinstance(cell, dict) or not {"store", "strategy", "schedule", "buyers"} <= set(cell):
            raise BadInput(
                _("--baseline {path}: a cell without store, strategy, schedule and buyers").format(path=path)
            )
    return data


def against(comparison: Comparison, old: dict[str, Any]) -> None:
    """Set each cell's `baseline` words and the comparison's regressions."""
    saved = {(c["store"], c["strategy"], c["schedule"], c["buyers"]): c for c in old["cells"]}
    for cell in comparison.cells:
        before = saved.get(cell.key)
        if before is None:
            cell.baseline = "new"
            continue
        words, worse = _one(cell.safe, cell, before)
        cell.baseline = words
        if worse:
            where = f"{cell.strategy} on {cell.store}, {cell.buyers} buyers, {cell.schedule}"
            comparison.regressions.append(f"{where}: {words}")
    comparison.machine = {**comparison.machine, "baseline_machine": old.get("machine", {})}


def _below(new: list[float], old: object, old_mean: float) -> bool:
    """The new figure over the saved one, its 95% interval from both runs' repetitions wholly below 1.
    The saved repetitions give the saved figure's spread (relative to its mean: the ratio's interval
    depends on nothing else); a report without them, from before they were kept, is judged by the
    intervals alone."""
    if not isinstance(old, list) or len(old) < 2 or not sum(old):
        return True
    scale = old_mean / (sum(old) / len(old))
    found = ratio_ci(new, [float(x) * scale for x in old])
    return found is None or found[1][1] < 1


def _one(safe: bool, cell: Any, before: dict[str, Any]) -> tuple[str, bool]:
    runs_before = int(before.get("anomaly_runs") or 0)
    if safe and cell.anomaly_runs > 0 and runs_before == 0:
        return f"turned unsafe: {cell.anomaly_runs}/{cell.trials} runs with an anomaly (0 before)", True
    if cell.question != "cost" or cell.throughput_ci95 is None:
        return f"anomalies {runs_before}/{before.get('trials')} -> {cell.anomaly_runs}/{cell.trials}", False
    old_ci = before.get("throughput_ci95")
    old_mean = before.get("throughput_mean")
    if not isinstance(old_ci, list) or len(old_ci) != 2 or not old_mean:
        return "no saved interval", False
    low, high = cell.throughput_ci95
    change = (
        f"{old_mean:,.0f} -> {cell.throughput_mean:,.0f} purchases/s ({(cell.throughput_mean or 0) / old_mean:.2f}x)"
    )
    if high < float(old_ci[0]):
        return f"slower beyond the intervals: {change}", _below(cell.repetitions, before.get("repetitions"), old_mean)
    if low > float(old_ci[1]):
        return f"faster beyond the intervals: {change}", False
    return f"no change beyond the intervals: {change}", False
