"""The store-in-use guard: a run that reseeds a store holds it alone; `--keep` runs may share it.

Two runs on one store corrupt each other's verdicts (one reseeds the stock under the other's buyers), so a run claims
its store for as long as it runs, and a claim that cannot be had is refused at once (CannotRun, exit 3), never waited
for. The claim is keyed on what the store is, not on how it was named:

- db.json and SQLite: flock(2) on `<file>.in-use` beside the file the store's path resolves to (through any link, and
  behind any URL form of a SQLite file, `file:` URIs included), exclusive for a run that seeds the store (simulate,
  init, compare) or changes its schema (db upgrade/downgrade), shared for `--keep`. The kernel releases it when the
  holder dies. The file is removed by the last holder; a claimant checks that the file it locked is still the one at
  that path, so removing it never splits the lock. (Not the data file's inode: db.json is replaced whole by every
  write.)
- PostgreSQL: a session advisory lock (exclusive or shared) on a connection held for the run; advisory locks belong to
  the database, so every URL that reaches it meets the same lock.
- MariaDB has no shared named lock: a seeding run takes GET_LOCK on a gate name and on every one of SLOTS slot names;
  a `--keep` run passes the gate and holds one slot. The names carry DATABASE().

A claim that cannot be taken (a directory or a link where the claim file goes, a directory that takes no new file, a
server that refuses the lock functions) refuses the run: never run unguarded. Not guarded: db.json or SQLite on a
system without flock (Windows). Reading commands (verify, db current) claim nothing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.options.store_url import StoreKind, StoreURL
from booking.stores.journal import FileJournal, Journal, TableJournal
from booking.stores.refusal import refusal, unclaimable

SUFFIX = ".in-use"
PG_KEY = 0x626B672D696E7573  # "bkg-inus": not the advisory strategy's key
SLOTS = 16  # MariaDB: --keep runs that can share one store at once
KEEP_TRIES, KEEP_WAIT_S = 40, 0.025  # a --keep run meeting another's moment alone: up to 1 s, then refused
_held: dict[str, int] = {}  # what this process holds already (compare claims, then each of its runs)


@contextlib.contextmanager
def claim(spec: StoreURL | str, exclusive: bool, timeout_s: float = 60.0) -> Iterator[Journal | None]:
    """Hold `spec` for the block: alone (`exclusive`, a run that seeds it) or shared (`--keep`); a
    server that does not answer within `timeout_s` fails the claim (CannotRun). A shared claim gives
    the journal the runs sharing the store keep (None where there is none to keep)."""
    key, holder = _holder(StoreURL.of(spec), timeout_s)
    if key in _held:  # nested in this process's own claim (a compare's runs)
        _held[key] += 1
        try:
            yield None
        finally:
            _held[key] -= 1
        return
    if holder is not None:
        holder.acquire(exclusive)
    _held[key] = 1
    try:
        yield None if exclusive or holder is None else holder.journal()
    finally:
        del _held[key]
        if holder is not None:
            holder.release()


def _holder(spec: StoreURL, timeout_s: float) -> tuple[str, Any]:
    """The claim for what the store is, whatever its spec looks like: a file store's claim file sits
    beside the file the path resolves to (through links, and behind any URL form of a SQLite file);
    a server's claim is taken on the server, where every client of the database sees it."""
    if spec.kind is StoreKind.REDIS:
        from booking.stores.redis.claim import RedisClaim

        return spec.display, RedisClaim(spec, refusal)
    if not spec.is_file:
        return spec.display, _ServerClaim(spec, timeout_s)
    if spec.path is None:  # SQLite in memory: nothing another process could share
        return spec.display, None
    try:
        path = Path(os.path.realpath(spec.path, strict=False))
    except OSError as exc:  # a link loop, a name too long: no store to claim, and none to run on
        raise unclaimable(spec.display, str(spec.path), exc) from None
    lock = path.with_name(path.name + SUFFIX)
    return str(lock), _FileClaim(lock, spec.display)


def _store_unusable(directory: Path, exc: OSError) -> bool:
    """The store's own directory is missing or takes no new file: the store cannot be written either, and
    its own checks say so in its words (the directory named, exit 2 for db.json, 3 for SQLite)."""
    return not directory.is_dir() or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)


class _FileClaim:
    def __init__(self, path: Path, display: str) -> None:
        self.path, self.display = path, display
        self.fd: int | None = None

    def acquire(self, exclusive: bool) -> None:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): not guarded, as the README says
            return
        for _try in range(5):  # the last holder may remove the file between our open and our lock
            try:
                # O_APPEND: the runs sharing it write their journal lines there whole, never over each other
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            except OSError as exc:  # a directory or a link in its place, a directory that takes no file
                if exc.errno == errno.ENAMETOOLONG:  # the store's own name is too long: the input is wrong
                    raise BadInput(_("store {display}: name too long").format(display=self.display)) from None
                if _store_unusable(self.path.parent, exc):
                    return  # the store's own checks refuse this run before any buyer starts: nothing to guard
                raise unclaimable(self.display, str(self.path), exc) from None
            try:
                _lock(fcntl, fd, exclusive)
                if _same_file(fd, self.path):
                    self.fd = fd
                    return
            except BlockingIOError:
                os.close(fd)
                raise refusal(self.display, exclusive, str(self.path)) from None
            except OSError as exc:  # a file system without flock (some network mounts)
                os.close(fd)
                raise unclaimable(self.display, str(self.path), exc) from None
            os.close(fd)
        raise refusal(self.display, exclusive, str(self.path))

    def journal(self) -> Journal | None:
        return None if self.fd is None else FileJournal(self.fd)

    def release(self) -> None:
        if self.fd is None:
            return
        import fcntl

        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the last holder: nobody shares it
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        except BlockingIOError:
            pass  # --keep runs still share it: the last of them removes it
        finally:
            os.close(self.fd)
            self.fd = None


