"""A SQL store's set-up: schema and seeding that an interruption cannot leave half done.

One transaction (SQLite's DDL included: the engine emits BEGIN, stores/connect.py), so an
interruption at any moment leaves the store as it was, and a SQLite file this set-up created is
removed again. MariaDB commits DDL by itself: there the schema is made first and seeded in a
second transaction, so an interruption leaves a usable, empty store. Nothing is changed (not even
SQLite's journal mode) before the store is known to be booking's (migrate.check_known).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.stores import migrate
from booking.stores.base import StoreKind
from booking.stores.schema import purchases, tickets

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
                _seed(conn, seed)
        if seed is not None and db.kind is StoreKind.MYSQL:
            with db.admin() as conn:
                _seed(conn, seed)
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


def _seed(conn: Connection, seed: int) -> None:
    conn.execute(delete(purchases))
    conn.execute(delete(tickets))
    for start in range(1, seed + 1, SEED_CHUNK):
        conn.execute(insert(tickets), [{"id": i} for i in range(start, min(start + SEED_CHUNK, seed + 1))])


def count_free(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(tickets).where(tickets.c.sold_to.is_(None))) or 0)
