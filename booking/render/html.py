"""The HTML report: one self-contained page, charts drawn by matplotlib as inline SVG (no script, no network)."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from booking.compare.cells import Cell, Comparison
from booking.errors import CannotRun
from booking.render.tables import COLUMNS, escape
from booking.words import install_hint

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
tr.bad td { background: #fde2e2; } tr.warn td { background: #fff6d6; }
figure { display: inline-block; margin: 0 1em 1em 0; } figcaption { font-weight: 600; }
code { background: #f5f5f5; padding: 1px 4px; }
pre.timeline { background: #fafafa; border: 1px solid #ddd; padding: 6px; font-size: 11px; overflow-x: auto; }
"""


def html_report(comparison: Comparison) -> str:
    charts = [
        ("Throughput against buyers", _throughput_chart(comparison.cells)),
        ("Anomaly probability (95% Wilson interval)", _anomaly_chart(comparison.cells)),
        ("Purchase latency percentiles", _latency_chart(comparison.cells)),
    ]
    figures = "\n".join(
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{svg}</figure>' for title, svg in charts
    )
    conclusions = "\n".join(
        f'<tr class="{"" if c.correct else "bad"}"><td>{escape(c.label)}</td><td>{escape(c.store)}</td>'
        f"<td>{'yes' if c.correct else '<b>no</b>'}</td><td>{escape(c.scope)}</td><td>{escape(c.cost)}</td></tr>"
        for c in comparison.conclusions
    )
    head = "".join(f"<th>{escape(h)}</th>" for h, _ in COLUMNS)
    rows = "\n".join(
        f'<tr class="{_row_class(c)}">' + "".join(f"<td>{escape(get(c))}</td>" for _, get in COLUMNS) + "</tr>"
        for c in comparison.cells
    )
    witnessed = [c for c in comparison.cells if c.timeline]
    anomalies = (
        "\n".join(
            f"<h3>{escape(c.label)} — {escape(c.store)}, {c.schedule}, {c.buyers} buyers</h3>"
            f'<pre class="timeline">{escape(c.timeline)}</pre>'
            for c in witnessed
        )
        or "<p>No trial showed an anomaly.</p>"
    )
    versions = ", ".join(f"{escape(k)} {escape(v)}" for k, v in comparison.versions.items())
    verdict = (
        "Every strategy documented as safe showed no anomaly."
        if not comparison.broken
        else f"<b>{len(comparison.broken)} cells of strategies documented as safe showed an anomaly.</b>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>booking compare</title><style>{CSS}</style></head>
<body>
<h1>booking compare</h1>
<p>{verdict} {comparison.config.trials} trials per cell, {comparison.config.tickets} tickets, buyers buy until sold
out; {comparison.elapsed_s:.1f} s in all.</p>
<h2>Conclusions</h2>
<table id="conclusions"><tr><th>strategy</th><th>store</th><th>correct</th><th>scope</th><th>cost</th></tr>
{conclusions}
</table>
<h2>Charts</h2>
{figures}
<h2>Anomalies, as they happened</h2>
{anomalies}
<h2>Every cell</h2>
<table id="cells"><tr>{head}</tr>
{rows}
</table>
<h2>How this was made</h2>
<p><code id="command">{escape(comparison.command)}</code></p>
<p id="versions">{versions}</p>
</body></html>
"""


def _row_class(cell: Cell) -> str:
    if cell.anomaly_runs and cell.safe:
        return "bad"
    return "warn" if cell.anomaly_runs else ""


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CannotRun(f"the HTML report needs matplotlib: {install_hint('report')}") from None
    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9})
    return plt


def _svg(fig: Any) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    text = out.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: inline SVG needs neither


def _name(cell: Cell, stores: int) -> str:
    return cell.strategy if stores == 1 else f"{cell.strategy} ({cell.store.rsplit('/', 1)[-1]})"


def _focus(cells: list[Cell], schedule: str) -> list[Cell]:
    """The cells of one schedule when there are any, else all."""
    return [c for c in cells if c.schedule == schedule] or cells


def _throughput_chart(cells: list[Cell]) -> str:
    plt = _pyplot()
    stores = sorted({c.store for c in cells})
    fig, axes = plt.subplots(1, len(stores), figsize=(5.5 * len(stores), 3.6), squeeze=False)
    for ax, store in zip(axes[0], stores, strict=True):
        lines: dict[str, list[Cell]] = defaultdict(list)
        for c in _focus([c for c in cells if c.store == store], "free"):
            lines[c.strategy].append(c)
        for strategy, cs in lines.items():
            cs.sort(key=lambda c: c.buyers)
            ax.errorbar(
                [c.buyers for c in cs],
                [c.throughput_mean or 0 for c in cs],
                yerr=[c.throughput_sd or 0 for c in cs],
                marker="o",
                capsize=3,
                label=strategy,
            )
        ax.set_title(store.rsplit("/", 1)[-1])
        ax.set_xlabel("buyers")
        ax.set_ylabel("purchases/s")
        ax.set_xscale("log", base=2)
        counts = sorted({c.buyers for c in cells})
        ax.set_xticks(counts, [str(b) for b in counts])
        ax.minorticks_off()
        ax.legend(fontsize=7)
    return _svg(fig)


def _at_most_buyers(cells: list[Cell], schedule: str) -> list[Cell]:
    chosen = _focus(cells, schedule)
    top: dict[tuple[str, str], Cell] = {}
    for c in chosen:
        key = (c.store, c.strategy)
        if key not in top or c.buyers > top[key].buyers:
            top[key] = c
    return list(top.values())


def _anomaly_chart(cells: list[Cell]) -> str:
    plt = _pyplot()
    cs = _at_most_buyers(cells, "lockstep")
    stores = len({c.store for c in cs})
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(cs) + 1), 3.6))
    xs = range(len(cs))
    probs = [c.anomaly_probability for c in cs]
    low = [c.anomaly_probability - c.anomaly_ci95[0] for c in cs]
    high = [c.anomaly_ci95[1] - c.anomaly_probability for c in cs]
    colors = ["#c0392b" if c.anomaly_runs and c.safe else ("#e67e22" if c.anomaly_runs else "#27ae60") for c in cs]
    ax.bar(xs, probs, yerr=[low, high], capsize=3, color=colors)
    for x, c in zip(xs, cs, strict=True):
        ax.annotate(f"{c.anomaly_runs}/{c.trials}", (x, c.anomaly_probability), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(xs), [_name(c, stores) for c in cs], rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"P(anomaly), {cs[0].buyers if cs else 0} buyers, {cs[0].schedule if cs else ''}")
    return _svg(fig)


def _latency_chart(cells: list[Cell]) -> str:
    plt = _pyplot()
    cs = _at_most_buyers(cells, "free")
    stores = len({c.store for c in cs})
    fig, ax = plt.subplots(figsize=(max(4.0, 0.8 * len(cs) + 1), 3.6))
    width = 0.27
    for i, (name, attr) in enumerate((("p50", "latency_p50_ms"), ("p95", "latency_p95_ms"), ("p99", "latency_p99_ms"))):
        ax.bar([x + (i - 1) * width for x in range(len(cs))], [getattr(c, attr) or 0 for c in cs], width, label=name)
    ax.set_xticks(list(range(len(cs))), [_name(c, stores) for c in cs], rotation=45, ha="right")
    ax.set_ylabel("ms per purchase (log scale)")
    ax.set_yscale("log")
    plain = plt.matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.legend(fontsize=7)
    return _svg(fig)
