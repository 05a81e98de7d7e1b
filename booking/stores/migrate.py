"""Alembic, used programmatically: the schema's revision, upgrade, downgrade (`booking db`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from booking.errors import BadInput, CannotRun

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

OUR_TABLES = frozenset({"tickets", "purchases"})


def script_location() -> str:
    """The migrations directory, found as the package booking.migrations: in a checkout the editable
    install maps it to ./migrations, and a wheel ships it inside booking/ (pyproject's package-dir)."""
    spec = importlib.util.find_spec("booking.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise CannotRun("booking's migrations are missing from this installation (booking/migrations)")
    return str(Path(next(iter(spec.submodule_search_locations))))


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert rev is not None
    return rev


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def current(connection: Connection) -> str | None:
    """The store's schema revision, None for a store Alembic never touched."""
    return MigrationContext.configure(connection).get_current_revision()


def check_known(connection: Connection, display: str) -> str | None:
    """The store's revision; refuse a store at a revision this booking does not know (a newer booking's)."""
    rev = current(connection)
    if rev is not None and rev not in known_revisions():
        raise CannotRun(
            f"store {display}: schema revision {rev!r} is unknown to this booking (head is {head()!r}); "
            "it was made by a newer booking: upgrade booking, not the store"
        )
    if rev is None:
        from sqlalchemy import inspect

        found = OUR_TABLES & set(inspect(connection).get_table_names())
        if found:
            raise BadInput(
                f"store {display}: has table {sorted(found)[0]!r} but no schema revision; not a booking store"
            )
    return rev


def upgrade(connection: Connection, display: str, revision: str = "head") -> None:
    check_known(connection, display)
    command.upgrade(_config(connection), revision)


def downgrade(connection: Connection, display: str, revision: str) -> None:
    check_known(connection, display)
    command.downgrade(_config(connection), revision)
