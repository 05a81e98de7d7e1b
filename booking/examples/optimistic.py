"""Optimistic purchase with a version column: read (id, version), then UPDATE ... WHERE version = seen.

`lying_buy` gives up after three lost compare-and-swaps and still answers success, as a view that
returns 200 whatever happened: booking sees receipts the store never recorded. `honest_buy` gives
up after three and says so (booking.Declined): a correct refusal, counted as declined, never as an
anomaly. Both run on booking's schema (tickets with a version, and the purchases ledger).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import booking

TRIES = 3


def _cas(store: str, buyer: int, point: Callable[[str], None]) -> tuple[bool, int | None]:
    """(won, ticket): up to TRIES compare-and-swaps on the first free ticket; (True, None) when sold out."""
    db = booking.connect(store)
    mark = "?" if type(db).__module__ == "sqlite3" else "%s"
    try:
        ticket = None
        for _ in range(TRIES):
            row = _one(db, "SELECT id, version FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1")
            point("after-read")
            if row is None:
                return True, None
            ticket, version = int(row[0]), int(row[1])
            cur = db.cursor()
            cur.execute(
                f"UPDATE tickets SET sold_to = {mark}, version = version + 1 WHERE id = {mark} AND version = {mark}",
                (buyer, ticket, version),
            )
            if cur.rowcount == 1:
                cur.execute(
                    f"INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES ({mark}, {mark}, {mark})",
                    (ticket, buyer, time.time()),
                )
                return True, ticket
        return False, ticket
    finally:
        db.close()


def _one(db: Any, sql: str) -> Any:
    cur = db.cursor()
    cur.execute(sql)
    return cur.fetchone()


def lying_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    _won, ticket = _cas(store, buyer, point)
    return ticket  # lost three times? answer success anyway


def honest_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    won, ticket = _cas(store, buyer, point)
    if not won:
        raise booking.Declined(f"ticket #{ticket} changed under us {TRIES} times")
    return ticket
