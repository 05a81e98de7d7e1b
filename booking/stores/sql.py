"""SQL stores (SQLite, PostgreSQL, MariaDB) through SQLAlchemy 2.x Core; imported only for SQL stores.

The purchase path is SQLAlchemy Core statements compiled once per dialect, run on one DBAPI
connection that each buyer opens for its whole life. Transactions are explicit (BEGIN / COMMIT
emitted by the store, the driver in autocommit mode), because pysqlite does not begin a
transaction before a SELECT: without taking control, a read-then-write is two transactions on
SQLite and `BEGIN IMMEDIATE` cannot be had at all (DESIGN §9).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, delete, event, func, insert, select, update
from sqlalchemy.engine import URL, Connection, Dialect, Engine, make_url
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ClauseElement

from booking import faults
from booking.errors import BadInput, BookingError, CannotRun
from booking.stores import migrate
from booking.stores.base import FinalState, Seen, StoreKind
from booking.stores.schema import purchases, tickets

CONNECT_TIMEOUT_S = 5  # an unreachable server is an error within seconds, not a hang
SQLITE_BUSY_TIMEOUT_S = 10.0  # override with ?timeout=SECONDS in the URL
SQLITE_SYNCHRONOUS = "NORMAL"  # the setting WAL is meant to run with; the benchmark's bare loop uses it too
SEED_CHUNK = 10_000
# The look (the notes' search) counts free tickets up to this many. Counting them all is a scan of
# every free row on every attempt: selling out N tickets would cost O(N^2) (100k tickets: minutes).
LOOK_CAP = 100

ISOLATION_LEVELS = {
    "read-committed": "READ COMMITTED",
    "repeatable-read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}
# Errors that mean "run the whole transaction again": serialization failure and deadlock (PostgreSQL),
# deadlock and lock wait timeout (MariaDB), a WAL snapshot overtaken by another writer (SQLite).
PG_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
MYSQL_RETRY_ERRNOS = frozenset({1213, 1205})
SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517
ADVISORY_KEY = 0x626F6F6B696E67  # "booking": one lock for every client of the database

DRIVERS = {
    StoreKind.POSTGRESQL: "pip install 'booking[postgres]' (psycopg)",
    StoreKind.MYSQL: "pip install 'booking[mysql]' (PyMySQL)",
}


def sql_url(spec: str) -> URL:
    """The SQLAlchemy URL for a --store value; a bare path ending .db/.sqlite is a SQLite file."""
    if "://" not in spec:
        return URL.create("sqlite", database=spec)
    try:
        url = make_url(spec)
    except (sa.exc.ArgumentError, ValueError):
        raise BadInput(f"store {mask(spec)}: not a database URL") from None
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # Each buyer is its own process: an in-memory database would be a new, empty one in each.
        raise BadInput(f"store {mask(spec)}: an in-memory SQLite database cannot be shared by buyer processes")
    return url


def mask(spec: str) -> str:
    """A --store value as people may see it: the password, if any, replaced by ***."""
    if "://" not in spec:
        return spec
    try:
        return make_url(spec).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        # Unparseable: still never print what could be a password (user:secret@host).
        scheme, _, rest = spec.partition("://")
        creds, at, host = rest.rpartition("@")
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if at and ":" in creds else spec


class _Prepared:
    """A Core statement compiled once for a dialect: SQL text and how to lay out its parameters."""

    __slots__ = ("defaults", "names", "positional", "sql")

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}
        self.positional = dialect.positional
        self.names = list(getattr(compiled, "positiontup", None) or ())

    def args(self, params: Mapping[str, Any]) -> Any:
        merged = {**self.defaults, **params} if self.defaults else params
        if self.positional:
            return tuple(merged[n] for n in self.names)
        return merged


def _statements() -> dict[str, ClauseElement]:
    free = tickets.c.sold_to.is_(None)
    first = select(tickets.c.id).where(free).order_by(tickets.c.id).limit(1)
    take = update(tickets).values(sold_to=bindparam("who"), version=tickets.c.version + 1)
    is_ticket = tickets.c.id == bindparam("tid")
    return {
        "look": select(func.count()).select_from(select(tickets.c.id).where(free).limit(LOOK_CAP).subquery()),
        "first": first,
        "first_for_update": first.with_for_update(),
        "first_skip_locked": first.with_for_update(skip_locked=True),
        "first_versioned": select(tickets.c.id, tickets.c.version).where(free).order_by(tickets.c.id).limit(1),
        "take": take.where(is_ticket),
        "take_if_free": take.where(is_ticket, free),
        "take_if_version": take.where(is_ticket, tickets.c.version == bindparam("seen")),
        "record": insert(purchases).values(
            ticket_id=bindparam("tid"), buyer=bindparam("who"), bought_at=bindparam("at")
        ),
        "advisory": select(func.pg_advisory_xact_lock(bindparam("key"))),
    }


_COMPILED: dict[str, dict[str, _Prepared]] = {}  # dialect name -> statements; filled before buyers fork


def _compiled(dialect: Dialect) -> dict[str, _Prepared]:
    key = f"{dialect.name}+{dialect.driver}"
    if key not in _COMPILED:
        _COMPILED[key] = {name: _Prepared(stmt, dialect) for name, stmt in _statements().items()}
    return _COMPILED[key]


class SqlStore:
    """One row per ticket plus a purchases ledger, in any database SQLAlchemy reaches."""

    def __init__(self, spec: str, kind: StoreKind, isolation: str | None = None) -> None:
        self.kind = kind
        self.spec = spec
        self.display = mask(spec)
        self.url = sql_url(spec)
        if isolation is not None and isolation not in ISOLATION_LEVELS:
            raise BadInput(f"unknown isolation level {isolation!r} (choose from: {', '.join(ISOLATION_LEVELS)})")
        if kind is StoreKind.SQLITE and isolation not in (None, "serializable"):
            raise BadInput(
                f"--isolation {isolation} does not apply to a sqlite store: SQLite runs every transaction "
                "serializable (choose: serializable)"
            )
        self.isolation = isolation
        # The driver's default transaction behaviour for the naive read-then-write: psycopg and PyMySQL
        # begin a transaction at the first statement (the read); pysqlite only before the write.
        # With --isolation the read is inside the transaction on every database.
        self._read_in_txn = kind is not StoreKind.SQLITE or isolation is not None
        self.engine = self._engine()
        self._raw: Any = None
        self._cur: Any = None
        self._q: dict[str, _Prepared] = {}
        self._in_txn = False
        self._level: str | None = None

    # -- connections
    def _engine(self) -> Engine:
        query = self.url.query
        args: dict[str, Any] = {}
        if self.kind is StoreKind.SQLITE:
            if "timeout" not in query:
                args["timeout"] = SQLITE_BUSY_TIMEOUT_S  # the busy timeout: wait this long for a lock
        elif "connect_timeout" not in query:
            args["connect_timeout"] = CONNECT_TIMEOUT_S
            if self.kind is StoreKind.MYSQL and "read_timeout" not in query:
                # PyMySQL's connect_timeout covers the TCP connect only; the handshake read waits
                # forever unless read_timeout is set. It is cleared once connected (lock waits are long).
                args["read_timeout"] = CONNECT_TIMEOUT_S
        try:
            # NullPool: a connection lives exactly as long as its user holds it; nothing pooled crosses fork.
            engine = sa.create_engine(self.url, poolclass=NullPool, connect_args=args)
        except ModuleNotFoundError as exc:
            hint = DRIVERS.get(self.kind, "install the database driver")
            raise CannotRun(f"store {self.display}: driver {exc.name!r} is not installed: {hint}") from None
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
            raise BadInput(f"store {self.display}: {self._reason(exc)}") from None
        if self.kind is StoreKind.SQLITE:
            event.listen(engine, "connect", _sqlite_on_connect)
        elif self.kind is StoreKind.MYSQL and "read_timeout" not in query:
            event.listen(engine, "connect", _mysql_on_connect)
        return engine

    def _connect_error(self, exc: Exception) -> BookingError:
        reason = self._reason(exc)
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

    def _reason(self, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        lines = str(orig).strip().splitlines()
        text = lines[0] if lines else type(orig).__name__
        password = self.url.password
        if password:
            text = text.replace(str(password), "***")
        return text[:300]

    def _admin(self) -> Any:
        """A Core transaction for the parent's work (seeding, migrations, the final count)."""
        try:
            return self.engine.begin()
        except sa.exc.DBAPIError as exc:
            raise self._connect_error(exc) from None

    def _open_hot(self) -> None:
        """The buyer's one connection, driver in autocommit mode so the store issues BEGIN itself."""
        try:
            raw = self.engine.raw_connection()
        except sa.exc.DBAPIError as exc:
            raise self._connect_error(exc) from None
        driver = raw.driver_connection
        if self.kind is StoreKind.SQLITE:
            driver.isolation_level = None  # type: ignore[union-attr]
        elif self.kind is StoreKind.POSTGRESQL:
            driver.autocommit = True  # type: ignore[union-attr]
        else:
            driver.autocommit(True)  # type: ignore[union-attr]
        self._raw, self._cur = raw, driver.cursor()  # type: ignore[union-attr]
        self._q = _compiled(self.engine.dialect)

    def _exec(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        if self._cur is None:
            self._open_hot()
        q = self._q[name]
        cur = self._cur
        cur.execute(q.sql, q.args(params or {}))
        return cur

    # -- transactions on the buyer's connection
    def begin(self, level: str | None = None, immediate: bool = False) -> None:
        """BEGIN; `immediate` takes SQLite's write lock at once; `level` is an isolation (servers)."""
        if self._cur is None:
            self._open_hot()
        if self._in_txn:
            self.abort()
        cur = self._cur
        if self.kind is StoreKind.SQLITE:
            cur.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        else:
            want = level or self.isolation
            if want is not None and want != self._level:
                sql_level = ISOLATION_LEVELS[want]
                cur.execute(
                    f"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {sql_level}"
                    if self.kind is StoreKind.POSTGRESQL
                    else f"SET SESSION TRANSACTION ISOLATION LEVEL {sql_level}"
                )
                self._level = want
            cur.execute("BEGIN" if self.kind is StoreKind.POSTGRESQL else "START TRANSACTION")
        self._in_txn = True

    def commit(self) -> None:
        faults.hit(faults.BEFORE_COMMIT)
        self._cur.execute("COMMIT")
        self._in_txn = False

    def abort(self) -> None:
        """Roll back whatever is open; never raises (the connection may already be gone)."""
        self._in_txn = False
        if self._cur is None:
            return
        # Nothing open, or the connection is lost: either way there is nothing left to undo.
        with contextlib.suppress(Exception):
            self._cur.execute("ROLLBACK")

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

    # -- the purchase path's statements
    def first_free(self, lock: str | None = None) -> int | None:
        """The lowest free ticket id; lock "update" (FOR UPDATE) or "skip" (FOR UPDATE SKIP LOCKED)."""
        if lock is not None and self.kind is StoreKind.SQLITE:
            # with_for_update() renders nothing on SQLite: a silent no-op that would oversell.
            raise ValueError("SQLite has no row locks; take the write lock with begin(immediate=True)")
        name = "first" if lock is None else ("first_for_update" if lock == "update" else "first_skip_locked")
        row = self._exec(name).fetchone()
        return None if row is None else int(row[0])

    def first_free_versioned(self) -> tuple[int, int] | None:
        row = self._exec("first_versioned").fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def take(self, ticket: int, buyer: int, only_if_free: bool = False, version: int | None = None) -> bool:
        """Write `buyer` onto `ticket` and record it in the ledger; False when the condition matched no row."""
        if version is not None:
            cur = self._exec("take_if_version", {"who": buyer, "tid": ticket, "seen": version})
        else:
            cur = self._exec("take_if_free" if only_if_free else "take", {"who": buyer, "tid": ticket})
        if cur.rowcount != 1:
            return False
        faults.hit(faults.MID_WRITE)  # the ticket row is written, the ledger row not yet
        self._exec("record", {"tid": ticket, "who": buyer, "at": time.time()})
        return True

    def advisory_lock(self) -> None:
        """PostgreSQL: wait for the transaction-scoped advisory lock every booking client shares."""
        self._exec("advisory", {"key": ADVISORY_KEY}).fetchall()

    # -- the store protocol
    def check(self) -> int:
        return self.prepare(None)

    def prepare(self, seed: int | None, force: bool = False) -> int:
        """Upgrade a new store's schema, then reset it to `seed` free tickets, or keep it (None)."""
        try:
            with self._admin() as conn:
                if self.kind is StoreKind.SQLITE:
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")  # persistent: readers never block the writer
                rev = migrate.check_known(conn, self.display)
                if seed is None and rev is None:
                    raise BadInput(
                        f"store {self.display}: has no tickets yet (run `booking init --store {self.display}`)"
                    )
                if rev != migrate.head():
                    migrate.upgrade(conn, self.display)
                if seed is None:
                    return self._count(conn)
                conn.execute(delete(purchases))
                conn.execute(delete(tickets))
                for start in range(1, seed + 1, SEED_CHUNK):
                    rows = [{"id": i} for i in range(start, min(start + SEED_CHUNK, seed + 1))]
                    conn.execute(insert(tickets), rows)
        except BookingError:
            raise
        except sa.exc.DBAPIError as exc:
            raise self._connect_error(exc) from None
        _compiled(self.engine.dialect)  # compile the purchase statements once, before buyers fork
        return seed

    def _count(self, conn: Connection) -> int:
        return int(conn.scalar(select(func.count()).select_from(tickets).where(tickets.c.sold_to.is_(None))) or 0)

    def remaining(self) -> int:
        """The look: free tickets, up to LOOK_CAP, as a statement of its own (outside any transaction)."""
        return int(self._exec("look").fetchone()[0])

    def read(self) -> Seen:
        """The naive read: the first free ticket (inside a transaction where the driver starts one)."""
        if self._read_in_txn:
            self.begin()
        try:
            ticket = self.first_free()
            if ticket is None and self._in_txn:
                self.commit()
        except BaseException:
            self.abort()
            raise
        return Seen(ticket or 0, ticket)

    def write(self, seen: Seen, buyer: int) -> int:
        """The naive write: put the buyer on the ticket read, whoever wrote it since."""
        assert seen.ticket is not None
        try:
            if not self._in_txn:
                self.begin()
            self.take(seen.ticket, buyer)
            self.commit()
        except BaseException:
            self.abort()
            raise
        return seen.ticket

    def final(self) -> FinalState:
        try:
            with self._admin() as conn:
                remaining = self._count(conn)
                owners: dict[int, list[int]] = defaultdict(list)
                for tid, buyer in conn.execute(
                    select(purchases.c.ticket_id, purchases.c.buyer).order_by(purchases.c.id)
                ):
                    owners[int(tid)].append(int(buyer))
                for tid, sold_to in conn.execute(
                    select(tickets.c.id, tickets.c.sold_to).where(tickets.c.sold_to.is_not(None))
                ):
                    if int(sold_to) not in owners[int(tid)]:
                        owners[int(tid)].append(int(sold_to))
        except sa.exc.DBAPIError as exc:
            raise self._connect_error(exc) from None
        return FinalState(remaining, dict(owners))

    def lock_path(self) -> Path:
        """file-lock's lock file: beside a SQLite file; for a server, one per database on this host."""
        if self.kind is StoreKind.SQLITE and self.url.database not in (None, "", ":memory:"):
            db = Path(str(self.url.database))
            return db.with_name(db.name + ".lock")
        where = f"{self.url.host}:{self.url.port}/{self.url.database}"
        return Path(tempfile.gettempdir()) / f"booking-{hashlib.sha256(where.encode()).hexdigest()[:16]}.lock"

    def close(self) -> None:
        if self._raw is not None:
            self.abort()
            with contextlib.suppress(Exception):  # closing a lost connection
                self._cur.close()
                self._raw.close()
            self._raw = self._cur = None
        self.engine.dispose()

    # -- `booking db`
    def schema_current(self) -> str | None:
        try:
            with self._admin() as conn:
                return migrate.current(conn)
        except sa.exc.DBAPIError as exc:
            raise self._connect_error(exc) from None

    def schema_move(self, up: bool, revision: str) -> None:
        from alembic.util import CommandError

        try:
            with self._admin() as conn:
                (migrate.upgrade if up else migrate.downgrade)(conn, self.display, revision)
        except CommandError as exc:
            raise BadInput(f"store {self.display}: {exc}") from None
        except sa.exc.DBAPIError as exc:
            raise self._connect_error(exc) from None


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cur.close()


def _mysql_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Connected: from now on a read may wait as long as a lock does (PyMySQL applies the new value
    # to the socket before its next read).
    if hasattr(dbapi_connection, "_read_timeout"):
        dbapi_connection._read_timeout = None


def open_sql_store(spec: str, isolation: str | None = None) -> SqlStore:
    from booking.stores import store_kind

    return SqlStore(spec, store_kind(spec), isolation)
