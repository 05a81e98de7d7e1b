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

from booking.errors import BadInput, BookingError, CannotRun, Unavailable
from booking.files import check_path
from booking.i18n.lang import _
from booking.i18n.words import install_hint
from booking.options.store_url import StoreKind, StoreURL
from booking.redact import redact
from booking.stores import codes
from booking.stores.limits import SQLITE_BUSY_TIMEOUT_S, connect_args, watchdog

SQLITE_SYNCHRONOUS = "NORMAL"  # the setting WAL is meant to run with; the benchmark's bare loop uses it too
DEFAULT_TIMEOUT_S = 60.0  # how long one server round trip may take when the caller sets no deadline

MAX_ENGINES = 16
_ENGINES: dict[tuple[StoreURL, float], Engine] = {}

DRIVERS = {
    StoreKind.POSTGRESQL: f"psycopg: {install_hint('postgres')}",
    StoreKind.MYSQL: f"PyMySQL: {install_hint('mysql')}",
}


def sql_url(spec: StoreURL | str) -> URL:
    """The SQLAlchemy URL for a --store value (the installed driver filled in); a bare path ending
    .db/.sqlite is a SQLite file."""
    parsed = StoreURL.of(spec)
    store = _("store {store}").format(store=parsed.display)
    if parsed.scheme is None:
        url = URL.create("sqlite", database=parsed.text)
    else:
        try:
            url = make_url(str(parsed.sqlalchemy))
        except (sa.exc.ArgumentError, ValueError):
            raise BadInput(_("{store}: not a database URL").format(store=store)) from None
    if url.get_backend_name() == "sqlite":
        if sqlite_in_memory(url):
            # Each buyer is its own process: an in-memory database would be a new, empty one in each.
            raise BadInput(
                _("{store}: an in-memory SQLite database cannot be shared by buyer processes").format(store=store)
            )
        check_path(sqlite_path(url), store)
    elif not url.database:
        # Without one the server picks a default (PostgreSQL's maintenance database `postgres`).
        raise BadInput(_("{store}: the URL names no database (add /DBNAME)").format(store=store))
    return url


def sqlite_in_memory(url: URL) -> bool:
    """`sqlite://`, `:memory:`, and the URI forms `file::memory:` and `?mode=memory`."""
    db = url.database or ""
    return db in ("", ":memory:") or ":memory:" in db or url.query.get("mode") == "memory"


def sqlite_path(url: URL) -> Path:
    """The file a SQLite URL names: `sqlite:///t.db` and the URI form `sqlite:///file:t.db?uri=true`."""
    db = str(url.database)
    if url.query.get("uri") in ("true", "1") and db.startswith("file:"):
        db = db.removeprefix("file:").split("?", 1)[0]
    return Path(db)


