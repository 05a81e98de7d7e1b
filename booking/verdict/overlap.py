"""Did the buyers race at all? The most buyers inside the race window at one instant, and why a run
without an anomaly proved nothing when that is fewer than two (DESIGN.md: overlap before "no race"), as data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from booking.history import History, Outcome


def overlap(history: History) -> int | None:
    """The most buyers inside their race window at one instant, from when each reached its window to
    its write (or the end of its attempt). None for a history that does not record windows."""
    spans = [
        (a.t_window, a.t_write if a.outcome is Outcome.OK and a.t_write is not None else a.t_end)
        for a in history.attempts
        if a.t_window is not None
    ]
    if not spans:
        return 0 if history.gates else None
    edges = sorted(
        [(start, 1) for start, _end in spans] + [(end, -1) for _start, end in spans]
    )  # an end before a start
    inside = most = 0
    for _at, step in edges:
        inside += step
        most = max(most, inside)
    return most


class Unproved(StrEnum):
    """Why a run without an anomaly proved nothing."""

    MISSED = "missed"  # a fault asked for was never injected
    ONE_BUYER = "one-buyer"  # one buyer cannot race
    NO_WINDOW = "no-window"  # no buyer reached the race window (your code never calls point("after-read"))
    STALLED = "stalled"  # the buyers were blocked before the window, one at a time
    NO_OVERLAP = "no-overlap"  # at most one buyer was inside the window at a time
    NOTHING_SEEN = "nothing-seen"  # nothing sold and no stock read: a service that only says "sold out" proves nothing


@dataclass(frozen=True)
class Inconclusive:
    """A run that proved nothing, and why (booking/render/stories.py says it)."""

    why: Unproved
    missed: str = ""  # MISSED: the fault that was not injected, as the run recorded it


def inconclusive(history: History, most: int | None, measured: bool = True) -> Inconclusive | None:
    """Why a run without an anomaly proved nothing: the buyers never overlapped in the race window, or
    (`measured` False: the store was not read) nothing was sold, so nothing was seen to judge."""
    racing = {a.buyer for a in history.attempts}
    if history.missed:
        return Inconclusive(Unproved.MISSED, history.missed[0])
    if not measured and history.attempts and not any(a.outcome is Outcome.OK for a in history.attempts):
        return Inconclusive(Unproved.NOTHING_SEEN)
    if most is None or most >= 2 or not history.attempts:
        return None
    if len(racing) < 2:
        return Inconclusive(Unproved.ONE_BUYER)
    if most == 0:
        return Inconclusive(Unproved.NO_WINDOW)
    if any(g.why == "stalled" for g in history.gates):
        return Inconclusive(Unproved.STALLED)
    return Inconclusive(Unproved.NO_OVERLAP)
