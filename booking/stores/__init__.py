"""Stores: where the stock lives. `open_store(spec)` picks one from a path or a database URL."""

from __future__ import annotations

from booking.errors import BadInput
from booking.stores.base import FinalState, Seen, Store, StoreKind
from booking.stores.counter import CounterStore

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

__all__ = ["CounterStore", "FinalState", "Seen", "Store", "StoreKind", "open_store", "store_kind"]


def store_kind(spec: str) -> StoreKind:
    """Which kind of store a --store value names, without opening it."""
    if "://" in spec:
        scheme = spec.split("://", 1)[0].split("+", 1)[0].lower()
        kinds = {
            "sqlite": StoreKind.SQLITE,
            "postgresql": StoreKind.POSTGRESQL,
            "postgres": StoreKind.POSTGRESQL,
            "mysql": StoreKind.MYSQL,
            "mariadb": StoreKind.MYSQL,
        }
        if scheme not in kinds:
            raise BadInput(
                f"unknown store URL scheme {scheme!r} (use a db.json path, sqlite://, postgresql+psycopg:// or mysql+pymysql://)"
            )
        return kinds[scheme]
    if spec.lower().endswith(SQLITE_SUFFIXES):
        return StoreKind.SQLITE
    return StoreKind.COUNTER


def open_store(spec: str, isolation: str | None = None, durable: bool = False) -> Store:
    """Open the store `spec` names (`isolation`: SQL stores only; `durable`: db.json fsyncs every write).

    Call it in the process that will use it.
    """
    kind = store_kind(spec)
    if kind is StoreKind.COUNTER:
        return CounterStore(spec, durable=durable)
    from booking.stores.sql import open_sql_store  # SQLAlchemy is imported only for SQL stores

    return open_sql_store(spec, isolation)
