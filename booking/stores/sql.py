"""SQL stores (SQLite, PostgreSQL, MariaDB): the purchase path, and the stock before and after a run.

The purchase path is SQLAlchemy Core statements compiled once per dialect (stores/schema.py), run
on one DBAPI connection that each buyer opens for its whole life. Transactions are explicit
(BEGIN / COMMIT emitted here, the driver in autocommit mode), because pysqlite does not begin a
transaction before a SELECT: without taking control, a read-then-write is two transactions on
SQLite and `BEGIN IMMEDIATE` cannot be had at all (DESIGN §9).
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.kit import points
from booking.options.store_url import StoreURL
from booking.stores import locks, migrate, setup
from booking.stores.base import FinalState, Seen, StoreKind
from booking.stores.connect import DEFAULT_TIMEOUT_S, Database, StoreUnavailable, sqlite_path
from booking.stores.schema import Prepared, compiled, purchases, tickets
from booking.stores.setup import count_free

_NO_PARAMS: Mapping[str, Any] = {}
ADVISORY_KEY = 0x626F6F6B696E67  # "booking": one lock for every client of the database
ISOLATION_LEVELS = {
    "read-committed": "READ COMMITTED",
    "repeatable-read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class SqlStore(Database):
    """One row per ticket plus a purchases ledger, in any database SQLAlchemy reaches."""

    def __init__(
        self, spec: StoreURL | str, isolation: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        super().__init__(spec, timeout_s)
        if isolation is not None and isolation not in ISOLATION_LEVELS:
            raise BadInput(
                _("unknown isolation level {isolation!r} (choose from: {value})").format(
                    isolation=isolation, value=", ".join(ISOLATION_LEVELS)
                )
            )
        if self.kind is StoreKind.SQLITE and isolation not in (None, "serializable"):
            raise BadInput(
                _(
                    "--isolation {isolation} does not apply to a sqlite store: SQLite runs every transaction "
                    "serializable (choose: serializable)"
                ).format(isolation=isolation)
            )
        self.isolation = isolation
        # The driver's default transaction behaviour for the naive read-then-write: psycopg and PyMySQL
        # begin a transaction at the first statement (the read); pysqlite only before the write.
        # With --isolation the read is inside the transaction on every database.
        self._read_in_txn = self.kind is not StoreKind.SQLITE or isolation is not None
        self._raw: Any = None
        self._cur: Any = None
        self._q: dict[str, Prepared] = {}
        self._in_txn = False
        self._level: str | None = None

    def _cursor(self) -> Any:
        if self._cur is None:
            self._raw, self._cur = self.raw()
            self._q = compiled(self.engine.dialect)
        return self._cur

    def _exec(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        if self._cur is None:
            self._cursor()
        return self.execute(self._q[name], params)

    def execute(self, q: Prepared, params: Mapping[str, Any] | None = None) -> Any:
        """A compiled statement (booking's, or the seckill orders') on this process's cursor."""
        cur = self._cur if self._cur is not None else self._cursor()
        started = time.monotonic()
        try:
            cur.execute(q.sql, q.args(params or _NO_PARAMS))
        except Exception as exc:
            if (failed := self._unavailable(exc, started)) is not exc:
                raise failed from exc
            raise
        return cur

    def _run(self, sql: str) -> Any:
        """Execute a statement of its own (BEGIN, COMMIT, SET ...) on the buyer's cursor."""
        cur = self._cur if self._cur is not None else self._cursor()
        started = time.monotonic()
        try:
            cur.execute(sql)
        except Exception as exc:
            if (failed := self._unavailable(exc, started)) is not exc:
                raise failed from exc
            raise
        return cur

    def _unavailable(self, exc: Exception, started: float) -> Exception:
        """`exc` as it is, or as StoreUnavailable when the environment failed the statement (a timeout, a
        lost server): the verdict never counts that against the strategy."""
        reason = self.unavailable(exc, time.monotonic() - started)
        return (
            exc
            if reason is None
            else StoreUnavailable(_("store {display}: {reason}").format(display=self.display, reason=reason))
        )

    # -- transactions on the buyer's connection
    def begin(self, level: str | None = None, immediate: bool = False) -> None:
        """BEGIN; `immediate` takes SQLite's write lock at once; `level` is an isolation (servers)."""
        if self._in_txn:
            self.abort()
        if self.kind is StoreKind.SQLITE:
            self._run("BEGIN IMMEDIATE" if immediate else "BEGIN")
        else:
            want = level or self.isolation
            if want is not None and want != self._level:
                sql_level = ISOLATION_LEVELS[want]
                self._run(
                    f"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {sql_level}"
                    if self.kind is StoreKind.POSTGRESQL
                    else f"SET SESSION TRANSACTION ISOLATION LEVEL {sql_level}"
                )
                self._level = want
            self._run("BEGIN" if self.kind is StoreKind.POSTGRESQL else "START TRANSACTION")
        self._in_txn = True

    def commit(self) -> None:
        points.hit(points.BEFORE_COMMIT)
        self._run("COMMIT")
        self._in_txn = False

    def abort(self) -> None:
        """Roll back whatever is open; never raises (the connection may already be gone)."""
        self._in_txn = False
        if self._cur is None:
            return
        # Nothing open, or the connection is lost: either way there is nothing left to undo.
        with contextlib.suppress(Exception):
            self._cur.execute("ROLLBACK")

    # -- the purchase path's statements
    def first_free(self, lock: str | None = None) -> int | None:
        """The lowest free ticket id; lock "update" (FOR UPDATE) or "skip" (FOR UPDATE SKIP LOCKED)."""
        if lock is not None and self.kind is StoreKind.SQLITE:
            # with_for_update() renders nothing on SQLite: a silent no-op that would oversell.
            raise ValueError(_("SQLite has no row locks; take the write lock with begin(immediate=True)"))
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
        points.hit(points.MID_WRITE)  # the ticket row is written, the ledger row not yet
        self._exec("record", {"tid": ticket, "who": buyer, "at": time.time()})
        return True

    def advisory_lock(self) -> None:
        """PostgreSQL: wait for the transaction-scoped advisory lock every booking client shares."""
        self._exec("advisory", {"key": ADVISORY_KEY}).fetchall()

    # -- the store protocol: the naive path
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

    # -- the store protocol: before and after a run (the parent's own connection)
    def check(self) -> int:
        """The stock of an existing store at this booking's schema; changes nothing, creates no file."""
        self.require_file()
        with self.admin() as conn:
            rev = migrate.check_known(conn, self.display)
            if rev is None:
                raise BadInput(
                    _("store {display}: has no tickets yet (run `booking init --store {display}`)").format(
                        display=self.display
                    )
                )
            if rev != migrate.head():
                raise BadInput(
                    _(
                        "store {display}: schema revision {rev} is older than {head} (run `booking db upgrade "
                        "--store {display}`)"
                    ).format(display=self.display, rev=rev, head=migrate.head())
                )
            return count_free(conn)

    def prepare(self, seed: int | None, force: bool = False, beside: bool = False) -> int:
        """Upgrade a new store's schema, then reset it to `seed` free tickets, or keep it (None): in one
        transaction, nothing changed before the store is known to be booking's (stores/setup.py)."""
        stock = setup.prepare(self, seed, force, beside)
        compiled(self.engine.dialect)  # compile the purchase statements once, before buyers fork
        return stock

    def final(self) -> FinalState:
        """Free tickets, and every buyer the ledger and the ticket rows name for each ticket."""
        owners: dict[int, list[int]] = defaultdict(list)
        with self.admin() as conn:
            remaining = count_free(conn)
            for tid, buyer in conn.execute(select(purchases.c.ticket_id, purchases.c.buyer).order_by(purchases.c.id)):
                owners[int(tid)].append(int(buyer))
            for tid, sold_to in conn.execute(
                select(tickets.c.id, tickets.c.sold_to).where(tickets.c.sold_to.is_not(None))
            ):
                if int(sold_to) not in owners[int(tid)]:
                    owners[int(tid)].append(int(sold_to))
        return FinalState(remaining, dict(owners))

    def connection_room(self) -> tuple[int, int, int] | None:
        """A server's (max_connections, connections in use, slots reserved for superusers); None for SQLite."""
        if self.kind is StoreKind.SQLITE:
            return None
        with self.admin() as conn:
            if self.kind is StoreKind.POSTGRESQL:
                limit = int(conn.exec_driver_sql("SHOW max_connections").scalar() or 0)
                reserved = int(conn.exec_driver_sql("SHOW superuser_reserved_connections").scalar() or 0)
                used = conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                ).scalar()
            else:
                limit = int(conn.exec_driver_sql("SELECT @@max_connections").scalar() or 0)
                reserved = 0
                row = conn.exec_driver_sql("SHOW STATUS LIKE 'Threads_connected'").fetchone()
                used = row[1] if row is not None else 0
        # This connection is counted in `used`, and it closes before the buyers start.
        return limit, max(int(used or 0) - 1, 0), reserved

    def lock_path(self) -> Path:
        """file-lock's lock file, named by the store's identity, not by how it is spelled: beside the
        SQLite file it resolves to; for a server, one per database (host, port and name normalised)."""
        if self.kind is StoreKind.SQLITE:
            return locks.beside(sqlite_path(self.url))
        return locks.for_server(self.kind, self.url.host, self.url.port, str(self.url.database))

    def tidy(self) -> None:
        pass  # a dead client's transaction is rolled back by the database

    def footprint(self) -> dict[str, int]:
        return setup.footprint(self)

    def warm(self) -> None:
        self.remaining()  # connected; the look and the read prepared, outside any transaction
        self.first_free()
        setup.warm_wal(self, self._cur)

    def close(self) -> None:
        if self._raw is not None:
            self.abort()
            with contextlib.suppress(Exception):  # closing a lost connection
                self._cur.close()
                self._raw.close()
            self._raw = self._cur = None
        self.dispose()
