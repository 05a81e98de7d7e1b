"""Did the buyers race at all? The most buyers inside the race window at one instant, and why a run
without an anomaly proved nothing when that is fewer than two (DESIGN.md: overlap before "no race")."""

from __future__ import annotations

from booking.history import History, Outcome
from booking.i18n.lang import _


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


def inconclusive(history: History, most: int | None) -> str | None:
    """Why a run without an anomaly proved nothing: the buyers never overlapped in the race window."""
    racing = {a.buyer for a in history.attempts}
    if history.missed:
        return _("{missed}: the fault was not injected, so the run cannot show what it does").format(
            missed=history.missed[0]
        )
    if most is None or most >= 2 or not history.attempts:
        return None
    if len(racing) < 2:
        return _("one buyer cannot race: run two or more")
    if most == 0:
        return _(
            'no buyer reached the race window (a purchase function must call point("after-read") where its window is)'
        )
    if any(g.why == "stalled" for g in history.gates):
        return _(
            "the buyers never overlapped in the race window: they were blocked before it, one at a time "
            '(your code serializes before its point, e.g. a lock taken before point("after-read"))'
        )
    return _("the buyers never overlapped in the race window (at most one was inside it at a time): nothing was proved")
