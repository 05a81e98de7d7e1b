"""The notes' store: db.json holding {"count": N}, written atomically."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from booking.errors import BadInput, CannotRun
from booking.files import opened
from booking.i18n.lang import _
from booking.kit import points
from booking.options.choices import MAX_TICKETS
from booking.stores import locks
from booking.stores.base import FinalState, Seen, StoreKind

MAX_STORE_BYTES = 4096  # {"count": N} is a few bytes; a larger file is not a counter store
DEFAULT_MODE = 0o644  # a new db.json (the umask of a plain open, without the umask's surprises)


class CounterStore:
    """db.json. A ticket is the count value a buyer decremented: reading 1 and writing 0 is ticket #1.

    A symlinked db.json is resolved: the file it points to is the one written, and the link stays.
    Every write keeps the file's other keys, its mode and (where allowed) its owner.
    """

    kind = StoreKind.COUNTER

    def __init__(self, path: str | Path, durable: bool = False) -> None:
        self.path = Path(path)
        self.display = str(path)
        self.durable = durable
        self._doc: dict[str, Any] = {}  # the last file read: its other keys are written back
        self._stat: os.stat_result | None = None  # and its mode and owner

    @property
    def target(self) -> Path:
        """The file written: db.json itself, or what it links to."""
        return Path(os.path.realpath(self.path))

    # -- validation: everything here raises BadInput/CannotRun and changes nothing
    def check(self) -> int:
        missing = _("no such file (run `booking init --store {path}`)").format(path=self.path)
        with opened(self.path, "store", missing, mode="rb") as src:
            return self._remember(src)

    def check_writable(self) -> None:
        """Prove the directory takes a new file (the atomic replace needs one) before any write."""
        directory = self.target.parent
        if not directory.is_dir():
            raise BadInput(
                _("store {path}: directory {directory} does not exist").format(path=self.path, directory=directory)
            )
        try:
            fd, probe = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".probe", dir=directory)
        except OSError as exc:
            raise BadInput(
                _("store {path}: directory {directory} cannot be written ({strerror})").format(
                    path=self.path, directory=directory, strerror=exc.strerror
                )
            ) from None
        os.close(fd)
        os.unlink(probe)

    # -- the store protocol
    def prepare(self, seed: int | None, force: bool = False, beside: bool = False) -> int:
        if seed is None:
            return self.check()
        if self.path.exists() or self.path.is_symlink():
            try:
                self.check()  # never overwrite a file we do not understand
            except BadInput:
                if not force:
                    raise
                self._doc = {}  # --force: a fresh {"count": N}, in the file's place and mode
        self.check_writable()
        try:
            self._replace(seed)
        except OSError as exc:
            raise CannotRun(
                _("store {path}: cannot write ({strerror})").format(path=self.path, strerror=exc.strerror)
            ) from None
        return seed

    def remaining(self) -> int:
        return self._load()

    def read(self) -> Seen:
        count = self._load()
        return Seen(count, count if count > 0 else None)

    def write(self, seen: Seen, buyer: int) -> int:
        # The notes' write: whatever was read, minus one. Unprotected, that is the race.
        count = seen.value - 1
        self._replace(count)
        return count

    def final(self) -> FinalState:
        return FinalState(remaining=self._load())

    def tidy(self) -> None:
        """Remove temporary files left by writers that died (killed mid-write): never the store.

        Names are compared as text (a store called `st[1].json` is not a pattern)."""
        target = self.target
        head = f".{target.name}."
        with contextlib.suppress(OSError), os.scandir(target.parent) as entries:
            for entry in entries:
                if not (entry.name.startswith(head) and entry.name.endswith(".tmp")):
                    continue
                pid = entry.name[len(head) :].split(".", 1)[0]
                if pid.isdigit() and not _alive(int(pid)) and entry.is_file(follow_symlinks=False):
                    _unlink_quietly(entry.path)

    def lock_path(self) -> Path:
        # Lock a separate file: os.replace swaps the data file's inode, a lock on it protects nothing.
        return locks.beside(self.path)

    def warm(self) -> None:
        self.remaining()  # the file read once: its pages in the cache

    def footprint(self) -> dict[str, int]:
        try:
            return {"bytes": self.path.stat().st_size}
        except OSError:
            return {}

    def close(self) -> None:
        pass

    # -- file handling
    def _load(self) -> int:
        with open(self.path, "rb") as src:
            return self._remember(src)

    def _remember(self, src: Any) -> int:
        """Parse an open db.json; keep its other keys, mode and owner for the next write."""
        self._doc = _parse(src.read(MAX_STORE_BYTES + 1), self.path)
        self._stat = os.fstat(src.fileno())
        return int(self._doc["count"])

    def _replace(self, count: int) -> None:
        # A temporary file then os.replace: a reader sees the old file or the new, never a torn one.
        data = json.dumps({**self._doc, "count": count}).encode()
        target = self.target
        # mkstemp: O_CREAT|O_EXCL|O_NOFOLLOW and an unpredictable name, in the target's directory, so a
        # file planted ahead (a symlink to someone else's file) is never written through. The pid
        # in the name tells a file left by a writer that died from one a live writer is filling.
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
        try:
            self._keep_mode(fd)
            with os.fdopen(fd, "wb") as out:
                half = len(data) // 2
                out.write(data[:half])
                out.flush()
                points.hit(points.MID_WRITE)  # --kill-at mid-write: the temporary file is half written
                out.write(data[half:])
                if self.durable:
                    out.flush()
                    os.fsync(out.fileno())
            points.hit(points.BEFORE_COMMIT)  # written, not yet in place
            os.replace(tmp, target)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        if self.durable:
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def _keep_mode(self, fd: int) -> None:
        """The new file gets the old one's mode, and its owner where this user may give it."""
        st = self._stat
        os.fchmod(fd, stat.S_IMODE(st.st_mode) if st is not None else DEFAULT_MODE)
        if st is not None and (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            with contextlib.suppress(PermissionError):
                os.fchown(fd, st.st_uid, st.st_gid)


def _parse(raw: bytes, path: Path) -> dict[str, Any]:
    """The document, once it is known to be {"count": N, ...} with N a whole number in range."""
    if len(raw) > MAX_STORE_BYTES:
        raise BadInput(
            _("store {path}: larger than {MAX_STORE_BYTES} bytes, not a db.json counter").format(
                path=path, MAX_STORE_BYTES=MAX_STORE_BYTES
            )
        )
    if not raw.strip():
        raise BadInput(_('store {path}: empty file, expected {{"count": N}}').format(path=path))
    try:
        data = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise BadInput(_('store {path}: not JSON, expected {{"count": N}}').format(path=path)) from None
    except BadInput as exc:
        raise BadInput(_("store {path}: {exc}").format(path=path, exc=exc)) from None
    if not isinstance(data, dict) or "count" not in data:
        raise BadInput(_('store {path}: wrong shape, expected {{"count": N}}').format(path=path))
    count = data["count"]
    if isinstance(count, bool) or not isinstance(count, int):
        raise BadInput(
            _("store {path}: count must be a whole number, got {value}").format(path=path, value=json.dumps(count)[:40])
        )
    if count < 0:
        raise BadInput(_("store {path}: count must not be negative, got {count}").format(path=path, count=count))
    if count > MAX_TICKETS:
        raise BadInput(
            _("store {path}: count must be at most {MAX_TICKETS:,} (the limit of this lab), got {count:.3g}").format(
                path=path, MAX_TICKETS=MAX_TICKETS, count=count
            )
        )
    return data


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """{"count": 1, "count": 5} is ambiguous (which one did the writer mean?): refuse it."""
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise BadInput(_("duplicate key {key!r}").format(key=key))
    return dict(pairs)


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
