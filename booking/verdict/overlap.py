"""Did the buyers race at all? The most buyers inside the race window at one instant, and why a run
without an anomaly proved nothing when that is fewer than two (DESIGN.md: overlap before "no race"), as data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from booking.history import Attempt, History, Outcome


def _exit(a: Attempt) -> float:
    """When an attempt left its race window: its write, or the end of the attempt."""
    return a.t_write if a.outcome is Outcome.OK and a.t_write is not None else a.t_end


def overlap(history: History) -> int | None:
    """The most buyers inside their race window at one instant, from when each reached its window to
    its write (or the end of its attempt). None for a history that does not record windows."""
    spans = [(a.t_window, _exit(a)) for a in history.attempts if a.t_window is not None]
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


@dataclass(frozen=True)
class Serialized:
    """Proof that correct code serialized its buyers: they were released together, each was already
    trying before the one ahead of it left the window, and each entered only after that one left, sooner
    than that one had stayed inside (a chain of hand-offs, not a staggered start)."""

    buyers: int  # the buyers that contended
    handoffs: int  # entries that followed the previous buyer's exit
    widest_gap_s: float  # the longest time from a buyer's exit to the next one's entry


def serialized(history: History) -> Serialized | None:
    """The chain of hand-offs in the history, or None when it is not there or cannot be known: a schedule
    that let one buyer go at a time (booking serialized them, not your code), a buyer that began after the
    previous one had left (a staggered start), an entry before the previous exit, or one that came later
    after it than the previous buyer had stayed inside (arrivals not following departures)."""
    windows = sorted((a for a in history.attempts if a.t_window is not None), key=lambda a: a.t_window or 0.0)
    together = any(g.point == "start" and len(g.buyers) >= 2 for g in history.gates)
    one_at_a_time = any(g.why == "next" for g in history.gates)  # random, exhaustive: booking serialized them
    if not together or one_at_a_time or len({a.buyer for a in windows}) < 2:
        return None
    gaps = []
    for before, after in pairwise(windows):
        # It left when its COMMIT began, when your connection said so: the next one was let in as it ended.
        left = min(_exit(before), before.t_commit) if before.t_commit is not None else _exit(before)
        entered = before.t_window or 0.0
        gap = (after.t_window or 0.0) - left
        if after.t_start > left or gap < 0 or gap > left - entered:
            return None
        gaps.append(gap)
    return Serialized(len({a.buyer for a in windows}), len(gaps), max(gaps))
