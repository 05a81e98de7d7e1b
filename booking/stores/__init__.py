"""Stores: where the stock lives. `open_store(spec)` picks one from a path or a database URL."""

from __future__ import annotations

from booking.options.config import RunConfig
from booking.options.store_url import StoreURL
from booking.stores.base import FinalState, Seen, Store, StoreKind
from booking.stores.counter import CounterStore

__all__ = ["CounterStore", "FinalState", "Seen", "Store", "StoreKind", "StoreURL", "init_store", "open_store"]


def open_store(
    spec: StoreURL | str, isolation: str | None = None, durable: bool = False, timeout_s: float = 60.0
) -> Store:
    """Open the store `spec` names (`isolation`: SQL stores only; `durable`: db.json fsyncs every write;
    `timeout_s`: how long one server round trip may take). Call it in the process that will use it."""
    url = StoreURL.of(spec)
    if url.kind is StoreKind.COUNTER:
        return CounterStore(url.text, durable=durable)
    if url.kind is StoreKind.REDIS:
        from booking.stores.redis import RedisStore  # redis-py is imported only for Redis stores

        return RedisStore(url, timeout_s)
    from booking.stores.sql import SqlStore  # SQLAlchemy is imported only for SQL stores

    return SqlStore(url, isolation, timeout_s)


def init_store(
    store: StoreURL | str, tickets: int, force: bool = False, deadline_s: float = 60.0, beside: bool = False
) -> str:
    """Reset `store` to `tickets` unsold tickets (within `deadline_s`); returns the store's display name.

    `force` replaces a db.json that is not a valid store, and a SQL store whose booking tables have no
    schema revision (a set-up cut short); another application's tables are never touched, and booking's
    are added beside them only with `beside` (--init-store)."""
    url = StoreURL.of(store)
    RunConfig(store=url, tickets=tickets, deadline_s=deadline_s).validate()
    from booking.stores.claim import claim

    with claim(url, exclusive=True, timeout_s=deadline_s):  # never reseed a store a run is using
        opened = open_store(url, timeout_s=deadline_s)
        try:
            opened.prepare(tickets, force=force, beside=beside)
        finally:
            opened.close()
    return opened.display
