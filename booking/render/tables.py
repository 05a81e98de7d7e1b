"""A Comparison as tables: on the terminal, in Markdown, in CSV."""

from __future__ import annotations

import contextlib
import csv
import html
import io
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import fields
from typing import Any

from rich.console import Console
from rich.table import Table

from booking.compare.cells import Cell, Comparison
from booking.i18n.lang import _
from booking.render.advice import advice_lines
from booking.render.columns import CORRECTNESS, COST, TERMINAL_CORRECTNESS, TERMINAL_COST, legend
from booking.render.timeline import story


def header(comparison: Comparison) -> list[str]:
    """What the tables are: the two measurements, the run counts, partial or regressions."""
    cfg = comparison.config
    lines = [
        f"correctness: lockstep, {cfg.trials} trials per cell, {cfg.tickets} tickets bought until sold out; "
        "P(anomaly) [95% Wilson interval]; anomaly counts are maxima over the trials; unproved: trials where "
        "fewer than two buyers overlapped.",
        f"cost: steady state, {cfg.repetitions} independent repetitions per cell (more where the interval was "
        f"wide, within {cfg.budget_s:g} s), each a fresh crowd on a freshly reset store buying {cfg.duration_s:g} s "
        "after every buyer was ready; the mean of the repetitions (95% interval from them; min-max); vs ref: against a "
        "safe reference strategy, ≈ when the intervals overlap (indistinguishable); unsafe ones are not compared.",
    ]
    if comparison.partial:
        lines.append(f"PARTIAL: {comparison.partial}; the cells below are those with finished runs.")
    return lines


def print_table(comparison: Comparison, console: Console) -> None:
    from rich import box

    width = min(console.width, 80)
    for line in advice_lines(comparison):
        console.print(textwrap.fill(line, width), highlight=False, markup=False)
        console.print("", highlight=False, markup=False)
    for line in header(comparison):
        console.print(textwrap.fill(line, width, subsequent_indent="  "), highlight=False, markup=False)
    groups: dict[tuple[str, str], list[Cell]] = {}
    for cell in comparison.cells:
        groups.setdefault((cell.store, cell.question), []).append(cell)
    for (store, question), cells in groups.items():
        ref = next((c.reference for c in cells if c.reference), None)
        title = f"{store}: {question}" + (f" (reference {ref})" if ref and question == "cost" else "")
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1))
        longest = max(len(c.strategy) for c in cells)
        table.add_column("strategy", overflow="fold", min_width=min(longest, 22), max_width=22)
        columns = TERMINAL_COST if question == "cost" else TERMINAL_CORRECTNESS
        for head, _width in columns:
            table.add_column(head, justify="right", no_wrap=True)
        for i, cell in enumerate(cells):
            first = i == 0 or cells[i - 1].strategy != cell.strategy
            style = "red" if cell.broken else ("yellow" if cell.anomaly_runs else None)
            table.add_row(cell.strategy if first else "", *(get(cell) for _, get in columns), style=style)
        console.print(table)
    console.print("strategies:", highlight=False, markup=False)
    for name, description, scope in legend(comparison.cells):
        line = textwrap.fill(
            f"{name}: {description}; protects {scope}", width, initial_indent="  ", subsequent_indent="    "
        )
        console.print(line, highlight=False, markup=False)
    for cell in comparison.broken:
        console.print(
            f"[bold red]documented as safe but showed an anomaly:[/] {cell.strategy} on {cell.store}, "
            f"{cell.buyers} buyers, {cell.schedule} ({cell.anomaly_runs}/{cell.trials} trials)",
            highlight=False,
        )
    for regression in comparison.regressions:
        console.print(f"[bold red]worse than the baseline:[/] {regression}", highlight=False)


def text_table(comparison: Comparison, width: int = 80) -> str:
    """The terminal table as plain text (`--format table --out FILE`)."""
    out = io.StringIO()
    print_table(comparison, Console(file=out, width=width, no_color=True, highlight=False, soft_wrap=False))
    return out.getvalue()


def markdown(comparison: Comparison) -> str:
    def row(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    lines = ["## What to pick", ""] + [f"{line}\n" for line in advice_lines(comparison)]
    lines += [f"> {line}" for line in header(comparison)] + [""]
    for question, columns in (("correctness", CORRECTNESS), ("cost", COST)):
        cells = [c for c in comparison.cells if c.question == question]
        if not cells:
            continue
        lines += [f"### {question}", "", row([h for h, _ in columns]), row(["---"] * len(columns))]
        lines += [row([get(c) for _, get in columns]) for c in cells] + [""]
    lines += ["### conclusions", "", row(["strategy", "store", "correct", "scope", "cost"]), row(["---"] * 5)]
    lines += [
        row([c.strategy, c.store, "yes" if c.correct else "**no**", c.scope, c.cost]) for c in comparison.conclusions
    ]
    lines += ["", row(["strategy", "what it is", "protects"]), row(["---"] * 3)]
    lines += [row([f"`{n}`", d, s]) for n, d, s in legend(comparison.cells)]
    lines += ["", f"`{comparison.command}` — " + ", ".join(f"{k} {v}" for k, v in comparison.versions.items())]
    return "\n".join(lines) + "\n"


def cell_row(c: Cell) -> dict[str, Any]:
    """A cell as the JSON and CSV reports carry it: its figures, and where its witness run was, the
    timeline (the run's stories and a lane per buyer involved; "" when no trial showed an anomaly)."""
    row: dict[str, Any] = {}
    for f in fields(c):
        if f.name == "witness":
            row["timeline"] = "" if c.witness is None else story(c.witness)
        else:
            row[f.name] = getattr(c, f.name)
    return row


def to_csv(comparison: Comparison) -> str:
    out = io.StringIO()
    rows = [cell_row(c) for c in comparison.cells]
    for r in rows:
        for name in ("repetitions", "outliers"):  # lists: one field, the values separated by spaces
            r[name] = " ".join(f"{x:g}" for x in r[name])
        for name in ("bytes", "dead_rows"):
            r[f"store_before_{name}"] = r["store_before"].get(name)
        del r["store_before"]
        for name in ("anomaly_ci95", "throughput_ci95", "throughput_range", "vs_reference_ci95"):
            low, high = r.pop(name) or (None, None)
            r[f"{name}_low"], r[f"{name}_high"] = low, high
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
    where = _("no schema") if state.revision is None else _("revision {revision}").format(revision=state.revision)
    if not state.exists:
        where = _("no such file, so {where}").format(where=where)
    if not state.known:
        mark = _(" (unknown to this booking, made by a newer one; head is {head})").format(head=state.head)
    else:
        mark = _(" (head)") if state.at_head else _(" (head is {head})").format(head=state.head)
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
    for column in (_("strategy"), _("stores"), _("scope"), _("description")):
        table.add_column(column, overflow="fold")
    for row in rows:
        default = _(" (default: {stores})").format(stores=", ".join(row["default_for"])) if row["default_for"] else ""
        table.add_row(row["name"], ", ".join(row["stores"]), _(row["scope"]), _(row["description"]) + default)
    return table
