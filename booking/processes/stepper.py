"""Step mode, for a projector: the parent holds the run before each barrier opens, says what comes next,
and goes on when Enter is pressed (`Keys`) or after N milliseconds (`Paced`).

The parent alone decides when a barrier opens (the start barrier in crowd.py, the window's in
schedule.py), so holding the run is holding the parent a moment before it lets the buyers go: they are
all waiting at their gates then, and nothing races meanwhile. `q` stops the run as Ctrl-C does (SIGINT:
every child stopped, the run so far shown, one line, exit 130). A signal while held ends the hold at
once: the wait watches the signal pipe of processes/signals.py too.
"""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Callable
from typing import Protocol

from booking.processes import signals

Tell = Callable[[str, list[int], str], None]  # says what comes next: the point, the buyers, why the gate opens


class Stepper(Protocol):
    def hold(self, point: str, buyers: list[int], why: str) -> bool:
        """Before the gate at `point` lets `buyers` go: True to open it, False when the run is stopped."""


class NoSteps:
    """Not stepping: every barrier opens at once."""

    def hold(self, point: str, buyers: list[int], why: str) -> bool:
        return True


NO_STEPS = NoSteps()


class Paced:
    """--step-ms N: each barrier held N milliseconds, after saying what comes next; no keyboard."""

    def __init__(self, ms: float, tell: Tell) -> None:
        self._s = ms / 1000
        self._tell = tell

    def hold(self, point: str, buyers: list[int], why: str) -> bool:
        if signals.pending() is not None:
            return False  # the run is stopping: no gate opens, nothing more is said
        self._tell(point, buyers, why)
        return _wait([], self._s)


class Keys:
    """--step: each barrier held until a line is typed on the terminal `keys` (a file descriptor): Enter
    goes on, q (or the end of input) stops the run."""

    def __init__(self, tell: Tell, keys: int = 0) -> None:
        self._tell = tell
        self._keys = keys

    def hold(self, point: str, buyers: list[int], why: str) -> bool:
        if signals.pending() is not None:
            return False
        self._tell(point, buyers, why)
        if not _wait([self._keys], None):
            return False  # a signal came while held
        typed = os.read(self._keys, 1024)  # a terminal gives a whole line at once
        if typed.strip().lower() == b"q" or typed == b"":
            signal.raise_signal(signal.SIGINT)  # as Ctrl-C: the crowd stops, the run ends interrupted
            return False
        return True


def _wait(fds: list[int], timeout_s: float | None) -> bool:
    """Until one of `fds` is readable, or `timeout_s` has passed; False when a signal came meanwhile."""
    wake = signals.wake_fd()
    select.select([*fds, *([wake] if wake is not None else [])], [], [], timeout_s)
    return signals.pending() is None
