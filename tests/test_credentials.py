"""A password in a store URL appears in no output, report, history or error (issue 6 item 4).

Two password-bearing URLs: a MariaDB user that really has a password, and the PostgreSQL session
database with a password the server's trust authentication ignores. Every output format of every
command is grepped for the password; a failing command (wrong host, wrong password, --debug) too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from booking import init_store

PG_PASSWORD = "pg-pass-" + "w0rd-9k2"


# MariaDB's runs take ~35 s here: they run under -m slow (CI); PostgreSQL's by default.
@pytest.fixture(params=[pytest.param("mysql", marks=pytest.mark.slow), "postgresql"])
def secret_url(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(URL with a password, the password)."""
    if request.param == "mysql":
        from tests.helpers import MYSQL_PASSWORD

        return str(request.getfixturevalue("mysql_password_url")), MYSQL_PASSWORD
    url = str(request.getfixturevalue("postgresql_url")).replace("postgres@", f"postgres:{PG_PASSWORD}@", 1)
    return url, PG_PASSWORD


# test_secrets.py carries every command and format by default; this older sweep adds md and --json forms
@pytest.mark.slow
def test_no_output_carries_the_password(cli: Any, tmp_path: Path, secret_url: tuple[str, str]) -> None:
    url, password = secret_url
    history = tmp_path / "run.jsonl"
    seen: dict[str, str] = {}

    def record(name: str, *args: str | Path, codes: tuple[int, ...] = (0,)) -> Any:
        ran = cli(*args)
        assert ran.code in codes, (name, ran.code, ran.err)
        seen[name] = ran.out + ran.err
        return ran

    record("init", "init", "--store", url, "--tickets", "3")
    record("simulate", "simulate", "--store", url, "--buyers", "4", "--tickets", "3")
    run = record(
        "simulate --json", "simulate", "--store", url, "--buyers", "4", "--tickets", "3", "--json", "--history", history
    )
    assert run.json()["store"].count("***") == 1  # masked, not dropped
    seen["history file"] = history.read_text()
    record("simulate --no-lock", "simulate", "--store", url, "--buyers", "3", "--no-lock", "--json", codes=(0, 1))
    record("verify", "verify", "--store", url, "--history", history, "--tickets", "3", codes=(0, 1))
    record("verify --json", "verify", "--store", url, "--history", history, "--tickets", "3", "--json", codes=(0, 1))
    for fmt in ("table", "md", "json", "csv", "html"):
        args = ["compare", "--stores", url, "--strategies", "atomic", "--buyers", "2", "--tickets", "2"]
        args += ["--trials", "1", "--schedule", "free", "--format", fmt, "-q"]
        record(f"compare --format {fmt}", *args)
        out = tmp_path / f"report.{fmt}"
        record(f"compare --out {fmt}", *args, "--out", out)
        seen[f"report.{fmt}"] = out.read_text()
    record("strategies", "strategies", "--store", url)
    record("strategies --json", "strategies", "--store", url, "--json")
    record("db current", "db", "current", "--store", url)
    record("db current --json", "db", "current", "--store", url, "--json")
    record("db upgrade", "db", "upgrade", "--store", url)
    leaks = [name for name, text in seen.items() if password in text]
    assert leaks == [], f"the password appears in: {leaks}"
    assert "***" in seen["simulate"] and "***" in seen["db current"]


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
def test_failing_commands_do_not_print_the_password(
    command: Any, secret_url: tuple[str, str], tmp_path: Path, debug: list[str]
) -> None:
    url, password = secret_url
    init_store(url, 1)
    scheme, rest = url.split("://", 1)
    wrong_password = url.replace(f":{password}@", ":not-the-password@")
    for bad, words in [
        (f"{scheme}://{rest.split('@', 1)[0]}@127.0.0.1:1/nothing", "cannot open"),
        (f"{scheme}://{rest.split('@', 1)[0]}@no-such-host.invalid/nothing", "cannot open"),
        (url.replace(scheme + "://", scheme.split("+")[0] + "+nosuchdriver://"), "Can't load plugin"),
    ]:
        for args in (["simulate"], ["verify", "--history", str(tmp_path / "none.jsonl")], ["db", "current"]):
            ran = command(*debug, *args, "--store", bad)
            assert ran.code in (2, 3), ran.err  # --debug adds the traceback, the exit code stays
            assert not debug or "Traceback (most recent call last)" in ran.err, ran.err
            assert password not in ran.out + ran.err, (args, ran.err)
            if not debug and args[0] != "verify":
                assert words in ran.err and len(ran.err.splitlines()) == 1, ran.err
    if scheme.startswith("mysql"):  # PostgreSQL here trusts every password
        ran = command(*debug, "simulate", "--store", wrong_password)
        assert ran.code == 3 and "Access denied" in ran.err and "not-the-password" not in ran.out + ran.err
