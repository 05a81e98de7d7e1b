"""What made a report: the machine (CPU, cores, OS, load at the start), the servers and the library versions.

A figure from another machine, or from a loaded one, is not comparable: `--baseline` shows both.
"""

from __future__ import annotations

import contextlib
import os
import platform
from typing import Any

from booking.options.store_url import StoreKind, StoreURL


def machine() -> dict[str, Any]:
    """CPU model, cores, OS, Python, and the load average now (before the comparison adds its own)."""
    try:
        one, five, fifteen = os.getloadavg()
        load: list[float] | None = [round(one, 2), round(five, 2), round(fifteen, 2)]
    except (OSError, AttributeError):
        load = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load_at_start": load,
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def versions() -> dict[str, str]:
    """Python, booking and the libraries on the path."""
    from importlib.metadata import PackageNotFoundError, version

    from booking._version import __version__

    found = {"python": platform.python_version(), "booking": __version__}
    for name in ("filelock", "sqlalchemy", "alembic", "psycopg", "pymysql", "matplotlib"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def server_version(spec: StoreURL) -> str | None:
    """A database server's version string (None for db.json, and for a server that cannot be asked)."""
    kind = spec.kind
    if kind is StoreKind.COUNTER:
        return None
    if kind is StoreKind.SQLITE:  # the library's, asked without opening (or creating) the store's file
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    if kind is StoreKind.REDIS:  # not a SQL server: its store asks it
        from booking.stores.redis.store import RedisStore

        redis_store = RedisStore(spec, timeout_s=5)
        try:
            return redis_store.server_version()
        except Exception:
            return None
        finally:
            redis_store.close()
    from booking.stores.connect import Database

    db = Database(spec)
    try:
        with db.admin() as conn:
            found = str(conn.exec_driver_sql("SELECT version()").scalar())
        return found.split(" on ")[0][:80]
    except Exception:
        return None
    finally:
        db.dispose()
