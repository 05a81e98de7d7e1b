"""Files booking writes (a history, a report): proved writable before the work, written whole after it."""

from __future__ import annotations

from pathlib import Path

from booking.errors import BadInput, CannotRun


def check_writable(path: Path, what: str) -> None:
    """Fail before the run, not after it, when `path` cannot be written (BadInput, exit 2)."""
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise BadInput(f"{what} {path}: cannot be written ({exc.strerror})") from None


def write_text(path: Path, text: str, what: str) -> None:
    """Write `text` to `path`; CannotRun (exit 3) when the file system refuses."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CannotRun(f"{what} {path}: cannot be written ({exc.strerror or exc})") from None
