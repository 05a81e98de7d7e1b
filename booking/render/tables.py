"""A Comparison as tables: on the terminal, in Markdown, in CSV."""

from __future__ import annotations

import contextlib
import csv
import html
import io
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from booking.compare.cells import Cell, Comparison


def _num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None else fmt.format(value)


def _p(cell: Cell) -> str:
    low, high = cell.anomaly_ci95
    return f"{cell.anomaly_probability:.0%} [{low:.0%}, {high:.0%}]"


def _mm(mean: float, top: int) -> str:
    return f"{mean:g} / {top}"


# One list of columns serves the terminal and Markdown tables; a new strategy adds rows, not code.
COLUMNS: list[tuple[str, Callable[[Cell], str]]] = [
    ("strategy", lambda c: c.label),
    ("store", lambda c: c.store),
    ("schedule", lambda c: c.schedule),
    ("buyers", lambda c: str(c.buyers)),
    ("P(anomaly) [95% CI]", _p),
    ("oversold mean/max", lambda c: _mm(c.oversold_mean, c.oversold_max)),
    ("double-sold mean/max", lambda c: _mm(c.double_sold_mean, c.double_sold_max)),
    ("lost updates mean/max", lambda c: _mm(c.lost_updates_mean, c.lost_updates_max)),
    ("undersold mean/max", lambda c: _mm(c.undersold_mean, c.undersold_max)),
    ("errors", lambda c: str(c.errors)),
    ("retries/conflicts", lambda c: f"{c.retries}/{c.conflicts}"),
    ("purchases/s (±sd)", lambda c: f"{_num(c.throughput_mean)} (±{_num(c.throughput_sd)})"),
    (
        "p50/p95/p99 ms",
        lambda c: "/".join(_num(x, "{:.2f}") for x in (c.latency_p50_ms, c.latency_p95_ms, c.latency_p99_ms)),
    ),
    ("lock wait", lambda c: _num(c.lock_wait_share, "{:.0%}")),
    ("fairness (Jain)", lambda c: _num(c.fairness, "{:.2f}")),
    ("vs none", lambda c: c.vs_none or "—"),
]


# The terminal gets a narrower table per store and schedule: maxima instead of mean/max pairs.
TERMINAL_COLUMNS: list[tuple[str, Callable[[Cell], str]]] = [
    ("buyers", lambda c: str(c.buyers)),
    ("P(anomaly) [95% CI]", _p),
    ("over", lambda c: str(c.oversold_max)),
    ("double", lambda c: str(c.double_sold_max)),
    ("lost", lambda c: str(c.lost_updates_max)),
    ("under", lambda c: str(c.undersold_max)),
    ("errors", lambda c: str(c.errors)),
    ("retries", lambda c: str(c.retries)),
    ("purchases/s", lambda c: _num(c.throughput_mean)),
    ("p50 ms", lambda c: _num(c.latency_p50_ms, "{:.2f}")),
    ("p99 ms", lambda c: _num(c.latency_p99_ms, "{:.2f}")),
    ("lock wait", lambda c: _num(c.lock_wait_share, "{:.0%}")),
    ("Jain", lambda c: _num(c.fairness, "{:.2f}")),
    ("vs none", lambda c: c.vs_none.replace(" than none", "") or "—"),
]


def print_table(comparison: Comparison, console: Console) -> None:
    cfg = comparison.config
    console.print(
        f"{cfg.trials} trials per cell, {cfg.tickets} tickets, buyers buy until sold out; anomaly counts are "
        "maxima over the trials (--format md/json/csv/html for means and every column)",
        highlight=False,
        markup=False,
    )
    groups: dict[tuple[str, str], list[Cell]] = {}
    for cell in comparison.cells:
        groups.setdefault((cell.store, cell.schedule), []).append(cell)
    for (store, schedule), cells in groups.items():
        table = Table(title=f"{store} — {schedule}", title_justify="left")
        table.add_column("strategy", max_width=36)
        for header, _ in TERMINAL_COLUMNS:
            table.add_column(header, justify="right")
        for i, cell in enumerate(cells):
            first = i == 0 or cells[i - 1].strategy != cell.strategy
            last = i == len(cells) - 1 or cells[i + 1].strategy != cell.strategy
            style = "red" if cell.broken else ("yellow" if cell.anomaly_runs else None)
            table.add_row(
                cell.label if first else "", *(get(cell) for _, get in TERMINAL_COLUMNS), style=style, end_section=last
            )
        console.print(table)
    for cell in comparison.broken:
        console.print(
            f"[bold red]documented as safe but showed an anomaly:[/] {cell.strategy} on {cell.store}, "
            f"{cell.buyers} buyers, {cell.schedule} ({cell.anomaly_runs}/{cell.trials} trials)",
            highlight=False,
        )


def markdown(comparison: Comparison) -> str:
    def row(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = [
        row([h for h, _ in COLUMNS]),
        row(["---"] * len(COLUMNS)),
        *(row([get(c) for _, get in COLUMNS]) for c in comparison.cells),
        "",
        row(["strategy", "store", "correct", "scope", "cost"]),
        row(["---"] * 5),
        *(row([c.label, c.store, "yes" if c.correct else "**no**", c.scope, c.cost]) for c in comparison.conclusions),
        "",
        f"`{comparison.command}` — " + ", ".join(f"{k} {v}" for k, v in comparison.versions.items()),
    ]
    return "\n".join(lines) + "\n"


def to_csv(comparison: Comparison) -> str:
    out = io.StringIO()
    rows = [asdict(c) for c in comparison.cells]
    for r in rows:
        low, high = r.pop("anomaly_ci95")
        r["anomaly_ci95_low"], r["anomaly_ci95_high"] = low, high
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["strategy"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def console(width: int | None = None) -> Console:
    """A console for people; a pipe or a file gets `width` columns, so wide tables come whole."""
    out = Console(highlight=False, soft_wrap=True)
    if width and not out.is_terminal:
        out.width = width
    return out


def schema_line(state: Any) -> str:
    """`booking db`: where a store's schema is, against this booking's head."""
    where = "no schema" if state.revision is None else f"revision {state.revision}"
    if not state.exists:
        where = "no such file, so " + where
    if not state.known:
        mark = f" (unknown to this booking, made by a newer one; head is {state.head})"
    else:
        mark = " (head)" if state.at_head else f" (head is {state.head})"
    return f"{state.store}: {where}{mark}"


@contextlib.contextmanager
def progress_bar(show: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A transient Rich progress bar, as a callback (done, total); None when not shown."""
    if not show:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("comparing strategies", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def strategy_table(rows: list[dict[str, Any]]) -> Table:
    """`booking strategies`: name, stores, scope, description (and where it is the default)."""
    table = Table(box=None, pad_edge=False)
    for column in ("strategy", "stores", "scope", "description"):
        table.add_column(column, overflow="fold")
    for row in rows:
        default = f" (default: {', '.join(row['default_for'])})" if row["default_for"] else ""
        table.add_row(row["name"], ", ".join(row["stores"]), row["scope"], row["description"] + default)
    return table
