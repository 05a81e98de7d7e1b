"""Fixtures: the CLI in-process, a fresh db.json, a SQLite file per test, one throwaway database per
test session on each server.

The databases are made the way the pytest plugin's `race_store` makes its own (booking.pytest_plugin.
throwaway_database): admin URLs from BOOKING_POSTGRES_URL / BOOKING_MYSQL_URL (BOOKING_TEST_POSTGRES /
BOOKING_TEST_MYSQL still work); a server that is unreachable skips the test with the reason, or fails
it when BOOKING_REQUIRE_SERVERS=1 (CI).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from booking.cli import main
from booking.pytest_plugin import throwaway_database
from tests.brokerq import broker_url as broker_url  # one RabbitMQ queue per test
from tests.helpers import MYSQL_PASSWORD, Ran, unwritable
from tests.redisdb import redis_url as redis_url  # one Redis database (10-15) per test

SERVER_FIXTURES = frozenset({"postgresql_url", "mysql_url", "mysql_password_url", "redis_url", "broker_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses a database server is marked `server` (`pytest -m "not server"` runs without them)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = set(map(str, callspec.params.values())) if callspec is not None else set()
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) or params & {"postgresql", "mysql"}:
            item.add_marker(pytest.mark.server)


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """booking speaks the locale's language: the tests read English unless they ask for another."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    with throwaway_database("postgresql", "booking_t") as url:
        yield url


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    with throwaway_database("mysql", "booking_t") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tickets.db'}"


@pytest.fixture
def store_url(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """store_url(kind) -> a URL for that kind of store (skips or fails for an unreachable server)."""

    def get(kind: str) -> str:
        return str(request.getfixturevalue(f"{kind}_url"))

    return get


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """Run `booking ARGS...` in this process and capture what it prints."""

    def run(*args: str | Path) -> Ran:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def command(capfd: pytest.CaptureFixture[str]) -> Any:
    """Run `booking ARGS...` in this process as a command of its own would run: what the buyers print is
    captured too (file descriptors, not sys.stdout), and an exception that --debug lets through is
    printed as Python prints it, exit 1. Cheaper than `python -m booking` by the interpreter's and the
    imports' start-up. (Secrets travel with each command's StoreURL: none is remembered process-wide, so
    an earlier command cannot mask a later one's output.)"""
    import traceback

    def run(*args: str | int | Path) -> Ran:
        capfd.readouterr()
        try:
            code = main([str(a) for a in args])
            trace = ""
        except Exception as exc:
            code, trace = 1, "".join(traceback.format_exception(exc))
        captured = capfd.readouterr()
        return Ran(code, captured.out, captured.err + trace)

    return run


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "db.json"
    path.write_text('{"count": 1}')
    return path


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory holding a good db.json that nobody can create files in."""
    directory = tmp_path / "locked"
    directory.mkdir()
    (directory / "db.json").write_text('{"count": 1}')
    with unwritable(directory):
        yield directory


@pytest.fixture(scope="session")
def mysql_password_url(mysql_url: str) -> Iterator[str]:
    """The session's MariaDB database through a user that has a password (dropped at the end)."""
    import sqlalchemy as sa

    admin = sa.engine.make_url(mysql_url)
    user = f"booking_pw_{secrets.token_hex(3)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY '{MYSQL_PASSWORD}'")
        conn.exec_driver_sql(f"GRANT ALL ON {admin.database}.* TO '{user}'@'%%'")
    try:
        yield admin.set(username=user, password=MYSQL_PASSWORD).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
        engine.dispose()
