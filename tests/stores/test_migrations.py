"""Alembic owns the schema: from empty to exactly what the code expects, down to base and back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import booking
from booking.stores import migrate
from booking.stores.schema import metadata
from tests.helpers import KINDS

URL = Callable[[str], str]


def _schema_diff(url: str) -> tuple[set[str], list[object]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    return tables, diff


def _empty(url: str) -> str:
    """The store with none of booking's tables (a server database is shared by the session)."""
    if booking.schema_state(url).revision is not None:
        booking.downgrade_store(url, "base")
    return url


@pytest.mark.parametrize("kind", KINDS)
class TestMigrations:
    def test_upgrade_from_empty_gives_the_expected_schema(self, kind: str, store_url: URL) -> None:
        """After `db upgrade` on an empty store, Alembic finds no difference from booking's tables."""
        url = _empty(store_url(kind))
        assert booking.upgrade_store(url).revision == migrate.head()
        tables, diff = _schema_diff(url)
        assert {"tickets", "purchases", "alembic_version"} <= tables
        assert diff == []

    def test_downgrade_to_base_and_upgrade_again(self, kind: str, store_url: URL) -> None:
        """Down to base removes booking's tables; up again restores them exactly."""
        url = store_url(kind)
        booking.upgrade_store(url)
        assert booking.downgrade_store(url, "base").revision is None
        tables, _ = _schema_diff(url)
        assert not {"tickets", "purchases"} & tables
        booking.upgrade_store(url)
        tables, diff = _schema_diff(url)
        assert {"tickets", "purchases"} <= tables
        assert diff == []

    def test_db_current_names_the_head(self, cli: Any, kind: str, store_url: URL) -> None:
        url = _empty(store_url(kind))
        assert booking.schema_state(url).revision is None
        assert cli("db", "upgrade", "--store", url).code == 0
        after = cli("db", "current", "--store", url)
        assert after.code == 0
        assert f"revision {migrate.head()} (head)" in after.out

    def test_simulate_upgrades_a_new_store_itself(self, cli: Any, kind: str, store_url: URL) -> None:
        url = _empty(store_url(kind))
        done = cli("simulate", "--store", url, "--buyers", "2", "--tickets", "2", "-q")
        assert done.code == 0, done.err
        assert booking.schema_state(url).at_head


def test_init_upgrades_a_new_store(cli: Any, sqlite_url: str) -> None:
    done = cli("init", "--store", sqlite_url, "--tickets", "3")
    assert done.code == 0, done.err
    assert booking.schema_state(sqlite_url).at_head


def test_a_store_at_an_unknown_revision_is_refused(cli: Any, sqlite_url: str) -> None:
    """A newer booking's store: every command refuses it in one line with exit 3, nothing is changed."""
    booking.upgrade_store(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff0042'")
    engine.dispose()
    for args in (("simulate",), ("db", "upgrade"), ("db", "current")):
        done = cli(*args, "--store", sqlite_url)
        assert done.code == 3, (args, done.err)
        assert "ffff0042" in done.out + done.err
        assert done.err.count("\n") <= 1 and "Traceback" not in done.err
    assert booking.schema_state(sqlite_url).revision == "ffff0042"


def test_db_commands_refuse_db_json(cli: Any) -> None:
    done = cli("db", "current", "--store", "db.json")
    assert done.code == 2
    assert "SQL stores" in done.err
