"""The columns of a comparison, said once: the terminal, Markdown and HTML tables all take them from here.

Rows are labelled by strategy name (the description goes in a legend beside the table); a new
strategy adds rows, never code. Correctness cells (lockstep) and cost cells (steady state) answer
different questions, so they have different columns.
"""

from __future__ import annotations

from collections.abc import Callable

from booking.compare.cells import Cell
from booking.compare.reference import rate_words, times

Column = tuple[str, Callable[[Cell], str]]


def num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None else fmt.format(value)


def p_anomaly(cell: Cell) -> str:
    low, high = cell.anomaly_ci95
    return f"{cell.anomaly_probability:.0%} [{low:.0%}-{high:.0%}]"


DASH = "\u2013"


def span(pair: tuple[float, float] | None) -> str:
    """'1,180-1,420' with an en dash; never a minus sign in it (a rate's interval stops at 0)."""
    return "—" if pair is None else f"{pair[0]:,.0f}{DASH}{pair[1]:,.0f}"


def throughput(cell: Cell) -> str:
    """'12,345 (11,900-12,800)': the mean of the repetitions and its 95% interval (the terminal's column)."""
    if cell.throughput_mean is None:
        return "—"
    if cell.throughput_ci95 is None:
        return num(cell.throughput_mean)
    return f"{cell.throughput_mean:,.0f} ({span(cell.throughput_ci95)})"


def flags(cell: Cell) -> str:
    """What a reader must know about a cost figure: outlying repetitions, extra ones, an interval still wide."""
    said = []
    if cell.outliers:
        said.append("outliers " + ", ".join(f"{x:,.0f}" for x in cell.outliers))
    if cell.still_wide:
        said.append("still wide when the budget ran out")
    elif cell.extra_repetitions:
        said.append(f"+{cell.extra_repetitions} repetitions for a wide interval")
    return "; ".join(said)


def short_relation(cell: Cell) -> str:
    """What fits a terminal column: 'ref', '≈', '2.1x slower', '1.3x faster', 'unsafe'."""
    r = cell.vs_reference
    if cell.relation == "reference":
        return "ref"
    if cell.relation == "indistinguishable":
        return "≈"
    if cell.relation == "unsafe":
        return "unsafe"
    if r is None or not cell.relation:
        return "—"
    return f"{times(1 / r)}x slower" if cell.relation == "slower" else f"{times(r)}x faster"


def store_size(cell: Cell) -> str:
    """'270 kB' (and ', 0 dead rows' where the database counts them): the store once reset, before the buyers."""
    size = cell.store_before
    if "bytes" not in size:
        return "—"
    dead = f", {size['dead_rows']:,} dead rows" if "dead_rows" in size else ""
    return f"{size['bytes'] / 1000:,.0f} kB{dead}"


def maxima(name: str) -> Callable[[Cell], str]:
    return lambda c: str(getattr(c, f"{name}_max"))


def mean_max(name: str) -> Callable[[Cell], str]:
    return lambda c: f"{getattr(c, f'{name}_mean'):g} / {getattr(c, f'{name}_max')}"


# The terminal: 80 columns. Anomaly counts are maxima over the trials.
TERMINAL_CORRECTNESS: list[Column] = [
    ("buyers", lambda c: str(c.buyers)),
    ("P(anomaly)", p_anomaly),
    ("over", maxima("oversold")),
    ("lost", maxima("lost_updates")),
    ("errors", lambda c: str(c.errors)),
    ("unproved", lambda c: str(c.inconclusive_runs)),
]
TERMINAL_COST: list[Column] = [
    ("buyers", lambda c: str(c.buyers)),
    ("purchases/s (95%)", throughput),
    ("min\u2013max", lambda c: span(c.throughput_range)),
    ("vs ref", short_relation),
    ("p99 ms", lambda c: num(c.latency_p99_ms, "{:.1f}")),
    ("wait", lambda c: num(c.lock_wait_share, "{:.0%}")),
]

# Markdown and HTML: every figure, one row per cell.
CORRECTNESS: list[Column] = [
    ("strategy", lambda c: c.strategy),
    ("store", lambda c: c.store),
    ("buyers", lambda c: str(c.buyers)),
    ("trials", lambda c: str(c.trials)),
    ("P(anomaly) [95% CI]", p_anomaly),
    ("oversold mean/max", mean_max("oversold")),
    ("double-sold mean/max", mean_max("double_sold")),
    ("lost updates mean/max", mean_max("lost_updates")),
    ("undersold mean/max", mean_max("undersold")),
    ("errors", lambda c: str(c.errors)),
    ("retries/conflicts", lambda c: f"{c.retries}/{c.conflicts}"),
    ("inconclusive", lambda c: str(c.inconclusive_runs)),
]
COST: list[Column] = [
    ("strategy", lambda c: c.strategy),
    ("store", lambda c: c.store),
    ("buyers", lambda c: str(c.buyers)),
    ("purchases/s", rate_words),
    ("notes", flags),
    ("vs reference", lambda c: c.vs_reference_words or "—"),
    (
        "p50/p95/p99 ms",
        lambda c: "/".join(num(x, "{:.2f}") for x in (c.latency_p50_ms, c.latency_p95_ms, c.latency_p99_ms)),
    ),
    ("lock wait", lambda c: num(c.lock_wait_share, "{:.0%}")),
    ("fairness (Jain)", lambda c: num(c.fairness, "{:.2f}")),
    ("retries/conflicts", lambda c: f"{c.retries}/{c.conflicts}"),
    ("errors", lambda c: str(c.errors)),
    ("window", lambda c: f"{num(c.window_s, '{:.2f}')} s, {c.trials} repetitions ({c.crowd or '—'} crowds)"),
    ("store before", store_size),
]


def legend(cells: list[Cell]) -> list[tuple[str, str, str]]:
    """(name, description, scope) of every strategy in the cells, in order of appearance."""
    seen: dict[str, tuple[str, str, str]] = {}
    for c in cells:
        seen.setdefault(c.strategy, (c.strategy, c.label + ("" if c.safe else " (unsafe)"), c.scope))
    return list(seen.values())
