"""The store-in-use guard: a run that reseeds a store holds it alone; `--keep` runs may share it.

Two runs on one store corrupt each other's verdicts (one reseeds the stock under the other's buyers),
so a run claims its store for as long as it runs, and a claim that cannot be had is refused at once
(CannotRun, exit 3), never waited for:

- db.json and SQLite: flock(2) on `<store>.in-use` beside the store, exclusive for a run that seeds
  the store (simulate, init, compare), shared for `--keep`. The kernel releases it when the holder
  dies. The file is removed by the last holder; a claimant checks that the file it locked is still
  the one at that path, so removing it never splits the lock.
- PostgreSQL: a session advisory lock (exclusive or shared) on a connection held for the run.
- MariaDB has no shared named lock: a seeding run takes GET_LOCK on a gate name and on every one of
  SLOTS slot names; a `--keep` run passes the gate and holds one slot.

Not guarded: a store whose directory takes no new file (the run then fails on the store itself), and
db.json or SQLite on a system without flock (Windows). Reading commands (verify, db current) claim nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from booking.errors import CannotRun
from booking.i18n.lang import _
from booking.options.store_url import StoreKind, StoreURL

SUFFIX = ".in-use"
PG_KEY = 0x626B672D696E7573  # "bkg-inus": not the advisory strategy's key
SLOTS = 16  # MariaDB: --keep runs that can share one store at once
_held: dict[str, int] = {}  # what this process holds already (compare claims, then each of its runs)


@contextlib.contextmanager
def claim(spec: StoreURL | str, exclusive: bool, timeout_s: float = 60.0) -> Iterator[None]:
    """Hold `spec` for the block: alone (`exclusive`, a run that seeds it) or shared (`--keep`); a
    server that does not answer within `timeout_s` fails the claim (CannotRun)."""
    key, holder = _holder(StoreURL.of(spec), timeout_s)
    if key in _held:  # nested in this process's own claim (a compare's runs)
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    if holder is not None:
        holder.acquire(exclusive)
    _held[key] = 1
    try:
        yield
    finally:
        del _held[key]
        if holder is not None:
            holder.release()


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


def _holder(spec: StoreURL, timeout_s: float) -> tuple[str, Any]:
    if spec.kind is StoreKind.COUNTER:
        path = Path(spec.text)
    elif spec.kind is StoreKind.SQLITE:
        from booking.stores.connect import sql_url

        database = sql_url(spec).database
        path = Path(str(database))
    elif spec.kind is StoreKind.REDIS:
        from booking.stores.redis.claim import RedisClaim

        return spec.display, RedisClaim(spec, refusal)
    else:
        return spec.display, _ServerClaim(spec, timeout_s)
    lock = path.with_name(path.name + SUFFIX)
    return str(lock.resolve()), _FileClaim(lock, spec.display)


class _FileClaim:
    def __init__(self, path: Path, display: str) -> None:
        self.path, self.display = path, display
        self.fd: int | None = None

    def acquire(self, exclusive: bool) -> None:
        try:
            import fcntl
        except ImportError:  # no flock (Windows): not guarded, as the README says
            return
        mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        for _try in range(5):  # the last holder may remove the file between our open and our lock
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)  # a planted link: refused
            except OSError:
                return  # the directory takes no new file: the store's own checks say so
            try:
                fcntl.flock(fd, mode)
                if _same_file(fd, self.path):
                    self.fd = fd
                    return
            except BlockingIOError:
                os.close(fd)
                raise refusal(self.display, exclusive, str(self.path)) from None
            os.close(fd)
        raise refusal(self.display, exclusive, str(self.path))

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
            with watchdog(self.conn, self.timeout_s):
                got = (_pg if self.db.kind is StoreKind.POSTGRESQL else _mysql)(self.conn, exclusive)
        except Exception as exc:
            self.release()
            raise self.db.error(exc) from None
        if not got:
            self.release()
            raise refusal(self.db.display, exclusive, "an advisory lock")

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


def _pg(conn: Any, exclusive: bool) -> bool:
    function = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
    return bool(conn.exec_driver_sql(f"SELECT {function}({PG_KEY})").scalar())


def _mysql(conn: Any, exclusive: bool) -> bool:
    # Named locks are server-wide: the names carry the database's name.
    database = conn.exec_driver_sql("SELECT DATABASE()").scalar() or ""
    base = "booking-in-use:" + hashlib.sha256(str(database).encode()).hexdigest()[:16]

    def get(name: str) -> bool:
        return bool(conn.exec_driver_sql("SELECT GET_LOCK(%s, 0)", (name,)).scalar() == 1)

    if not get(f"{base}:gate"):
        return False
    if exclusive:  # alone: the gate and every slot
        return all(get(f"{base}:{i}") for i in range(SLOTS))
    try:  # shared: one free slot, then let the gate go
        return any(get(f"{base}:{i}") for i in range(SLOTS))
    finally:
        conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (f"{base}:gate",))
