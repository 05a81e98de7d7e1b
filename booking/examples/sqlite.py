"""Purchase functions on a SQLite store with booking's schema (tickets rows, purchases ledger)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

FIRST_FREE = "SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"
LEDGER = "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (?, ?, ?)"


def _connect(store: str) -> sqlite3.Connection:
    # isolation_level=None: no hidden BEGIN before a SELECT (pysqlite's default); we say when.
    return sqlite3.connect(store.removeprefix("sqlite:///"), timeout=10, isolation_level=None)


def racy_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """Read a free ticket, then write the buyer onto it: two buyers can read the same free ticket."""
    db = _connect(store)
    try:
        row = db.execute(FIRST_FREE).fetchone()
        point("after-read")  # the race window
        if row is None:
            return None
        db.execute("UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ?", (buyer, row[0]))
        db.execute(LEDGER, (row[0], buyer, time.time()))
        return int(row[0])
    finally:
        db.close()


def fixed_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """The same read, then a conditional UPDATE that only takes the ticket if it is still free."""
    db = _connect(store)
    try:
        while True:
            row = db.execute(FIRST_FREE).fetchone()
            point("after-read")  # the same window; the write below no longer trusts the read
            if row is None:
                return None
            db.execute("BEGIN IMMEDIATE")
            point("in-critical")  # inside the write lock: where --kill-at in-critical kills a buyer
            taken = db.execute(
                "UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ? AND sold_to IS NULL",
                (buyer, row[0]),
            ).rowcount
            if taken == 1:
                db.execute(LEDGER, (row[0], buyer, time.time()))
            point("before-commit")
            db.execute("COMMIT")
            if taken == 1:
                return int(row[0])
            # someone else took it between our read and our write: look again
    finally:
        db.close()
