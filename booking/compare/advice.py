"""What to pick, as data: per store, the strategies that were safe there, fastest first, at the most buyers.

A strategy is a candidate when it is documented as safe and showed no anomaly in any of the store's
cells. Candidates whose purchases/s intervals overlap the fastest remaining one's are one group
(indistinguishable: this comparison cannot order them); each later group is said as what it costs
over the fastest, a ratio with its interval from the repetitions. The words are render/advice.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from booking.compare.cells import Cell
from booking.stats import overlap, ratio_ci


@dataclass
class Standing:
    strategy: str
    scope: str
    cell: Cell = field(repr=False)
    slower: float | None = None  # the fastest's purchases/s over this one's (1: the fastest itself)
    slower_ci95: tuple[float, float] | None = None


@dataclass
class Advice:
    store: str
    buyers: int
    groups: list[list[Standing]]  # fastest first; the strategies in one group are indistinguishable
    unsafe: list[str]  # documented unsafe, your own code (not known to be safe), or an anomaly seen here
    unmeasured: list[str] = field(default_factory=list)  # safe, but no cost figure at these buyers

    def to_json(self) -> dict[str, object]:
        return {
            "store": self.store,
            "buyers": self.buyers,
            "groups": [
                [
                    {
                        "strategy": s.strategy,
                        "throughput_mean": s.cell.throughput_mean,
                        "slower": s.slower,
                        "slower_ci95": s.slower_ci95,
                    }
                    for s in group
                ]
                for group in self.groups
            ],
            "unsafe": self.unsafe,
            "unmeasured": self.unmeasured,
        }


def advise(cells: list[Cell]) -> list[Advice]:
    """One Advice per store that has cost cells."""
    out = []
    for store in dict.fromkeys(c.store for c in cells):
        mine = [c for c in cells if c.store == store]
        costs = [c for c in mine if c.question == "cost" and c.throughput_mean is not None]
        if not costs:
            continue
        buyers = max(c.buyers for c in costs)
        strategies = list(dict.fromkeys(c.strategy for c in mine))
        unsafe = [s for s in strategies if any(not c.safe or c.anomaly_runs for c in mine if c.strategy == s)]
        at = {c.strategy: c for c in costs if c.buyers == buyers and c.strategy not in unsafe}
        ranked = sorted(at.values(), key=lambda c: -(c.throughput_mean or 0))
        unmeasured = [s for s in strategies if s not in unsafe and s not in at]
        out.append(Advice(store, buyers, _groups(ranked), unsafe, unmeasured))
    return out


def _groups(ranked: list[Cell]) -> list[list[Standing]]:
    groups: list[list[Standing]] = []
    fastest = ranked[0] if ranked else None
    for c in ranked:
        standing = Standing(c.strategy, c.scope, c)
        if fastest is not None:
            found = ratio_ci(fastest.repetitions, c.repetitions)
            standing.slower, standing.slower_ci95 = found if found else (None, None)
        if groups and overlap(groups[-1][0].cell.throughput_ci95, c.throughput_ci95):
            groups[-1].append(standing)
        else:
            groups.append([standing])
    return groups
