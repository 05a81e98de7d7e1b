"""The SQL store itself: traps it refuses to fall into, and what it shows people."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking.options.store_url import masked_url as mask
from booking.stores import open_store
from booking.stores.schema import LOOK_CAP
from booking.stores.sql import SqlStore


def _open(url: str) -> SqlStore:
    store = open_store(url)
    assert isinstance(store, SqlStore)
    return store


def test_a_row_lock_on_sqlite_is_refused_not_ignored(sqlite_url: str) -> None:
    """SQLAlchemy renders FOR UPDATE as nothing on SQLite: asking for it is an error, never a silent no-op."""
    store = _open(sqlite_url)
    try:
        store.prepare(1)
        with pytest.raises(ValueError, match="no row locks"):
            store.first_free("update")
    finally:
        store.close()


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        ("postgresql+psycopg://u:secret@h:5432/d", "postgresql+psycopg://u:***@h:5432/d"),
        ("mysql+pymysql://root@h/d", "mysql+pymysql://root@h/d"),
        ("postgresql+psycopg://u:p%40ss@h/d", "postgresql+psycopg://u:***@h/d"),
        ("tickets.db", "tickets.db"),
    ],
)
def test_passwords_are_masked(spec: str, shown: str) -> None:
    assert mask(spec) == shown


def test_file_lock_sits_beside_the_sqlite_file_not_on_it(tmp_path: Path) -> None:
    store = _open(str(tmp_path / "t.db"))
    assert store.lock_path() == tmp_path / "t.db.lock"
    store.close()


def test_the_look_counts_up_to_its_cap(sqlite_url: str) -> None:
    store = _open(sqlite_url)
    try:
        store.prepare(3)
        assert store.remaining() == 3
        store.prepare(LOOK_CAP + 50)
        assert store.remaining() == LOOK_CAP
        assert store.final().remaining == LOOK_CAP + 50  # the verdict's count is exact
    finally:
        store.close()
