"""Purchase functions on a PostgreSQL store with booking's schema, through psycopg directly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

FIRST_FREE = "SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"
LEDGER = "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (%s, %s, %s)"


def _connect(store: str) -> Any:
    import psycopg

    # booking's URL names the SQLAlchemy driver; libpq wants the plain scheme.
    return psycopg.connect(store.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)


def racy_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """Read a free ticket, then write the buyer onto it."""
    with _connect(store) as db:
        row = db.execute(FIRST_FREE).fetchone()
        point("after-read")  # the race window
        if row is None:
            return None
        db.execute("UPDATE tickets SET sold_to = %s, version = version + 1 WHERE id = %s", (buyer, row[0]))
        db.execute(LEDGER, (row[0], buyer, time.time()))
        return int(row[0])


def fixed_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """The same read, then a conditional UPDATE that only takes the ticket if it is still free."""
    with _connect(store) as db:
        while True:
            row = db.execute(FIRST_FREE).fetchone()
            point("after-read")
            if row is None:
                return None
            with db.transaction():
                point("in-critical")  # inside the transaction: where --kill-at in-critical kills a buyer
                taken = db.execute(
                    "UPDATE tickets SET sold_to = %s, version = version + 1 WHERE id = %s AND sold_to IS NULL",
                    (buyer, row[0]),
                ).rowcount
                if taken == 1:
                    db.execute(LEDGER, (row[0], buyer, time.time()))
                point("before-commit")
            if taken == 1:
                return int(row[0])
