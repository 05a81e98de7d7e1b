"""A compare-and-swap purchase with a fallback, on booking's schema (tickets with a version, purchases).

The first try is careful: read (id, version), say point("after-read"), then UPDATE ... WHERE version =
the one read. When that CAS is lost, `racy_buy` falls back to the plain read-then-write it was meant to
replace: read the next free ticket, write the buyer onto it; no point() there, so a harness that holds
only explicit points lets the fallbacks run free (and they passed 53 of 60 single races). booking holds
the statements of a `booking.connect` connection too, so the fallbacks' SELECT and UPDATE meet in
lockstep, and two buyers take one ticket. `fixed_buy` guards the fallback with the same version check,
and declines when it loses that too.

    booking simulate --store sqlite:///t.db --purchase booking.examples.fallback:racy_buy --buyers 3 --tickets 2
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import booking

FIRST_FREE = "SELECT id, version FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"
CAS = "UPDATE tickets SET sold_to = %s, version = version + 1 WHERE id = %s AND version = %s"
TAKE = "UPDATE tickets SET sold_to = %s, version = version + 1 WHERE id = %s"
LEDGER = "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (%s, %s, %s)"


def _run(db: Any, sql: str, *args: Any) -> Any:
    cur = db.cursor()
    cur.execute(sql.replace("%s", "?") if type(db).__module__ == "sqlite3" else sql, args)
    return cur


def _buy(store: str, buyer: int, point: Callable[[str], None], guarded: bool) -> int | None:
    db = booking.connect(store)
    try:
        row = _run(db, FIRST_FREE).fetchone()
        point("after-read")
        if row is None:
            return None
        if _run(db, CAS, buyer, row[0], row[1]).rowcount == 1:
            _run(db, LEDGER, row[0], buyer, time.time())
            return int(row[0])
        row = _run(db, FIRST_FREE).fetchone()  # the fallback: lost the CAS, take the next free ticket
        if row is None:
            return None
        if guarded:
            if _run(db, CAS, buyer, row[0], row[1]).rowcount != 1:
                raise booking.Declined(f"ticket #{row[0]} was taken under us twice")
        else:
            _run(db, TAKE, buyer, row[0])  # no version check: whoever read it free takes it
        _run(db, LEDGER, row[0], buyer, time.time())
        return int(row[0])
    finally:
        db.close()


def racy_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    return _buy(store, buyer, point, guarded=False)


def fixed_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """The fallback checks the version it read, as the first try does."""
    return _buy(store, buyer, point, guarded=True)
