"""SQL stores (SQLite, PostgreSQL, MariaDB) through SQLAlchemy: not built yet."""

from __future__ import annotations

from booking.errors import BadInput
from booking.stores.base import Store


def open_sql_store(url: str) -> Store:
    raise BadInput("SQL stores are not available yet; use a db.json path")
