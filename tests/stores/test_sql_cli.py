"""The CLI on SQL stores: strategies, refusals, masked passwords, errors in one line, lazy imports."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from booking.strategies import STRATEGIES


def test_the_acceptance_command_double_sells(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`booking simulate --store sqlite:///t.db --buyers 10 --no-lock` exits 1: ticket #1 sold ten times."""
    monkeypatch.chdir(tmp_path)
    done = cli("simulate", "--store", "sqlite:///t.db", "--buyers", "10", "--no-lock", "--json")
    assert done.code == 1, done.err
    result = json.loads(done.out)
    assert (result["sold"], result["double_sold"], result["strategy"]) == (10, 1, "none")


def test_default_strategy_depends_on_the_store(tmp_path: Path, postgresql_url: str) -> None:
    from booking import RunConfig, simulate

    (tmp_path / "db.json").write_text('{"count": 1}')
    for store, default in (
        (str(tmp_path / "db.json"), "mp-lock"),
        (str(tmp_path / "t.db"), "file-lock"),
        (f"sqlite:///{tmp_path / 'u.sqlite'}", "file-lock"),
        (postgresql_url, "atomic"),
    ):
        result = simulate(RunConfig(store=store, buyers=3))
        assert (result.to_json()["strategy"], result.ok) == (default, True)


def test_strategies_lists_every_strategy(cli: Any) -> None:
    done = cli("strategies", "--json")
    rows = {r["name"]: r for r in json.loads(done.out)}
    assert set(rows) == set(STRATEGIES)
    assert all(r["description"] and r["scope"] and r["stores"] for r in rows.values())
    assert rows["advisory"]["stores"] == ["postgresql"]
    assert rows["skip-locked"]["stores"] == ["postgresql", "mariadb"]
    assert "sqlite" in rows["file-lock"]["default_for"]


def test_strategies_for_a_store(cli: Any) -> None:
    done = cli("strategies", "--store", "sqlite:///x.db", "--json")
    names = [r["name"] for r in json.loads(done.out)]
    assert "atomic" in names and "advisory" not in names and "skip-locked" not in names
    table = cli("strategies")
    assert table.code == 0 and "skip-locked" in table.out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--store", "t.db", "--lock", "advisory"), "does not apply to a sqlite store"),
        (
            ("--store", "t.db", "--lock", "skip-locked"),
            "does not apply to a sqlite store (choose from: none, mp-lock, file-lock, queue, atomic",
        ),
        (("--store", "db.json", "--lock", "atomic"), "does not apply to a counter store"),
        (("--store", "db.json", "--isolation", "serializable"), "SQL stores only"),
        (("--store", "t.db", "--isolation", "read-committed"), "SQLite runs every transaction serializable"),
        (("--store", "nosuch://x/y"), "unknown store URL scheme"),
    ],
)
def test_refusals_are_one_line_with_exit_2(
    cli: Any, args: tuple[str, ...], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "db.json").write_text('{"count": 1}')
    monkeypatch.chdir(tmp_path)
    done = cli("simulate", *args)
    assert done.code == 2
    assert words in done.err
    assert done.err.count("\n") == 1


def test_not_a_database_file(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.db").write_text("hello")
    monkeypatch.chdir(tmp_path)
    done = cli("simulate", "--store", "bad.db")
    assert done.code == 2
    assert "not a database" in done.err


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres:s3cr3t-pw@127.0.0.1:1/test",  # nothing listens on port 1
        "mysql+pymysql://nobody:s3cr3t-pw@127.0.0.1:1/test",
    ],
)
def test_unreachable_server_is_one_line_exit_3_password_masked(cli: Any, url: str) -> None:
    for args in (("simulate", "--json"), ("db", "current")):
        done = cli(*args, "--store", url)
        assert done.code == 3, (args, done.err)
        assert "s3cr3t-pw" not in done.out + done.err
        assert ":***@127.0.0.1:1" in done.err
        assert done.err.count("\n") == 1 and "Traceback" not in done.err


def test_wrong_credentials_on_a_live_server(cli: Any, mysql_url: str) -> None:
    """MariaDB answers, and refuses: still one line, exit 3, the password never printed."""
    from sqlalchemy.engine import make_url

    url = make_url(mysql_url).set(username="booking_nobody", password="s3cr3t-pw").render_as_string(False)
    done = cli("simulate", "--store", url)
    assert done.code == 3
    assert "Access denied" in done.err and "s3cr3t-pw" not in done.err


def test_password_masked_in_json(cli: Any, postgresql_url: str) -> None:
    from sqlalchemy.engine import make_url

    # trust authentication: the password is accepted and ignored, so the run goes ahead.
    url = make_url(postgresql_url).set(password="s3cr3t-pw").render_as_string(False)
    done = cli("simulate", "--store", url, "--lock", "atomic", "--json")
    assert done.code == 0, done.err
    assert "s3cr3t-pw" not in done.out + done.err
    assert json.loads(done.out)["store"].count("***") == 1
    text = cli("simulate", "--store", url, "--lock", "atomic")
    assert "s3cr3t-pw" not in text.out and "***" in text.out


def test_database_is_locked_past_the_busy_timeout_could_not_run(cli: Any, tmp_path: Path) -> None:
    """Another connection holds SQLite's write lock past the busy timeout: each attempt fails, the run reports
    it as the environment's failure (exit 3, could not run, naming the error), not as an anomaly of the strategy."""
    db = tmp_path / "t.db"
    assert cli("init", "--store", str(db), "--tickets", "2").code == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        done = cli(
            "simulate",
            "--store",
            f"sqlite:///{db}?timeout=0.1",
            "--keep",
            "--lock",
            "atomic",
            "--buyers",
            "3",
            "--json",
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.code == 3, done.err
    result = json.loads(done.out)
    assert (result["unavailable"], result["errors"], result["sold"], result["stuck"]) == (3, 0, 0, 0)
    assert result["anomalies"] == [] and result["ok"] is False
    assert any("database is locked" in line and "busy timeout" in line for line in result["could_not_run"])


def test_db_json_does_not_import_sqlalchemy(tmp_path: Path) -> None:
    """The notes' store never pays for SQLAlchemy's import."""
    (tmp_path / "db.json").write_text('{"count": 1}')
    code = (
        "import sys; from booking.cli import main; "
        "code = main(['simulate', '--store', 'db.json', '-q']); "
        "print(code, 'sqlalchemy' in sys.modules, 'alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "0 False False", done.stdout + done.stderr
