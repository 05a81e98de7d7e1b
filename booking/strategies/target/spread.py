"""How close a target's requests landed: booking's send spread (the last bytes going out) and, where the
server says when it had each request (`Server-Timing: arrival;desc=T`), the arrival spread at the server.

Overlap inside the endpoint is shown when every request of a round had arrived before the first answer
came back: then all of them were in the endpoint together, whatever it does with them.
"""

from __future__ import annotations

from typing import Any

from booking.history import History


def spread(history: History, foreign: bool) -> dict[str, Any]:
    """The first round's spreads in milliseconds (None: not measured), whether the requests were inside the
    endpoint together, and whether an OK can be taken as proved (`foreign`: not booking's own service)."""
    first = [a for a in history.attempts if a.attempt == 0 and a.t_sent is not None]
    sent = [a.t_sent for a in first if a.t_sent is not None]
    arrived = [a.arrived_at for a in first if a.arrived_at is not None]
    answered = [a.answered_at for a in first if a.answered_at is not None]
    measured = len(first) > 1 and len(arrived) == len(first)
    together = bool(measured and answered and max(arrived) < min(answered))
    return {
        "requests": len(first),
        "sent_ms": round((max(sent) - min(sent)) * 1000, 3) if len(sent) > 1 else None,
        "one_process": bool(first) and all(a.released for a in first),  # every last byte written by the parent
        "arrived_ms": round((max(arrived) - min(arrived)) * 1000, 3) if measured else None,
        "together": together if measured else None,
        "proved": together or not foreign,
    }
