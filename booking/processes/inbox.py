"""--idempotent: the sellers' record of every request they sold, so a redelivered one is answered from it.

The record is a SQLite file beside the store's lock file (one per store, shared by every seller on
this host): request id -> ticket. A seller writes it right after the sale, before its acknowledgement;
a request the broker delivers again is answered with the ticket recorded, never sold twice. Sellers on
other hosts keep records of their own: there, the record belongs in the store's own transaction.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

BUSY_MS = 10_000


class Inbox:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), timeout=BUSY_MS / 1000, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS sold (request TEXT PRIMARY KEY, ticket INTEGER)")

    def sold(self, request: str) -> int | None:
        row = self.db.execute("SELECT ticket FROM sold WHERE request = ?", (request,)).fetchone()
        return None if row is None else int(row[0])

    def record(self, request: str, ticket: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO sold (request, ticket) VALUES (?, ?)", (request, ticket))

    def close(self) -> None:
        self.db.close()


def inbox_path(lock_path: Path) -> Path:
    return lock_path.with_name(lock_path.name + ".requests.sqlite")