def _lock(fcntl: Any, fd: int, exclusive: bool) -> None:
    """The claim file's lock, alone (a seeding run) or shared (--keep; BlockingIOError: refused). A --keep run
    holds it alone a moment first: another meeting that moment tries again, up to 1 s, as on a server."""
    for _try in range(1 if exclusive else KEEP_TRIES + 1):
        if _try:
            time.sleep(KEEP_WAIT_S)
        alone = _flock(fcntl, fd, fcntl.LOCK_EX)  # a seeding run, or the first of the --keep runs
        if exclusive and not alone:
            break
        if alone:
            os.ftruncate(fd, 0)  # the journal of the runs that shared the store before is theirs
        if exclusive or _flock(fcntl, fd, fcntl.LOCK_SH):  # from alone to shared, or join
            return
    raise BlockingIOError


def _flock(fcntl: Any, fd: int, mode: int) -> bool:
    """flock without waiting: False when another holder has it."""
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


class _ServerClaim:
    """An advisory lock on the store's database, on a connection the parent holds for the run."""

    def __init__(self, spec: StoreURL, timeout_s: float) -> None:
        self.spec, self.timeout_s = spec, timeout_s
        self.conn: Any = None
        self.db: Any = None

    def acquire(self, exclusive: bool) -> None:
        from booking.stores.connect import Database
        from booking.stores.limits import watchdog

        self.db = Database(self.spec, self.timeout_s)
        try:
            self.conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:
            self.release()
            raise self.db.error(exc) from None
        lock = _pg if self.db.kind is StoreKind.POSTGRESQL else _mysql
        try:
            with watchdog(self.conn, self.timeout_s):
                got = lock(self.conn, exclusive, self._empty_journal)
                # A --keep run holds it alone a moment before sharing it: not to be taken for a seeding run.
                for _ in range(0 if exclusive or got else KEEP_TRIES):
                    time.sleep(KEEP_WAIT_S)
                    if got := lock(self.conn, exclusive, self._empty_journal):
                        break
        except Exception as exc:  # the server refused the lock functions, or stopped answering: never run unguarded
            self.release()
            raise unclaimable(self.db.display, _("an advisory lock"), self.db.reason(exc)) from None
        if not got:
            self.release()
            raise refusal(self.db.display, exclusive, "an advisory lock")

    def _empty_journal(self) -> None:
        """Alone on the store: the journal of the runs that shared it before is theirs (a store without
        booking's tables yet has none)."""
        from sqlalchemy import delete
        from sqlalchemy.exc import DBAPIError

        from booking.stores.schema import keep_runs

        with contextlib.suppress(DBAPIError):
            self.conn.execute(delete(keep_runs))

    def journal(self) -> Journal | None:
        return TableJournal(self.conn)

    def release(self) -> None:
        if self.conn is not None:
            # Said, not left to the session's end: a closed connection's backend lets go of its locks a
            # moment later, and a run that starts at once would find its store in use. Bounded: a server
            # that stopped answering gets its connection cut (limits.watchdog), then closed.
            from booking.stores.limits import watchdog  # SQLAlchemy: imported for server stores only

            unlock = "pg_advisory_unlock_all()" if self.db.kind is StoreKind.POSTGRESQL else "RELEASE_ALL_LOCKS()"
            with contextlib.suppress(Exception), watchdog(self.conn, 0.0):
                self.conn.exec_driver_sql(f"SELECT {unlock}")
            with contextlib.suppress(Exception):
                self.conn.close()  # the session ends: the server releases anything left
            self.conn = None
        if self.db is not None:
            self.db.dispose()


def _pg(conn: Any, exclusive: bool, alone: Callable[[], None]) -> bool:
    """The advisory lock, alone or shared; `alone` is called while it is held alone (the first --keep run)."""
    if conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({PG_KEY})").scalar():
        alone()
        if exclusive:
            return True
        conn.exec_driver_sql(f"SELECT pg_advisory_lock_shared({PG_KEY})")  # ours alone: granted at once
        conn.exec_driver_sql(f"SELECT pg_advisory_unlock({PG_KEY})")
        return True
    return not exclusive and bool(conn.exec_driver_sql(f"SELECT pg_try_advisory_lock_shared({PG_KEY})").scalar())


def _mysql(conn: Any, exclusive: bool, alone: Callable[[], None]) -> bool:
    # Named locks are server-wide: the names carry the database's name.
    database = conn.exec_driver_sql("SELECT DATABASE()").scalar() or ""
    base = "booking-in-use:" + hashlib.sha256(str(database).encode()).hexdigest()[:16]

    def get(name: str) -> bool:
        return bool(conn.exec_driver_sql("SELECT GET_LOCK(%s, 0)", (name,)).scalar() == 1)

    def release(name: str) -> None:
        conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name,))

    if not get(f"{base}:gate"):
        return False
    if exclusive:  # alone: the gate and every slot
        if all(get(f"{base}:{i}") for i in range(SLOTS)):
            alone()
            return True
        return False
    try:  # shared: one free slot, then let the gate go (every slot free: the first of the --keep runs)
        got = [i for i in range(SLOTS) if get(f"{base}:{i}")]
        if len(got) == SLOTS:
            alone()
        for i in got[1:]:
            release(f"{base}:{i}")
        return bool(got)
    finally:
        release(f"{base}:gate")
