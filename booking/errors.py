"""The two ways a command can fail before it has a verdict (DESIGN.md §7)."""

from __future__ import annotations


class BookingError(Exception):
    """A failure reported as one line and an exit code, never as a traceback."""

    exit_code = 3


class BadInput(BookingError):
    """Bad usage or bad input (an option out of range, a corrupt store or history): exit 2."""

    exit_code = 2


class CannotRun(BookingError):
    """The run could not be carried out (store unreachable, not writable, a buyer stuck): exit 3."""

    exit_code = 3
