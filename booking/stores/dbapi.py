"""A store URL as your DB-API driver wants it: `connect_args(store)` and `connect(store)`.

booking hands your purchase function its store as a SQLAlchemy URL (sqlite:///t.db,
postgresql+psycopg://user:pw@host/db, mysql+pymysql://user:pw@host/db). Code that uses a driver
directly needs the same place as driver arguments:

    db = booking.connect(store)              # sqlite3, psycopg or PyMySQL, in autocommit mode
    module, kwargs = booking.connect_args(store)   # ("psycopg", {"host": ..., "dbname": ...})

A connection from connect() says each statement to booking before running it (kit/statements.py): in a
buyer, lockstep and search may hold it there, so code without point() is still raced statement by
statement. sqlite3 through its trace callback, psycopg and PyMySQL through a cursor class of their own.
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.kit import statements
from booking.options.store_url import StoreKind, StoreURL


def connect_args(store: StoreURL | str) -> tuple[str, dict[str, Any]]:
    """The DB-API module to import and the keyword arguments of its connect() for `store`."""
    url = StoreURL.of(store)
    kind = url.kind
    if kind is StoreKind.COUNTER:
        raise BadInput(_("store {store}: a db.json counter has no database connection").format(store=url.text))
    if url.scheme is None:
        return "sqlite3", {"database": url.text}
    parts = urlsplit(url.text)
    if kind is StoreKind.SQLITE:
        return "sqlite3", {"database": _sqlite_path(url)}
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


def _sqlite_path(url: StoreURL) -> str:
    """sqlite:///relative.db -> relative.db; sqlite:////abs/t.db -> /abs/t.db (SQLAlchemy's reading)."""
    rest = url.address
    return unquote(rest[1:] if rest.startswith("/") else rest).split("?", 1)[0]


def connect(store: StoreURL | str) -> Any:
    """A DB-API connection to `store` with the installed driver, in autocommit mode: your code says BEGIN."""
    url = StoreURL.of(store)
    module_name, kwargs = connect_args(url)
    try:
        driver = importlib.import_module(module_name)
    except ModuleNotFoundError:
        raise BadInput(
            _("store {mask_url}: driver {module_name} is not installed").format(
                mask_url=url.display, module_name=module_name
            )
        ) from None
    if module_name == "sqlite3":
        db = driver.connect(kwargs["database"], timeout=30, isolation_level=None)
        db.set_trace_callback(statements.statement)  # called as each statement starts, before its locks
        return db
    if module_name == "psycopg":
        return driver.connect(autocommit=True, cursor_factory=_psycopg_cursor(driver), **kwargs)
    return driver.connect(autocommit=True, cursorclass=_pymysql_cursor(), **kwargs)  # the same keyword


def _psycopg_cursor(psycopg: Any) -> Any:
    class Cursor(psycopg.Cursor):  # type: ignore[misc]
        """psycopg's cursor, saying each statement to booking first."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            statements.statement(query if isinstance(query, str) else query.as_string(self))
            return super().execute(query, params, **kwargs)

    return Cursor


def _pymysql_cursor() -> Any:
    from pymysql.cursors import Cursor as Plain  # type: ignore[import-untyped]

    class Cursor(Plain):  # type: ignore[misc]
        """PyMySQL's cursor, saying each statement to booking first."""

        def execute(self, query: Any, args: Any = None) -> Any:
            statements.statement(query)
            return super().execute(query, args)

    return Cursor
