"""Ratios that mean something: each cost cell against a reference strategy, with an interval.

The reference is a safe strategy (the store's default unless --reference says otherwise). Two
figures whose 95% intervals overlap are "indistinguishable", never "1.3x faster". An unsafe
strategy's cost is shown and marked unsafe; it is never the baseline of a "slower than" claim.
"""

from __future__ import annotations

from collections import defaultdict

from booking.compare.cells import Cell, Conclusion
from booking.stats import overlap, ratio_ci


def pick_reference(wanted: str | None, default: str, present: list[tuple[str, bool]]) -> str | None:
    """The reference among a store's (strategy, safe) rows: the one asked for, else the store's default,
    else the first safe one; never an unsafe strategy."""
    safe = [name for name, ok in present if ok]
    for name in (wanted, default):
        if name in safe:
            return name
    return safe[0] if safe else None


def relate(
    cells: list[Cell], references: dict[str, str | None], samples: dict[tuple[str, str, str, int], list[float]]
) -> None:
    """Fill each cost cell's ratio to its store's reference at the same buyers."""
    by_key = {c.key: c for c in cells}
    for c in cells:
        if c.question != "cost" or c.throughput_mean is None:
            continue
        ref_name = references.get(c.store)
        c.reference = ref_name
        if not c.safe:  # documented unsafe, or your own code: shown, never compared
            known = not c.strategy.startswith("purchase ")
            c.relation = "unsafe"
            c.vs_reference_words = "unsafe: not compared" if known else "not known to be safe: not compared"
            continue
        ref = by_key.get((c.store, ref_name or "", c.schedule, c.buyers))
        if ref is None or ref.throughput_mean is None:
            continue
        if ref is c:
            c.relation, c.vs_reference, c.vs_reference_words = "reference", 1.0, "the reference"
            continue
        found = ratio_ci(samples.get(c.key, []), samples.get(ref.key, []))
        if found is None:
            continue
        c.vs_reference, c.vs_reference_ci95 = found
        c.relation = _relation(c, ref)
        c.vs_reference_words = _words(c, ref.strategy)


def _relation(c: Cell, ref: Cell) -> str:
    if overlap(c.throughput_ci95, ref.throughput_ci95):
        return "indistinguishable"
    return "faster" if (c.throughput_mean or 0) > (ref.throughput_mean or 0) else "slower"


def times(x: float) -> str:
    """A ratio as people read it, never in e-notation: 1.25, 3.7, 12, 1,300."""
    if x >= 9.95:
        return f"{x:,.0f}"
    return f"{x:.2f}" if x < 1.995 else f"{x:.1f}"


def _words(c: Cell, ref: str) -> str:
    r = c.vs_reference or 0
    if c.relation == "indistinguishable":
        return f"indistinguishable from {ref}"
    low, high = c.vs_reference_ci95 or (r, r)
    if c.relation == "faster":
        return f"{times(r)}x as fast as {ref} (95%: {times(low)}\u2013{times(high)})"
    return f"{times(1 / r)}x slower than {ref} (95%: {times(1 / high)}\u2013{times(1 / low)})"


def conclude(cells: list[Cell]) -> list[Conclusion]:
    """Per store and strategy: correct or not, whom it protects, its cost at the most buyers."""
    out: list[Conclusion] = []
    groups: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for c in cells:
        groups[(c.store, c.strategy)].append(c)
    for (store, strategy), cs in groups.items():
        first = cs[0]
        lockstep = [c for c in cs if c.question == "correctness"]
        costs = [c for c in cs if c.question == "cost" and c.throughput_mean is not None]
        correct = all(x.anomaly_runs == 0 for x in cs)
        proved = any(c.anomaly_runs or c.inconclusive_runs < c.trials for c in lockstep)
        out.append(
            Conclusion(
                store=store,
                strategy=strategy,
                label=first.label,
                scope=first.scope,
                safe=first.safe,
                correct=correct and (proved or not lockstep),
                cost=cost_words(max(costs, key=lambda c: c.buyers)) if costs else "not measured",
            )
        )
    return out


def rate_words(c: Cell) -> str:
    """'1,302 /s (95%: 1,180-1,420; min-max 1,100-1,500)': the mean of the repetitions, its interval, their span."""
    if c.throughput_mean is None:
        return "—"
    said = [] if c.throughput_ci95 is None else [f"95%: {c.throughput_ci95[0]:,.0f}\u2013{c.throughput_ci95[1]:,.0f}"]
    if c.throughput_range is not None:
        said.append(f"min\u2013max {c.throughput_range[0]:,.0f}\u2013{c.throughput_range[1]:,.0f}")
    return f"{c.throughput_mean:,.0f} /s" + (f" ({'; '.join(said)})" if said else "")


def cost_words(c: Cell) -> str:
    """'1,234 /s (95%: 1,100-1,350; min-max ...), p99 3.2 ms at 16 buyers; 2.1x slower than mp-lock (95%: ...)'."""
    tp = rate_words(c)
    if c.real_sales_mean is not None:
        tp += f" (unsafe: only {c.real_sales_mean:,.0f}/s were real sales)"
    p99 = f", p99 {c.latency_p99_ms:.2f} ms" if c.latency_p99_ms is not None else ""
    rel = f"; {c.vs_reference_words}" if c.vs_reference_words else ""
    return f"{tp}{p99} at {c.buyers} buyers{rel}"
