"""The database servers a comparison without --stores adds: each one that answers, or why it was left out.

By default PostgreSQL and MariaDB on this machine (127.0.0.1, their usual ports and superusers), in
a database of booking's own, `booking_compare`, created when the server answers and it is missing;
`--servers` or $BOOKING_COMPARE_SERVERS name others (`none`: no server). A server that does not
answer within a few seconds is left out with the reason, and the report says so.
"""

from __future__ import annotations

import os
from typing import Any

from booking.errors import BookingError
from booking.i18n.words import one_line
from booking.options.store_url import StoreKind, StoreURL

DEFAULT_SERVERS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/booking_compare",
    "mysql+pymysql://root@127.0.0.1:3306/booking_compare",
)
ENV = "BOOKING_COMPARE_SERVERS"
PROBE_S = 3.0  # how long a default server has to answer


def servers(spec: str | None) -> tuple[list[StoreURL], list[str]]:
    """The servers that answered, and one reason per server left out."""
    text = spec if spec is not None else os.environ.get(ENV, ",".join(DEFAULT_SERVERS))
    if text.strip().lower() in ("", "none"):
        return [], []
    found: list[StoreURL] = []
    skipped: list[str] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        url = StoreURL.parse(part)  # a bad URL is bad input, as in --stores
        reason = _reason(url)
        if reason is None:
            found.append(url)
        else:
            skipped.append(f"{url.display}: {reason}")
    return found, skipped


def _reason(url: StoreURL) -> str | None:
    """None when the server answers (its database made if missing), else why not, in one line."""
    if url.kind not in (StoreKind.POSTGRESQL, StoreKind.MYSQL):
        return "not a database server"
    try:
        import sqlalchemy as sa

        from booking.stores.connect import Database

        admin = sa.engine.make_url(url.sqlalchemy or "")
        name = admin.database or ""
        root = admin.set(database="postgres" if url.kind is StoreKind.POSTGRESQL else "information_schema")
        args = {"connect_timeout": int(PROBE_S)}
        engine = sa.create_engine(root, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool, connect_args=args)
        try:
            with engine.connect() as conn:
                exists = _exists(conn, url.kind, name)
                if not exists:
                    conn.exec_driver_sql(f"CREATE DATABASE {name}")
        finally:
            engine.dispose()
        db = Database(url, timeout_s=PROBE_S)
        with db.admin() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except BookingError as exc:
        return str(exc)
    except Exception as exc:  # the driver's own error: the server is not there, or refuses us
        return one_line(exc, url.secrets)


def _exists(conn: Any, kind: StoreKind, name: str) -> bool:
    if not name.isidentifier():
        raise ValueError(f"database name {name!r}: letters, digits and _ only")
    query = (
        "SELECT 1 FROM pg_database WHERE datname = %(n)s"
        if kind is StoreKind.POSTGRESQL
        else "SELECT 1 FROM information_schema.schemata WHERE schema_name = %(n)s"
    )
    return conn.exec_driver_sql(query, {"n": name}).first() is not None