class Database:
    """One SQL store's engine, and what its errors mean (BadInput: the input; CannotRun: the environment)."""

    def __init__(self, spec: StoreURL | str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.spec = StoreURL.of(spec)
        self.kind = self.spec.kind
        self.display = self.spec.display
        self.url = sql_url(self.spec)
        self.timeout_s = timeout_s
        # One engine per store and timeout in a process, made in the parent before the buyers fork and
        # reused by them: building an engine and its dialect in every buyer cost milliseconds and
        # megabytes each. NullPool: no connection is pooled, so nothing but the engine crosses the fork.
        key = (self.spec, timeout_s)
        engine = _ENGINES.get(key)
        if engine is None:
            engine = self._engine(timeout_s)
            if len(_ENGINES) >= MAX_ENGINES:
                _ENGINES.pop(next(iter(_ENGINES)))
            _ENGINES[key] = engine
        self.engine = engine
        self.busy_timeout_s = SQLITE_BUSY_TIMEOUT_S
        if self.kind is StoreKind.SQLITE:  # what SQLite will wait for a lock: ?timeout=, else up to the deadline
            self.busy_timeout_s = float(engine.dialect.create_connect_args(self.url)[1].get("timeout", 5.0))

    def _engine(self, timeout_s: float) -> Engine:
        args = connect_args(self.kind, self.url.query, timeout_s)
        try:
            # NullPool: a connection lives exactly as long as its user holds it; nothing pooled crosses fork.
            # No reset on return: transactions are ended explicitly, and resetting a connection the server
            # dropped would only print the driver's traceback.
            engine = sa.create_engine(self.url, poolclass=NullPool, connect_args=args, pool_reset_on_return=None)
        except ModuleNotFoundError as exc:
            hint = DRIVERS.get(self.kind, "install the database driver")
            raise CannotRun(
                _("store {store}: driver {name!r} is not installed; booking uses {hint}").format(
                    store=self.display, name=exc.name, hint=hint
                )
            ) from None
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError, TypeError) as exc:
            raise BadInput(_("store {store}: {why}").format(store=self.display, why=self.reason(exc))) from None
        if self.kind is StoreKind.SQLITE:
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_begin)
        return engine

    @contextlib.contextmanager
    def admin(self) -> Iterator[Connection]:
        """A Core transaction for the parent's work (seeding, migrations, the final count), cut off at
        the deadline even when the server stops answering (a paused server never says time out)."""
        try:
            with self.engine.begin() as conn, watchdog(conn, self.timeout_s):
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
            said = _("store {store}: cannot open: directory {dir} does not exist")
            raise CannotRun(said.format(store=self.display, dir=directory))
        raise BadInput(_("store {store}: no such file (run `booking init --store {store}`)").format(store=self.display))

    def raw(self) -> tuple[Any, Any]:
        """A buyer's connection and cursor, the driver in autocommit mode so the store issues BEGIN itself."""
        try:
            raw = self.engine.raw_connection()
        except BookingError:
            raise
        except Exception as exc:  # the pool hands on the driver's own error (not a DBAPIError) from its connect hooks
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
        reason, store = self.reason(exc), _("store {store}").format(store=self.display)
        if getattr(exc, "booking_cut", False) or self.timed_out(exc):
            said = _("{store}: no answer within {t:g} s (the deadline): {why}")
            return CannotRun(said.format(store=store, t=self.timeout_s, why=reason))
        if self.bad_option(exc):
            return BadInput(f"{store}: {reason}")
        if getattr(getattr(exc, "orig", None), "sqlstate", None) in ("55P03", "57014"):  # lock or statement timeout
            return CannotRun(f"{store}: {self.unavailable(exc, 0.0)}")
        if self.kind is StoreKind.SQLITE and ("not a database" in reason or "malformed" in reason):
            return BadInput(f"{store}: {reason}")
        if self.kind is StoreKind.SQLITE and "unable to open" in reason and self.url.database:
            directory = Path(self.url.database).resolve().parent
            if not directory.is_dir():
                return CannotRun(
                    _("{store}: cannot open: directory {dir} does not exist").format(store=store, dir=directory)
                )
            if not os.access(directory, os.W_OK):
                said = _(
                    "{store}: cannot open: directory {dir} cannot be written (SQLite keeps its -wal and -shm files "
                    "beside the store)"
                )
                return CannotRun(said.format(store=store, dir=directory))
        return CannotRun(_("{store}: cannot open: {why}").format(store=store, why=reason))

    def timed_out(self, exc: BaseException) -> bool:
        """PyMySQL's read, write or connect timeout fired: the server said nothing within the deadline."""
        orig = getattr(exc, "orig", None) or exc
        args: tuple[Any, ...] = getattr(orig, "args", ())
        return (
            self.kind is StoreKind.MYSQL
            and len(args) > 1
            and args[0] in (2003, 2013)
            and str(args[1]).endswith("(timed out)")
        )

    def reason(self, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        lines = str(orig).strip().splitlines()
        return redact(lines[0] if lines else type(orig).__name__, self.spec.secrets)[:300]

    def retryable(self, exc: BaseException, upgrading: bool = False) -> bool:
        """A serialization failure or deadlock: the whole transaction should run again.

        `upgrading`: on SQLite a transaction that has read and then writes while another connection
        holds the write lock gets SQLITE_BUSY at once, without waiting (waiting could deadlock): for a
        transaction that reads first, that is a serialization failure too. Elsewhere SQLITE_BUSY comes
        after the busy timeout and is an error of the attempt.
        """
        if self.kind is StoreKind.POSTGRESQL:
            return getattr(exc, "sqlstate", None) in codes.PG_RETRY_SQLSTATES
        if self.kind is StoreKind.MYSQL:
            args: tuple[Any, ...] = getattr(exc, "args", ())
            return bool(args) and args[0] in codes.MYSQL_RETRY_ERRNOS
        code = getattr(exc, "sqlite_errorcode", None)
        return code == codes.SQLITE_BUSY_SNAPSHOT or (upgrading and code == codes.SQLITE_BUSY)

    def bad_option(self, exc: BaseException) -> bool:
        """A connection option the driver refuses (`?sslmode=bogus`, an unknown keyword): the input's fault."""
        orig = getattr(exc, "orig", None) or exc
        if isinstance(orig, TypeError):
            return True
        text = str(orig)
        return (
            self.kind is StoreKind.POSTGRESQL
            and getattr(orig, "sqlstate", None) is None
            and ("invalid connection option" in text or ("invalid" in text and "value" in text))
        )

    def unavailable(self, exc: BaseException, waited_s: float) -> str | None:
        """Why the environment (not the strategy) failed a statement that took `waited_s`, or None.

        A timeout, a connection limit, a lost or restarting server, a full disk: the run could not be
        carried out. A serialization failure or deadlock is the strategy's business (retryable)."""
        orig = getattr(exc, "orig", None) or exc
        if self.retryable(orig):
            return None
        if self.kind is StoreKind.POSTGRESQL:
            state = getattr(orig, "sqlstate", None)
            if state == "55P03":
                said = _("lock timeout: another session held a lock past the deadline ({t:g} s)")
                return said.format(t=self.timeout_s)
            if state == "57014":
                return _("statement timeout: a statement ran for {t:g} s (the deadline)").format(t=self.timeout_s)
            if state is None and type(orig).__name__ == "OperationalError":
                return _("the connection failed: {reason}").format(reason=self.reason(orig))
            if state is not None and state[:2] in codes.PG_UNAVAILABLE_CLASSES:
                return _("the server could not serve it: {reason}").format(reason=self.reason(orig))
            return None
        if self.kind is StoreKind.MYSQL:
            args: tuple[Any, ...] = getattr(orig, "args", ())
            if args and args[0] in codes.MYSQL_UNAVAILABLE_ERRNOS:
                return _("the server could not serve it: {reason}").format(reason=self.reason(orig))
            return None
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and code & 0xFF == codes.SQLITE_BUSY and waited_s >= self.busy_timeout_s * 0.9:
            return _(
                "database is locked: another connection held it past the busy timeout ({busy_timeout_s:g} s)"
            ).format(busy_timeout_s=self.busy_timeout_s)
        if code is not None and code & 0xFF in codes.SQLITE_UNAVAILABLE:
            return _("the file system failed it: {reason}").format(reason=self.reason(orig))
        return None

    def dispose(self) -> None:
        self.engine.dispose()


class StoreUnavailable(Unavailable):
    """The database failed an attempt for a reason of its own (Database.unavailable says which)."""


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver in autocommit mode, and _sqlite_begin emits BEGIN: SQLAlchemy's recipe for real
    # transactions on pysqlite, which otherwise commits each DDL statement by itself (a set-up
    # interrupted half way would leave tables without their schema revision).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")
