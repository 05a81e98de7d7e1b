"""Files booking reads (a db.json, a history) and writes (a history, a report).

Read: refused in one line unless it is a regular file (a FIFO would block the open forever, a
device like /dev/zero never ends). Written: proved writable before the work (a probe is written,
so /dev/full fails then, not after the run), never the store itself, and kept somewhere when the
file system refuses it after the work.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from booking.errors import BadInput, CannotRun
from booking.i18n.lang import _

NAME_MAX = 255  # bytes in one path component (Linux, macOS)
PATH_MAX = 4096
# Errors that say the path itself is wrong (a symlink loop, a name too long, a file used as a
# directory): bad input, exit 2, not the environment.
PATH_ERRNOS = {errno.ELOOP: "a symlink loop", errno.ENAMETOOLONG: "name too long", errno.ENOTDIR: "not a directory"}


def check_path(path: Path, what: str) -> None:
    """Refuse a path no file system takes (a component over 255 bytes, a path over 4,096) before using it."""
    raw = os.fsencode(path)
    if len(raw) >= PATH_MAX or any(len(part) > NAME_MAX for part in raw.split(b"/")):
        raise BadInput(_("{what}: name too long").format(what=what))


def path_error(exc: OSError, what: str) -> BadInput | None:
    """A BadInput when `exc` says the path is wrong, None when it says something about the environment."""
    problem = PATH_ERRNOS.get(exc.errno or 0)
    return BadInput(f"{what}: {problem}") if problem else None


@contextlib.contextmanager
def opened(path: Path, what: str, missing: str = "no such file", **how: Any) -> Iterator[IO[Any]]:
    """`open(path, **how)` for reading, each failure said in one line: BadInput for the input, CannotRun
    for the environment. `missing` is what to say when the file does not exist."""
    check_path(path, f"{what} {path}")
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            raise BadInput(_("{what} {path}: not a regular file").format(what=what, path=path))
        src = open(path, **how)  # noqa: SIM115 - closed below; errors of the open are mapped here
    except FileNotFoundError:
        raise BadInput(_("{what} {path}: {missing}").format(what=what, path=path, missing=missing)) from None
    except IsADirectoryError:
        raise BadInput(_("{what} {path}: is a directory").format(what=what, path=path)) from None
    except PermissionError:
        raise CannotRun(_("{what} {path}: permission denied").format(what=what, path=path)) from None
    except OSError as exc:
        raise path_error(exc, f"{what} {path}") or CannotRun(
            _("{what} {path}: cannot be read ({value})").format(what=what, path=path, value=exc.strerror or exc)
        ) from None
    with src:
        yield src


def same_file(a: Path, b: Path) -> bool:
    """Whether `a` and `b` name one file: the same path once links are resolved, or the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_writable(path: Path, what: str, never: Iterable[Path] = ()) -> None:
    """Fail before the run, not after it, when `path` cannot be written (BadInput, exit 2).

    `never`: files the output must not be (the store and its companions): refused, whatever the link.
    A FIFO or a socket is refused (writing one would block or go nowhere); a device gets a probe
    (/dev/full fails it, /dev/null takes it); a new file is created, probed and removed again.
    """
    check_path(path, f"{what} {path}")
    _destination(path, what, never)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise path_error(exc, f"{what} {path}") or BadInput(
            _("{what} {path}: cannot be written ({strerror})").format(what=what, path=path, strerror=exc.strerror)
        ) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise BadInput(_("{what} {path}: cannot be written (Is a directory)").format(what=what, path=path))
    if mode is not None and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        raise BadInput(_("{what} {path}: not a regular file").format(what=what, path=path))
    try:
        _probe(path, new=mode is None, device=mode is not None and not stat.S_ISREG(mode))
    except OSError as exc:
        raise path_error(exc, f"{what} {path}") or BadInput(
            _("{what} {path}: cannot be written ({strerror})").format(what=what, path=path, strerror=exc.strerror)
        ) from None


def _probe(path: Path, new: bool, device: bool) -> None:
    if new:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, b"\n")  # a full disk refuses this
        finally:
            os.close(fd)
            os.unlink(path)
        return
    with open(path, "ab") as out:
        if device:
            out.write(b"\n")  # /dev/full refuses it; an existing regular file is left as it is
            out.flush()


def write_text(path: Path, text: str, what: str, never: Iterable[Path] = ()) -> None:
    """Write `text` to `path` without ever writing through a link someone else planted, nor into one of
    `never` (the store and its companions), checked again now: the path may have changed since the run
    began. A regular file is replaced whole (a temporary file beside it, then a rename: a reader never
    sees half of it, and a link swapped in meanwhile is replaced, not followed); a device is written in
    place. When the file system refuses, the text is kept in a temporary file and said where (CannotRun,
    exit 3): the work that made it is not lost."""
    try:
        target = _destination(path, what, never)
        _replace(target, text)
    except BadInput as exc:
        kept = keep(text, path.suffix)
        raise BadInput(_("{error}; kept in {kept}").format(error=exc, kept=kept)) from None
    except OSError as exc:
        kept = keep(text, path.suffix)
        raise CannotRun(
            _("{what} {path}: cannot be written ({value}); kept in {kept}").format(
                what=what, path=path, value=exc.strerror or exc, kept=kept
            )
        ) from None


def _destination(path: Path, what: str, never: Iterable[Path]) -> Path:
    """The file `path` names once links are followed, refused when it is one of `never`, or when `path`
    is a link planted in a sticky, world-writable directory by someone else (what the kernel's
    fs.protected_symlinks refuses, which is off on some machines)."""
    for protected in never:
        if same_file(path, protected):
            raise BadInput(
                _("{what} {path}: is the store {protected}; writing it would destroy the store").format(
                    what=what, path=path, protected=protected
                )
            )
    if path.is_symlink():
        if _planted(path):
            raise BadInput(
                _("{what} {path}: a link another user made in a shared directory; not followed").format(
                    what=what, path=path
                )
            )
        return Path(os.path.realpath(path))
    return path


def _planted(link: Path) -> bool:
    """A link in a sticky world-writable directory (like /tmp) owned neither by us nor by the directory's owner."""
    directory = os.stat(link.parent)
    owner = os.lstat(link).st_uid
    shared = directory.st_mode & stat.S_ISVTX and directory.st_mode & stat.S_IWOTH
    return bool(shared) and owner not in (os.geteuid(), directory.st_uid)


def _replace(target: Path, text: str) -> None:
    data = text.encode("utf-8")
    try:
        mode = os.stat(target, follow_symlinks=False).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):  # a device (/dev/null, a tty): written in place
        fd = os.open(target, os.O_WRONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # O_EXCL: follows no link
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(temporary, target)  # replaces the name: a link swapped in meanwhile is not followed
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def keep(text: str, suffix: str) -> str:
    """`text` in a new temporary file; its path."""
    fd, kept = tempfile.mkstemp(prefix="booking-", suffix=suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return kept
