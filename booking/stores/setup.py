"""A SQL store's set-up: schema and seeding that an interruption cannot leave half done.

Every reset starts the store from the same state: on PostgreSQL and MariaDB the tables are emptied
with TRUNCATE (DELETE leaves a dead row per ticket that every later scan wades through, until a
VACUUM that may never come), then vacuumed and analysed, so a run after a thousand others measures
what the first one did.

One transaction (SQLite's DDL included: the engine emits BEGIN, stores/connect.py), so an
interruption at any moment leaves the store as it was, and a SQLite file this set-up created is
removed again. MariaDB commits DDL by itself: there the schema is made first and seeded in a
second transaction, so an interruption leaves a usable, empty store. Nothing is changed (not even
SQLite's journal mode) before the store is known to be booking's (migrate.check_known).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.stores import migrate
from booking.stores.base import StoreKind
from booking.stores.limits import watchdog
from booking.stores.schema import orders, purchases, tickets

if TYPE_CHECKING:
    from booking.stores.connect import Database

SEED_CHUNK = 10_000
JOURNALS = ("-wal", "-shm", "-journal")


def prepare(db: Database, seed: int | None, force: bool = False, beside: bool = False) -> int:
    """Upgrade a new store's schema, then reset it to `seed` free tickets, or keep it (None); the stock."""
    from booking.stores.connect import sqlite_path

    path = sqlite_path(db.url) if db.kind is StoreKind.SQLITE else None
    created = path is not None and not path.exists()
    try:
        with db.admin() as conn:
            rev = migrate.check_known(conn, db.display, force, beside)
            if seed is None and rev is None:
                raise BadInput(
                    _("store {display}: has no tickets yet (run `booking init --store {display}`)").format(
                        display=db.display
                    )
                )
            if rev != migrate.head():
                migrate.upgrade(conn, db.display, beside=beside)
            stock = count_free(conn) if seed is None else seed
            if seed is not None and db.kind is not StoreKind.MYSQL:
                _seed(conn, seed, db.kind)
        if seed is not None and db.kind is StoreKind.MYSQL:
            with db.admin() as conn:
                _seed(conn, seed, db.kind)
        if seed is not None:
            _vacuum(db)
        _wal(db)
    except BaseException:
        if created and path is not None:
            for leftover in (path, *(path.with_name(path.name + s) for s in JOURNALS)):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        raise
    return stock


def _wal(db: Database) -> None:
    """SQLite: the WAL journal (persistent in the file; readers never block the writer)."""
    if db.kind is not StoreKind.SQLITE:
        return
    raw = db.engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        if driver.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            driver.execute("PRAGMA journal_mode=WAL")
    except Exception as exc:
        raise db.error(exc) from None
    finally:
        raw.close()


def _seed(conn: Connection, seed: int, kind: StoreKind) -> None:
    if kind is StoreKind.POSTGRESQL:  # transactional there: an interruption still leaves the store as it was
        conn.exec_driver_sql("TRUNCATE orders, purchases, tickets RESTART IDENTITY")
    elif kind is StoreKind.MYSQL:  # DDL, committed at once: the schema is already made, the seed follows
        conn.exec_driver_sql("TRUNCATE TABLE orders")
        conn.exec_driver_sql("TRUNCATE TABLE purchases")
        conn.exec_driver_sql("TRUNCATE TABLE tickets")
    else:  # SQLite empties a table without a WHERE in one step, and a compare gives each run a fresh file
        conn.execute(delete(orders))
        conn.execute(delete(purchases))
        conn.execute(delete(tickets))
    if seed > 0 and kind in SERIES:  # one statement the database counts out itself: a compare seeds
        conn.exec_driver_sql(SERIES[kind].format(table=tickets.name), (seed,))  # 10,000 tickets a cost run
        return
    for start in range(1, seed + 1, SEED_CHUNK):
        conn.execute(insert(tickets), [{"id": i} for i in range(start, min(start + SEED_CHUNK, seed + 1))])


# Tickets 1..N made by the database, not sent as N rows (SQLite: 6 ms for 10,000 against 20 ms).
SERIES = {
    StoreKind.SQLITE: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
    "INSERT INTO {table} (id) SELECT i FROM n",
    StoreKind.POSTGRESQL: "INSERT INTO {table} (id) SELECT generate_series(1, %s)",
}


MAINTENANCE = {
    StoreKind.POSTGRESQL: "VACUUM ANALYZE tickets, purchases",
    StoreKind.MYSQL: "ANALYZE TABLE tickets, purchases",
}


def _vacuum(db: Database) -> None:
    """After a reset, outside any transaction: fresh planner statistics (and PostgreSQL's visibility map)."""
    statement = MAINTENANCE.get(db.kind)
    if statement is None:
        return
    try:
        with db.engine.connect() as plain:
            conn = plain.execution_options(isolation_level="AUTOCOMMIT")
            with watchdog(conn, db.timeout_s):
                result = conn.exec_driver_sql(statement)
                if result.returns_rows:
                    result.fetchall()  # MariaDB answers ANALYZE with a row per table
    except sa.exc.DBAPIError as exc:
        raise db.error(exc) from None


def warm_wal(db: Database, cur: Any) -> None:
    """SQLite syncs a new WAL's header at its first commit (tens of ms on a busy disk), with every other
    writer waiting: the first buyer to start writes it, harmlessly (user_version set to itself), before the
    barrier. Buyers that find the WAL already written skip it."""
    if db.kind is not StoreKind.SQLITE:
        return
    from booking.stores.connect import sqlite_path

    wal = sqlite_path(db.url).with_name(sqlite_path(db.url).name + "-wal")
    if _size(wal) > 0:
        return
    version = int(cur.execute("PRAGMA user_version").fetchone()[0])
    try:
        cur.execute("BEGIN IMMEDIATE")
    except Exception:  # another connection holds the write lock: the header waits for the first commit, as it did
        return
    try:
        cur.execute(f"PRAGMA user_version = {version}")
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise


def footprint(db: Database) -> dict[str, int]:
    """The store's size now: its tables' bytes, and (PostgreSQL) the dead rows a scan still reads."""
    if db.kind is StoreKind.SQLITE:
        from booking.stores.connect import sqlite_path

        path = sqlite_path(db.url)
        return {"bytes": sum(_size(path.with_name(path.name + s)) for s in ("", "-wal"))}
    query = {
        StoreKind.POSTGRESQL: "SELECT COALESCE(SUM(pg_total_relation_size(relid)), 0), COALESCE(SUM(n_dead_tup), 0) "
        "FROM pg_stat_user_tables WHERE relname IN ('tickets', 'purchases') AND schemaname = current_schema()",
        StoreKind.MYSQL: "SELECT COALESCE(SUM(data_length + index_length), 0), 0 FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name IN ('tickets', 'purchases')",
    }[db.kind]
    with db.admin() as conn:
        row = conn.exec_driver_sql(query).one()
    return {"bytes": int(row[0]), "dead_rows": int(row[1])}


def _size(path: Any) -> int:
    try:
        return int(path.stat().st_size)
    except OSError:
        return 0


def count_free(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(tickets).where(tickets.c.sold_to.is_(None))) or 0)
