"""The two ways a command can fail before it has a verdict (DESIGN.md §7)."""

from __future__ import annotations

import errno


class BookingError(Exception):
    """A failure reported as one line and an exit code, never as a traceback."""

    exit_code = 3


class BadInput(BookingError):
    """Bad usage or bad input (an option out of range, a corrupt store or history): exit 2."""

    exit_code = 2


class CannotRun(BookingError):
    """The run could not be carried out (store unreachable, not writable, a buyer stuck): exit 3."""

    exit_code = 3


class Unavailable(Exception):
    """An attempt failed because the environment did, not the strategy: a deadline passed (at the
    barrier, the lock, the queue), the database timed out, refused a connection or went away.

    The verdict counts these apart from the strategy's errors: the run could not be carried out
    (exit 3); they are never an anomaly, so a safe strategy is not called unsafe for them.
    """


# What the machine said when it refused a file operation: a read-only mount, a full disk, a quota, an
# I/O error, no permission, no memory or file descriptors. Never the strategy's doing.
ENVIRONMENT_ERRNOS = frozenset(
    {
        errno.EROFS,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EACCES,
        errno.EPERM,
        errno.ENOMEM,
        errno.EMFILE,
        errno.ENFILE,
    }
)


def unavailable(exc: BaseException) -> bool:
    """Whether a failed attempt says nothing about the strategy: the environment failed it (a deadline,
    a timeout, an unreachable store, a file system that refused the write), or the purchase code ended
    its process (sys.exit, KeyboardInterrupt)."""
    if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
        return True
    return isinstance(exc, (Unavailable, CannotRun)) or not isinstance(exc, Exception)
