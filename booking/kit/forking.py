"""Is it safe to fork buyers from this process for your code? A forked buyer inherits your modules' state:
SQLAlchemy engines it disposes (their pools are forgotten, never shared), but a database connection your
module opened at import (a DB-API connection, or a SQLAlchemy Connection) would be one socket or file
shared by every buyer. `shared_connections` finds them, as data; the pytest fixture then starts the
buyers with spawn and says why."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

DRIVERS = ("sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "mysql", "sqlalchemy")


def _is_connection(value: Any) -> bool:
    kind = type(value)
    root = (kind.__module__ or "").split(".", 1)[0]
    return root in DRIVERS and kind.__name__.lower() == "connection"


def _module_of(hook: Any) -> Any:
    inner = getattr(hook, "func", None) or getattr(hook, "__func__", None) or hook  # a partial, a bound method
    return sys.modules.get(getattr(inner, "__module__", "") or "")


def shared_connections(hooks: Iterable[Any]) -> list[str]:
    """'shop.db' for each connection held in a module-level name of the modules your hooks come from."""
    found: list[str] = []
    for module in {m for m in map(_module_of, hooks) if m is not None}:
        found += [f"{module.__name__}.{name}" for name, value in vars(module).items() if _is_connection(value)]
    return sorted(found)
