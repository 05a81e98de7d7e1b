"""Files booking reads (a db.json, a history) and writes (a history, a report).

Read: refused in one line unless it is a regular file (a FIFO would block the open forever, a
device like /dev/zero never ends). Written: proved writable before the work, written whole after it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from booking.errors import BadInput, CannotRun


@contextlib.contextmanager
def opened(path: Path, what: str, missing: str = "no such file", **how: Any) -> Iterator[IO[Any]]:
    """`open(path, **how)` for reading, each failure said in one line: BadInput for the input, CannotRun
    for the environment. `missing` is what to say when the file does not exist."""
    if path.exists() and not path.is_dir() and not path.is_file():
        raise BadInput(f"{what} {path}: not a regular file")
    try:
        src = open(path, **how)  # noqa: SIM115 - closed below; errors of the open are mapped here
    except FileNotFoundError:
        raise BadInput(f"{what} {path}: {missing}") from None
    except IsADirectoryError:
        raise BadInput(f"{what} {path}: is a directory") from None
    except PermissionError:
        raise CannotRun(f"{what} {path}: permission denied") from None
    except OSError as exc:
        raise CannotRun(f"{what} {path}: cannot be read ({exc.strerror or exc})") from None
    with src:
        yield src


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
