"""A lane per buyer: the reads, writes and lock waits of a run as a sequence diagram in plain text."""

from __future__ import annotations

from booking.result import RunResult
from booking.stores.base import StoreKind
from booking.words import steps

LANE = 22  # characters per buyer lane
MAX_LANES = 6


def lanes(result: RunResult, buyers: list[int] | None = None) -> str:
    """The diagram for `buyers` (default: the first anomaly's witnesses, else everyone), at most 6 lanes."""
    if buyers is None:
        witnesses = next((a.buyers for a in result.verdict.anomalies if a.buyers), None)
        buyers = witnesses or sorted({a.buyer for a in result.history.attempts})
    shown = sorted(set(buyers))[:MAX_LANES]
    counter = result.kind is StoreKind.COUNTER
    rows = sorted(
        (s.t, s.buyer, s.short)
        for a in result.history.attempts
        if a.buyer in shown
        for s in steps(a, counter)
        if s.short
    )
    column = {b: i for i, b in enumerate(shown)}
    header = "      time  " + "".join(f"buyer {b}".ljust(LANE) for b in shown)
    lines = [header.rstrip(), "            " + "".join(("|" + " " * (LANE - 1)) for _ in shown).rstrip()]
    for t, buyer, text in rows:
        cells = ["|".ljust(LANE) for _ in shown]
        cells[column[buyer]] = ("* " + text)[: LANE - 1].ljust(LANE)
        lines.append(f"{t * 1000:8.1f}ms  " + "".join(cells).rstrip())
    if len(set(buyers)) > MAX_LANES:
        lines.append(f"            ({len(set(buyers)) - MAX_LANES} more buyers not shown)")
    return "\n".join(lines)


def story(result: RunResult) -> str:
    """The anomalies in words, then a lane per buyer involved: what a failure message shows."""
    stories = [f"{a.kind}: {line}" for a in result.verdict.anomalies for line in a.story]
    return "\n".join([*stories, lanes(result)])
