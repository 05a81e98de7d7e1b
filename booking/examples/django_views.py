"""A Django order view, ported statement for statement to DB-API on booking's schema (tickets, purchases).

    @transaction.atomic
    def buy(request):
        ticket = Ticket.objects.select_for_update().filter(sold_to=None).order_by("id").first()
        ...

`racy_buy` is the view without select_for_update(). `locked_buy` is the view with it, and what
Django does with it: SELECT ... FOR UPDATE on PostgreSQL and MariaDB, and nothing at all on SQLite
("using select_for_update() on backends which do not support it, such as SQLite, will have no
effect"), where it still oversells. `fixed_buy` takes SQLite's write lock (BEGIN IMMEDIATE) there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import booking

FIRST_FREE = "SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"
TAKE = "UPDATE tickets SET sold_to = %s, version = version + 1 WHERE id = %s"
LEDGER = "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (%s, %s, %s)"


def _run(db: Any, sql: str, *args: Any) -> Any:
    cur = db.cursor()
    cur.execute(sql.replace("%s", "?") if _is_sqlite(db) else sql, args)
    return cur


def _is_sqlite(db: Any) -> bool:
    return type(db).__module__ == "sqlite3"


def _view(store: str, buyer: int, point: Callable[[str], None], lock: bool, sqlite_write_lock: bool) -> int | None:
    db = booking.connect(store)
    try:
        sqlite = _is_sqlite(db)
        _run(db, "BEGIN IMMEDIATE" if sqlite and sqlite_write_lock else "BEGIN")  # transaction.atomic
        row = _run(db, FIRST_FREE + (" FOR UPDATE" if lock and not sqlite else "")).fetchone()
        point("after-read")
        if row is None:
            _run(db, "COMMIT")
            return None
        _run(db, TAKE, buyer, row[0])
        _run(db, LEDGER, row[0], buyer, time.time())
        point("before-commit")
        _run(db, "COMMIT")
        return int(row[0])
    finally:
        db.close()


def racy_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    return _view(store, buyer, point, lock=False, sqlite_write_lock=False)


def locked_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """select_for_update(), as Django runs it: a row lock on servers, nothing on SQLite."""
    return _view(store, buyer, point, lock=True, sqlite_write_lock=False)


def fixed_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """The row lock on servers, and SQLite's write lock taken at BEGIN where there are no row locks."""
    return _view(store, buyer, point, lock=True, sqlite_write_lock=True)
