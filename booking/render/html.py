"""The HTML report: one self-contained page (no script, nothing fetched), charts as inline SVG (render/charts.py).

Strategy names label every row, with the description beside them; each anomalous cell keeps one
timeline, folded in <details>; the page stays small.
"""

from __future__ import annotations

from collections.abc import Mapping

from booking.compare.cells import Cell, Comparison
from booking.render.advice import advice_lines
from booking.render.charts import anomaly_chart, latency_chart, throughput_chart
from booking.render.columns import CORRECTNESS, COST, Column, legend
from booking.render.tables import escape
from booking.render.timeline import story

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1180px; padding: 0 1em; color: #222;
  overflow-wrap: break-word; }
td { overflow-wrap: anywhere; } td.name, td:nth-child(2) { overflow-wrap: normal; white-space: nowrap; }
#advice p { font-size: 15px; } #advice { border-left: 4px solid #27ae60; padding-left: 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } .name { font-family: monospace; white-space: nowrap; font-weight: 600; }
tr.bad td { background: #fde2e2; } tr.warn td { background: #fff6d6; }
figure { margin: 1em 0; } figcaption { font-weight: 600; }
code { background: #f5f5f5; padding: 1px 4px; } .small { color: #555; font-size: 12px; }
.scroll { overflow-x: auto; } .partial { background: #fff3cd; padding: .5em; border: 1px solid #e0c36b; }
pre.timeline { background: #fafafa; border: 1px solid #ddd; padding: 6px; font-size: 11px; overflow-x: auto; }
"""
MAX_TIMELINE = 4000  # characters of one cell's timeline kept in the page


def html_report(comparison: Comparison) -> str:
    charts = [
        ("What each safe strategy costs (steady state, the mean of the repetitions)", throughput_chart),
        ("Purchase latency at the most buyers (steady state)", latency_chart),
        ("Anomaly probability (lockstep, 95% Wilson interval)", anomaly_chart),
    ]
    figures = "\n".join(
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{drawn}</figure>'
        for title, draw in charts
        if (drawn := draw(comparison.cells)) is not None
    )
    cfg = comparison.config
    partial = (
        f'<p class="partial" id="partial"><b>Partial report:</b> {escape(comparison.partial)}.</p>'
        if comparison.partial
        else ""
    )
    verdict = (
        "Every strategy documented as safe showed no anomaly."
        if not comparison.broken
        else f"<b>{len(comparison.broken)} cells of strategies documented as safe showed an anomaly.</b>"
    )
    regressions = "".join(f"<li>{escape(r)}</li>" for r in comparison.regressions)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>booking compare</title><style>{CSS}</style></head>
<body>
<h1>booking compare</h1>
{partial}
<section id="advice"><h2>What to pick</h2>
{"".join(f"<p>{escape(line)}</p>" for line in advice_lines(comparison))}
</section>
<p>{verdict} Correctness: lockstep, {cfg.trials} trials per cell, {cfg.tickets} tickets bought until sold out.
Cost: steady state, {cfg.repetitions} independent repetitions per cell, each a fresh crowd on a freshly reset store
buying for {cfg.duration_s:g} s after every buyer was ready (start-up is not counted); ratios are against a safe
reference, and overlapping intervals are called indistinguishable. {comparison.elapsed_s:.1f} s in all.</p>
{f"<h2>Worse than the baseline</h2><ul id='regressions'>{regressions}</ul>" if regressions else ""}
<h2>Conclusions</h2>
<div class="scroll"><table id="conclusions"><tr><th>strategy</th><th>store</th><th>correct</th><th>scope</th>
<th>cost</th></tr>
{_conclusions(comparison)}
</table></div>
<h2>Charts</h2>
{figures}
<h2>Anomalies, as they happened</h2>
{_anomalies(comparison.cells)}
<h2>Every cell</h2>
{_cells(comparison.cells, "correctness", CORRECTNESS)}
{_cells(comparison.cells, "cost", COST)}
<h2>Strategies</h2>
<div class="scroll"><table id="strategies"><tr><th>strategy</th><th>what it is</th><th>protects</th></tr>
{_legend(comparison.cells)}
</table></div>
<h2>How this was made</h2>
<p><code id="command">{escape(comparison.command)}</code></p>
<p id="machine" class="small">{_pairs(comparison.machine)}</p>
<p id="versions" class="small">{_pairs(comparison.versions)}</p>
</body></html>
"""


def _legend(cells: list[Cell]) -> str:
    return "".join(
        f'<tr><td class="name">{escape(n)}</td><td>{escape(d)}</td><td>{escape(s)}</td></tr>'
        for n, d, s in legend(cells)
    )


def _pairs(data: Mapping[str, object]) -> str:
    return ", ".join(f"{escape(str(k))} {escape(str(v))}" for k, v in data.items())


def _conclusions(comparison: Comparison) -> str:
    return "\n".join(
        f'<tr class="{"" if c.correct else ("bad" if c.safe else "warn")}"><td><span class="name">{escape(c.strategy)}'
        f'</span><div class="small">{escape(c.label)}</div></td><td>{escape(c.store)}</td>'
        f"<td>{'yes' if c.correct else '<b>no</b>'}</td><td>{escape(c.scope)}</td><td>{escape(c.cost)}</td></tr>"
        for c in comparison.conclusions
    )


def _anomalies(cells: list[Cell]) -> str:
    witnessed = [(c, story(c.witness)) for c in cells if c.witness is not None]
    if not witnessed:
        return "<p>No trial showed an anomaly.</p>"
    out = []
    for c, timeline in witnessed:
        text = timeline if len(timeline) <= MAX_TIMELINE else timeline[:MAX_TIMELINE] + "\n..."
        out.append(
            f"<details><summary>{escape(c.strategy)} — {escape(c.store)}, {c.schedule}, {c.buyers} buyers: "
            f"{c.anomaly_runs}/{c.trials} runs</summary>"
            f'<pre class="timeline">{escape(text)}</pre></details>'
        )
    return "\n".join(out)


def _cells(cells: list[Cell], question: str, columns: list[Column]) -> str:
    chosen = [c for c in cells if c.question == question]
    if not chosen:
        return ""
    with_baseline = any(c.baseline for c in chosen)
    head = "".join(f"<th>{escape(h)}</th>" for h, _ in columns) + ("<th>baseline</th>" if with_baseline else "")
    rows = "\n".join(
        f'<tr class="{_row_class(c)}">'
        + "".join(f"<td{' class=name' if h == 'strategy' else ''}>{escape(get(c))}</td>" for h, get in columns)
        + (f"<td>{escape(c.baseline)}</td>" if with_baseline else "")
        + "</tr>"
        for c in chosen
    )
    return f'<h3>{question}</h3><div class="scroll"><table id="{question}"><tr>{head}</tr>\n{rows}\n</table></div>'


def _row_class(cell: Cell) -> str:
    if cell.broken:
        return "bad"
    return "warn" if cell.anomaly_runs else ""
