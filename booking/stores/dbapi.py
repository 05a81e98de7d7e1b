"""A store URL as your DB-API driver wants it: `connect_args(store)` and `connect(store)`.

booking hands your purchase function its store as a SQLAlchemy URL (sqlite:///t.db,
postgresql+psycopg://user:pw@host/db, mysql+pymysql://user:pw@host/db). Code that uses a driver
directly needs the same place as driver arguments:

    db = booking.connect(store)              # sqlite3, psycopg or PyMySQL, in autocommit mode
    module, kwargs = booking.connect_args(store)   # ("psycopg", {"host": ..., "dbname": ...})
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.redact import mask_url
from booking.stores.base import StoreKind, store_kind


def connect_args(store: str) -> tuple[str, dict[str, Any]]:
    """The DB-API module to import and the keyword arguments of its connect() for `store`."""
    kind = store_kind(store)
    if kind is StoreKind.COUNTER:
        raise BadInput(_("store {store}: a db.json counter has no database connection").format(store=store))
    if "://" not in store:
        return "sqlite3", {"database": store}
    parts = urlsplit(store)
    if kind is StoreKind.SQLITE:
        return "sqlite3", {"database": _sqlite_path(store)}
    args: dict[str, Any] = {"host": parts.hostname or "localhost", "user": unquote(parts.username or "")}
    if parts.password is not None:
        args["password"] = unquote(parts.password)
    if parts.port is not None:
        args["port"] = parts.port
    database = unquote(parts.path.lstrip("/"))
    extra = dict(parse_qsl(parts.query))
    if kind is StoreKind.POSTGRESQL:
        return "psycopg", {**args, "dbname": database, **extra}
    return "pymysql", {**args, "database": database, **extra}


def _sqlite_path(store: str) -> str:
    """sqlite:///relative.db -> relative.db; sqlite:////abs/t.db -> /abs/t.db (SQLAlchemy's reading)."""
    rest = store.split("://", 1)[1]
    return unquote(rest[1:] if rest.startswith("/") else rest).split("?", 1)[0]


def connect(store: str) -> Any:
    """A DB-API connection to `store` with the installed driver, in autocommit mode: your code says BEGIN."""
    module_name, kwargs = connect_args(store)
    try:
        driver = importlib.import_module(module_name)
    except ModuleNotFoundError:
        raise BadInput(
            _("store {mask_url}: driver {module_name} is not installed").format(
                mask_url=mask_url(store), module_name=module_name
            )
        ) from None
    if module_name == "sqlite3":
        return driver.connect(kwargs["database"], timeout=30, isolation_level=None)
    return driver.connect(autocommit=True, **kwargs)  # psycopg and PyMySQL take the same keyword
