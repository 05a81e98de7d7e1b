"""The HTML report's charts, drawn by matplotlib as inline SVG: each fits the page and labels its axes.

- what each safe strategy costs: purchases/s at the most buyers with its interval and min-max;
- latency percentiles (p50, p95, p99) as ranges on a log axis with plain tick labels;
- anomaly probability with its Wilson interval, at the most buyers of the lockstep cells.
"""

from __future__ import annotations

import io
from typing import Any

from booking.compare.cells import Cell
from booking.errors import CannotRun
from booking.i18n.lang import _
from booking.i18n.words import install_hint

WIDTH_IN = 7.5  # about 720 px: inside the page's column


def pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CannotRun(
            _("the HTML report needs matplotlib: {install_hint}").format(install_hint=install_hint("report"))
        ) from None
    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "booking"})
    return plt


def svg(fig: Any) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    pyplot().close(fig)
    text = out.getvalue()
    text = text[text.index("<svg") :]  # inline SVG needs no XML prolog or doctype
    # Scale with the page: the width and height attributes become a viewBox-only, max-width figure.
    return text.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)


def throughput_chart(cells: list[Cell]) -> str | None:
    """What each safe strategy costs: purchases/s at the most buyers, a panel per store, one row per
    strategy, fastest on top; a dot for the mean, a thick bar for its 95% interval, a thin line for the
    repetitions' min-max. Unsafe strategies are not a choice and are left out."""
    costs = [c for c in _top(cells, "cost") if c.safe and not c.anomaly_runs and c.throughput_mean]
    if not costs:
        return None
    plt = pyplot()
    stores = {store: [c for c in costs if c.store == store] for store in dict.fromkeys(c.store for c in costs)}
    heights = [len(cs) for cs in stores.values()]
    fig, axes = plt.subplots(
        len(stores), 1, figsize=(WIDTH_IN, 0.3 * sum(heights) + 0.9 * len(stores)), squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )  # fmt: skip
    for ax, (store, cs) in zip(axes[:, 0], stores.items(), strict=True):
        cs.sort(key=lambda c: c.throughput_mean or 0)
        for y, c in enumerate(cs):
            mean = c.throughput_mean or 0.0
            low, high = c.throughput_range or (mean, mean)
            ci_low, ci_high = c.throughput_ci95 or (mean, mean)
            ax.plot([low, high], [y, y], color="#999", linewidth=1)
            ax.plot([ci_low, ci_high], [y, y], color="C1", linewidth=5, solid_capstyle="butt")
            ax.plot([mean], [y], "o", color="C0", ms=5)
        ax.set_yticks(range(len(cs)), [c.strategy for c in cs])
        ax.set_ylim(-0.6, len(cs) - 0.4)
        ax.set_xlim(left=0)
        ax.set_title(f"{store}, {cs[0].buyers} buyers", fontsize=9, loc="left")
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.grid(axis="x", alpha=0.3)
    axes[-1][0].set_xlabel("purchases/s: ● mean of the repetitions   ▬ 95% interval   — min-max")
    fig.tight_layout()
    return svg(fig)


def _top(cells: list[Cell], question: str) -> list[Cell]:
    """Per store and strategy, the cell of this question with the most buyers."""
    top: dict[tuple[str, str], Cell] = {}
    for c in cells:
        if c.question == question and (
            (c.store, c.strategy) not in top or c.buyers > top[(c.store, c.strategy)].buyers
        ):
            top[(c.store, c.strategy)] = c
    return list(top.values())


def _name(c: Cell, stores: int) -> str:
    return c.strategy if stores == 1 else f"{c.strategy} · {c.store}"


def _rows(cs: list[Cell]) -> tuple[Any, Any, Any, list[int], int]:
    """A figure with one row per cell, top to bottom; and how many stores the cells span (for names)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.28 * len(cs) + 1.0))
    return plt, fig, ax, list(range(len(cs)))[::-1], len({c.store for c in cs})


def latency_chart(cells: list[Cell]) -> str | None:
    cs = [c for c in _top(cells, "cost") if c.latency_p50_ms and c.latency_p99_ms]
    if not cs:
        return None
    plt, fig, ax, ys, stores = _rows(cs)
    for y, c in zip(ys, cs, strict=True):
        ax.plot([c.latency_p50_ms, c.latency_p99_ms], [y, y], color="#888", linewidth=1.5)
        ax.plot([c.latency_p50_ms], [y], "o", color="C0", ms=4)
        ax.plot([c.latency_p95_ms], [y], "|", color="C1", ms=9, mew=2)
        ax.plot([c.latency_p99_ms], [y], "s", color="C3", ms=4)
    ax.set_yticks(ys, [_name(c, stores) for c in cs])
    ax.set_xscale("log")
    plain = plt.matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_locator(plt.matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
    ax.set_xlabel(f"ms per purchase at {max(c.buyers for c in cs)} buyers: ● p50   | p95   ■ p99")
    ax.grid(axis="x", alpha=0.3)
    return svg(fig)


def anomaly_chart(cells: list[Cell]) -> str | None:
    cs = _top(cells, "correctness")
    if not cs:
        return None
    _, fig, ax, ys, stores = _rows(cs)
    probs = [c.anomaly_probability for c in cs]
    low = [c.anomaly_probability - c.anomaly_ci95[0] for c in cs]
    high = [c.anomaly_ci95[1] - c.anomaly_probability for c in cs]
    colors = ["#c0392b" if c.broken else ("#e67e22" if c.anomaly_runs else "#27ae60") for c in cs]
    ax.barh(ys, probs, xerr=[low, high], capsize=3, color=colors, height=0.6)
    for y, c in zip(ys, cs, strict=True):
        ax.annotate(f"{c.anomaly_runs}/{c.trials}", (1.02, y), va="center", fontsize=7, annotation_clip=False)
    ax.set_yticks(ys, [_name(c, stores) for c in cs])
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"P(anomaly) in lockstep at {max(c.buyers for c in cs)} buyers (bar: 95% Wilson interval)")
    return svg(fig)
