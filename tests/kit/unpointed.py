"""Read-then-write purchases that never call point(), on booking's schema: booking.connect's statements are
their points; a SQLAlchemy engine's are when auto_points is asked for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import booking

FIRST_FREE = "SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"


def dbapi_racy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    db = booking.connect(store)
    try:
        row = db.execute(FIRST_FREE).fetchone()
        if row is None:
            return None
        db.execute("UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ?", (buyer, row[0]))
        db.execute("INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (?, ?, ?)", (row[0], buyer, time.time()))
        return int(row[0])
    finally:
        db.close()


_engines: dict[str, Any] = {}


def sqlalchemy_racy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    import sqlalchemy as sa

    engine = _engines.get(store) or _engines.setdefault(store, sa.create_engine(store))
    with engine.begin() as conn:
        row = conn.execute(sa.text(FIRST_FREE)).first()
        if row is None:
            return None
        conn.execute(
            sa.text("UPDATE tickets SET sold_to = :b, version = version + 1 WHERE id = :t"), {"b": buyer, "t": row[0]}
        )
        conn.execute(
            sa.text("INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (:t, :b, :at)"),
            {"t": row[0], "b": buyer, "at": time.time()},
        )
    return int(row[0])


def many_statements(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """Sixty distinct statements before a correct conditional write (a chatty ORM, say)."""
    db = booking.connect(store)
    try:
        for n in range(60):
            db.execute(f"SELECT {n} AS step_{n}, count(*) FROM tickets WHERE id > {n}").fetchone()
        point("after-read")
        taken = db.execute(
            "UPDATE tickets SET sold_to = ? WHERE id = (SELECT min(id) FROM tickets WHERE sold_to IS NULL) "
            "AND sold_to IS NULL RETURNING id",
            (buyer,),
        ).fetchone()
        if taken is None:
            return None
        db.execute(
            "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (?, ?, ?)", (taken[0], buyer, time.time())
        )
        return int(taken[0])
    finally:
        db.close()
