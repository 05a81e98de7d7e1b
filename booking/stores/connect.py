"""Reaching a SQL store: its URL, its engine, the drivers' quirks, and their errors in one line.

Imported only for SQL stores (it imports SQLAlchemy). Every connection is made in the process
that uses it: NullPool, so nothing pooled can cross a fork.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from booking.errors import BadInput, BookingError, CannotRun
from booking.redact import mask_url, redact, remember
from booking.stores.base import StoreKind, store_kind
from booking.words import install_hint

CONNECT_TIMEOUT_S = 5  # an unreachable server is an error within seconds, not a hang
SQLITE_BUSY_TIMEOUT_S = 10.0  # override with ?timeout=SECONDS in the URL
SQLITE_SYNCHRONOUS = "NORMAL"  # the setting WAL is meant to run with; the benchmark's bare loop uses it too
DEFAULT_TIMEOUT_S = 60.0  # how long one server round trip may take when the caller sets no deadline

MAX_ENGINES = 16
_ENGINES: dict[tuple[str, float], Engine] = {}

DRIVERS = {
    StoreKind.POSTGRESQL: f"psycopg: {install_hint('postgres')}",
    StoreKind.MYSQL: f"PyMySQL: {install_hint('mysql')}",
}
# A URL without a driver gets the one booking installs (SQLAlchemy's own default would be psycopg2
# or mysqlclient, which booking never installs): postgresql:// means psycopg, mysql:// PyMySQL.
INSTALLED_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
# Errors that mean "run the whole transaction again": serialization failure and deadlock (PostgreSQL),
# deadlock and lock wait timeout (MariaDB), a WAL snapshot overtaken by another writer (SQLite).
PG_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
MYSQL_RETRY_ERRNOS = frozenset({1213, 1205})
SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517


def sql_url(spec: str) -> URL:
    """The SQLAlchemy URL for a --store value; a bare path ending .db/.sqlite is a SQLite file."""
    if "://" not in spec:
        return URL.create("sqlite", database=spec)
    try:
        url = make_url(spec)
    except (sa.exc.ArgumentError, ValueError):
        raise BadInput(f"store {mask_url(spec)}: not a database URL") from None
    if url.drivername in INSTALLED_DRIVERS:
        url = url.set(drivername=INSTALLED_DRIVERS[url.drivername])
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # Each buyer is its own process: an in-memory database would be a new, empty one in each.
        raise BadInput(f"store {mask_url(spec)}: an in-memory SQLite database cannot be shared by buyer processes")
    return url


class Database:
    """One SQL store's engine, and what its errors mean (BadInput: the input; CannotRun: the environment)."""

    def __init__(self, spec: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        remember(spec)  # from now on, this URL's secrets are masked in any text this process prints
        self.spec = spec
        self.kind = store_kind(spec)
        self.display = mask_url(spec)
        self.url = sql_url(spec)
        # One engine per store and timeout in a process, made in the parent before the buyers fork and
        # reused by them: building an engine and its dialect in every buyer cost milliseconds and
        # megabytes each. NullPool: no connection is pooled, so nothing but the engine crosses the fork.
        key = (spec, timeout_s)
        engine = _ENGINES.get(key)
        if engine is None:
            engine = self._engine(timeout_s)
            if len(_ENGINES) >= MAX_ENGINES:
                _ENGINES.pop(next(iter(_ENGINES)))
            _ENGINES[key] = engine
        self.engine = engine

    def _engine(self, timeout_s: float) -> Engine:
        query = self.url.query
        args: dict[str, Any] = {}
        if self.kind is StoreKind.SQLITE:
            if "timeout" not in query:
                # The busy timeout: wait this long for the write lock. A crowd of 2,000 buyers queues longer
                # than 10 s, and a safe strategy must not be failed by the harness: wait up to the run's deadline.
                args["timeout"] = max(SQLITE_BUSY_TIMEOUT_S, timeout_s)
        elif "connect_timeout" not in query:
            args["connect_timeout"] = CONNECT_TIMEOUT_S
            if self.kind is StoreKind.MYSQL and "read_timeout" not in query:
                # PyMySQL's connect_timeout covers the TCP connect only; without read_timeout a server
                # that accepts and never answers holds us forever. A lock wait is bounded by the run.
                args["read_timeout"] = max(timeout_s, CONNECT_TIMEOUT_S)
        try:
            # NullPool: a connection lives exactly as long as its user holds it; nothing pooled crosses fork.
            engine = sa.create_engine(self.url, poolclass=NullPool, connect_args=args)
        except ModuleNotFoundError as exc:
            hint = DRIVERS.get(self.kind, "install the database driver")
            raise CannotRun(
                f"store {self.display}: driver {exc.name!r} is not installed; booking uses {hint}"
            ) from None
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
            raise BadInput(f"store {self.display}: {self.reason(exc)}") from None
        if self.kind is StoreKind.SQLITE:
            event.listen(engine, "connect", _sqlite_on_connect)
        return engine

    @contextlib.contextmanager
    def admin(self) -> Iterator[Connection]:
        """A Core transaction for the parent's work (seeding, migrations, the final count)."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except BookingError:
            raise
        except sa.exc.DBAPIError as exc:
            raise self.error(exc) from None

    def missing(self) -> bool:
        """A SQLite file that does not exist (connecting would create it)."""
        return self.kind is StoreKind.SQLITE and bool(self.url.database) and not Path(str(self.url.database)).exists()

    def require_file(self) -> None:
        """A read must not create the store it reads: refuse a SQLite file that does not exist."""
        if not self.missing():
            return
        directory = Path(str(self.url.database)).resolve().parent
        if not directory.is_dir():
            raise CannotRun(f"store {self.display}: cannot open: directory {directory} does not exist")
        raise BadInput(f"store {self.display}: no such file (run `booking init --store {self.display}`)")

    def raw(self) -> tuple[Any, Any]:
        """A buyer's connection and cursor, the driver in autocommit mode so the store issues BEGIN itself."""
        try:
            raw = self.engine.raw_connection()
        except sa.exc.DBAPIError as exc:
            raise self.error(exc) from None
        driver: Any = raw.driver_connection
        if self.kind is StoreKind.SQLITE:
            driver.isolation_level = None
        elif self.kind is StoreKind.POSTGRESQL:
            driver.autocommit = True
        else:
            driver.autocommit(True)
        return raw, driver.cursor()

    def error(self, exc: Exception) -> BookingError:
        """A driver's failure to open or use the store, as a one-line BookingError."""
        reason = self.reason(exc)
        if self.kind is StoreKind.SQLITE and ("not a database" in reason or "malformed" in reason):
            return BadInput(f"store {self.display}: {reason}")
        if self.kind is StoreKind.SQLITE and "unable to open" in reason and self.url.database:
            directory = Path(self.url.database).resolve().parent
            if not directory.is_dir():
                return CannotRun(f"store {self.display}: cannot open: directory {directory} does not exist")
            if not os.access(directory, os.W_OK):
                return CannotRun(
                    f"store {self.display}: cannot open: directory {directory} cannot be written "
                    "(SQLite keeps its -wal and -shm files beside the store)"
                )
        return CannotRun(f"store {self.display}: cannot open: {reason}")

    def reason(self, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        lines = str(orig).strip().splitlines()
        return redact(lines[0] if lines else type(orig).__name__)[:300]

    def retryable(self, exc: BaseException, upgrading: bool = False) -> bool:
        """A serialization failure or deadlock: the whole transaction should run again.

        `upgrading`: on SQLite a transaction that has read and then writes while another connection
        holds the write lock gets SQLITE_BUSY at once, without waiting (waiting could deadlock): for a
        transaction that reads first, that is a serialization failure too. Elsewhere SQLITE_BUSY comes
        after the busy timeout and is an error of the attempt.
        """
        if self.kind is StoreKind.POSTGRESQL:
            return getattr(exc, "sqlstate", None) in PG_RETRY_SQLSTATES
        if self.kind is StoreKind.MYSQL:
            args: tuple[Any, ...] = getattr(exc, "args", ())
            return bool(args) and args[0] in MYSQL_RETRY_ERRNOS
        code = getattr(exc, "sqlite_errorcode", None)
        return code == SQLITE_BUSY_SNAPSHOT or (upgrading and code == SQLITE_BUSY)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cur.close()
