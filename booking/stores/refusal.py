"""The words a claim refuses a run with: the store is in use by another run, or cannot be claimed at all."""

from __future__ import annotations

from booking.errors import CannotRun
from booking.i18n.lang import _


def refusal(display: str, exclusive: bool, where: str = "") -> CannotRun:
    lock = _(" (held on {where})").format(where=where) if where else ""
    if exclusive:
        why = _("seeding it now would change the stock under that run's buyers")
    else:
        why = _("that run seeded it, and joining would change the stock under its buyers")
    return CannotRun(
        _("store {display} is in use by another booking run{lock}: {why}; wait for it to finish").format(
            display=display, lock=lock, why=why
        )
    )


def unclaimable(display: str, where: str, exc: OSError | str) -> CannotRun:
    """Taking the claim failed: the run is refused (it would otherwise run unguarded), in one line."""
    why = exc if isinstance(exc, str) else exc.strerror or type(exc).__name__
    return CannotRun(
        _("store {display}: cannot claim it for this run ({where}: {why}); refused rather than run unguarded").format(
            display=display, where=where, why=why
        )
    )
