"""A lane per buyer: the reads, writes and lock waits of a run as a sequence diagram in plain text."""

from __future__ import annotations

from booking.history import Attempt, Outcome
from booking.simulation import RunResult
from booking.stores.base import StoreKind

LANE = 22  # characters per buyer lane
MAX_LANES = 6


def _steps(a: Attempt, counter: bool) -> list[tuple[float, str]]:
    steps: list[tuple[float, str]] = []
    if a.t_acquired is not None and a.lock_wait_s > 0.0005:
        steps.append((a.t_acquired, f"lock (waited {a.lock_wait_s * 1000:.1f}ms)"))
    if a.t_read is not None:
        if a.read is None:
            steps.append((a.t_read, "at after-read"))
        else:
            steps.append((a.t_read, f"read count={a.read}" if counter else f"sees #{a.read} free"))
    if a.outcome is Outcome.OK and a.t_write is not None:
        if counter and a.wrote is not None:
            steps.append((a.t_write, f"write {a.wrote}, ticket #{a.ticket}"))
        else:
            steps.append((a.t_write, f"-> ticket #{a.ticket}"))
    elif a.outcome is Outcome.SOLD_OUT:
        steps.append((a.t_end, "sold out"))
    elif a.outcome is Outcome.CONFLICT:
        steps.append((a.t_end, "gave up (conflicts)"))
    elif a.outcome is Outcome.ERROR:
        steps.append((a.t_end, "error"))
    return steps


def lanes(result: RunResult, buyers: list[int] | None = None) -> str:
    """The diagram for `buyers` (default: the first anomaly's witnesses, else everyone), at most 6 lanes."""
    if buyers is None:
        witnesses = next((a.buyers for a in result.verdict.anomalies if a.buyers), None)
        buyers = witnesses or sorted({a.buyer for a in result.history.attempts})
    shown = sorted(set(buyers))[:MAX_LANES]
    counter = result.kind is StoreKind.COUNTER
    rows: list[tuple[float, int, str]] = []
    for a in result.history.attempts:
        if a.buyer in shown:
            rows.extend((t, a.buyer, text) for t, text in _steps(a, counter))
    rows.sort()
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
