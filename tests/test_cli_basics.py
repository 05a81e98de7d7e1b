"""What users expect of any command line: --version, -h, completion, one --format convention, URLs that
just work, a downgrade that asks, reads that create nothing, and install hints that name our package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import booking
from booking.errors import CannotRun
from booking.i18n.words import DISTRIBUTION

ROOT = Path(__file__).resolve().parent.parent


class TestBasics:
    def test_version(self, cli: Any) -> None:
        ran = cli("--version")
        assert ran.code == 0 and ran.out == f"booking {booking.__version__}\n"
        assert version(DISTRIBUTION) == booking.__version__

    @pytest.mark.parametrize("args", [["-h"], ["simulate", "-h"], ["db", "current", "-h"], ["compare", "-h"]])
    def test_dash_h_is_help(self, cli: Any, args: list[str]) -> None:
        ran = cli(*args)
        assert ran.code == 0 and ran.out.startswith("Usage: booking") and "-h, --help" in ran.out

    @pytest.mark.parametrize(
        ("words", "expected"),
        [
            pytest.param("booking sim", "simulate", marks=pytest.mark.slow),
            pytest.param("booking simulate --lo", "--lock", marks=pytest.mark.slow),
            ("booking simulate --lock file", "file-lock"),
        ],
    )
    def test_shell_completion(self, words: str, expected: str) -> None:
        """bash asks the command itself (what `booking --install-completion` sets up): a new process, as bash
        starts one. By default booking's own choices (click completes names and options alike)."""
        env = {**os.environ, "_BOOKING_COMPLETE": "complete_bash", "COMP_WORDS": words}
        env["COMP_CWORD"] = str(len(words.split()) - 1)
        done = subprocess.run(
            [sys.executable, "-c", "from booking.cli import run; run()"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert expected in done.stdout.split(), done.stdout + done.stderr

    def test_install_completion_is_offered(self, cli: Any) -> None:
        assert "--install-completion" in cli("--help").out

    @pytest.mark.parametrize(
        ("args", "usage"), [([], "Usage: booking [OPTIONS] COMMAND"), (["db"], "Usage: booking db")]
    )
    def test_no_command_is_the_help_laid_out(self, cli: Any, args: list[str], usage: str) -> None:
        """`booking` alone: the help as click lays it out, on stderr, exit 2 (not squashed into one error line)."""
        ran = cli(*args)
        assert ran.code == 2 and ran.out == "" and ran.err.startswith(usage), ran.err
        assert "booking: error:" not in ran.err and "\nCommands:\n" in ran.err

    @pytest.mark.parametrize("lang", [["--lang", "en"], ["--debug"]])
    def test_options_but_no_command_say_so_then_list_the_commands(self, cli: Any, lang: list[str]) -> None:
        ran = cli(*lang)
        first, *rest = ran.err.splitlines()
        assert ran.code == 2 and first == "booking: error: Missing command."
        assert rest[0].startswith("Usage: booking") and "  simulate " in ran.err

    @pytest.mark.parametrize(
        ("args", "hint"),
        [
            (
                ["simulate", "--buyers", "3", "--lang", "zh"],
                "--lang goes before the command: booking --lang zh simulate ...",
            ),
            (["simulate", "--lang=zh"], "--lang goes before the command: booking --lang=zh simulate ..."),
            (["db", "current", "--debug"], "--debug goes before the command: booking --debug db current ..."),
            (["simulate", "--lang"], "--lang goes before the command: booking --lang en|zh simulate ..."),
        ],
    )
    def test_a_global_option_after_the_command_says_where_it_goes(self, cli: Any, args: list[str], hint: str) -> None:
        ran = cli(*args)
        assert ran.code == 2 and ran.err == f"booking: error: No such option: {hint.split()[0]} ({hint})\n"

    def test_an_unknown_option_gets_no_such_hint(self, cli: Any) -> None:
        ran = cli("simulate", "--buyrs", "3")
        assert ran.code == 2 and "goes before the command" not in ran.err


class TestFormat:
    """Every command that prints a result takes --format (text or json, and more for compare); --json is
    --format json."""

    @pytest.mark.parametrize(
        "command",
        [
            ["simulate", "--store", "{dir}/db.json", "--buyers", "2"],
            ["verify", "--store", "{dir}/db.json", "--history", "{dir}/h.jsonl"],
            ["strategies"],
            ["db", "current", "--store", "{dir}/t.db"],
        ],
        ids=lambda c: c[0] if c[0] != "db" else "db-current",
    )
    def test_format_json_is_json_and_the_same_as_json(self, cli: Any, tmp_path: Path, command: list[str]) -> None:
        cli("simulate", "--store", tmp_path / "db.json", "--buyers", "2", "--history", tmp_path / "h.jsonl")
        args = [a.replace("{dir}", str(tmp_path)) for a in command]
        by_format, by_alias = cli(*args, "--format", "json"), cli(*args, "--json")
        assert by_format.code == by_alias.code == 0, by_format.err
        a, b = json.loads(by_format.out), json.loads(by_alias.out)
        if isinstance(a, dict):
            a.pop("elapsed_s", None), b.pop("elapsed_s", None)
            assert set(a) == set(b)
        else:
            assert a == b
        text = cli(*args, "--format", "text")
        assert text.code == 0 and not text.out.startswith(("{", "["))

    def test_unknown_and_contradicting_formats_are_refused(self, cli: Any, tmp_path: Path) -> None:
        ran = cli("strategies", "--format", "xml")
        assert ran.code == 2 and "unknown format 'xml' (choose from: text, json)" in ran.err
        ran = cli("simulate", "--store", tmp_path / "db.json", "--json", "--format", "text")
        assert ran.code == 2 and "--json and --format text" in ran.err
        assert not (tmp_path / "db.json").exists()

    def test_compare_takes_the_same_convention(self, cli: Any, tmp_path: Path) -> None:
        args = ["compare", "--stores", tmp_path / "db.json", "--strategies", "file-lock", "--buyers", "2"]
        args += ["--trials", "1", "--schedule", "free", "--tickets", "2"]
        args += ["--duration", "0.1", "--repetitions", "2", "--budget", "0"]  # no extra repetitions: not read here
        as_json = cli(*args, "--json")
        assert as_json.code == 0 and json.loads(as_json.out)["ok"] is True
        text = cli(*args, "--format", "text")
        assert text.code == 0 and "trials per cell" in text.out and not text.out.startswith("{")


class TestUrls:
    @pytest.mark.parametrize(
        ("url", "driver"),
        [
            ("postgresql://u@h/db", "postgresql+psycopg"),
            ("postgres://u@h/db", "postgresql+psycopg"),
            ("mysql://u@h/db", "mysql+pymysql"),
            ("mariadb://u@h/db", "mariadb+pymysql"),
            ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ],
    )
    def test_a_url_without_a_driver_gets_the_installed_one(self, url: str, driver: str) -> None:
        from booking.stores.connect import sql_url

        assert sql_url(url).drivername == driver

    def test_a_driver_booking_does_not_install_is_named_with_the_one_it_does(self) -> None:
        from booking.stores.connect import Database

        with pytest.raises(CannotRun) as caught:
            Database("postgresql+psycopg2://u@127.0.0.1/db")
        assert f"booking uses psycopg: pip install '{DISTRIBUTION}[postgres]'" in str(caught.value)

    @pytest.mark.parametrize("kind", ["postgresql", "mysql"])
    def test_plain_server_urls_run(self, cli: Any, store_url: Any, kind: str) -> None:
        url = store_url(kind).replace("+psycopg", "").replace("+pymysql", "")
        assert url.startswith(("postgresql://", "mysql://"))
        ran = cli("simulate", "--store", url, "--buyers", "3", "--json")
        assert ran.code == 0, ran.err
        assert ran.json()["sold"] == 1


class TestInstallHints:
    def test_the_distribution_is_ours_everywhere(self) -> None:
        """`booking` on the package index is someone else's: every hint names booking-race-lab."""
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        assert project["name"] == DISTRIBUTION
        assert all(DISTRIBUTION in dep for dep in project["optional-dependencies"]["test"] if "booking" in dep)
        for path in [ROOT / "README.md", *sorted((ROOT / "booking").rglob("*.py"))]:
            text = path.read_text()
            assert "pip install 'booking[" not in text and "pip install booking " not in text, path
        assert f"pip install '{DISTRIBUTION}[postgres]'" in (ROOT / "README.md").read_text()


class TestDowngrade:
    def test_without_a_terminal_it_needs_yes(self, cli: Any, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 't.db'}"
        booking.init_store(url, 3)
        ran = cli("db", "downgrade", "--store", url, "base")  # stdin is not a terminal under pytest
        assert ran.code == 2 and "pass --yes" in ran.err and "every ticket and sale" in ran.err
        assert booking.schema_state(url).revision is not None
        ran = cli("db", "downgrade", "--store", url, "base", "--yes")
        assert ran.code == 0 and booking.schema_state(url).revision is None


class TestReadsCreateNothing:
    @pytest.mark.parametrize(
        "command",
        [
            ["db", "current", "--store", "nofile.db"],
            ["db", "current", "--store", "sqlite:///nofile.db", "--json"],
            ["db", "downgrade", "--store", "nofile.db", "--yes"],
            ["verify", "--store", "nofile.db", "--history", "h.jsonl"],
            ["verify", "--store", "db.json", "--history", "h.jsonl"],
            ["verify", "--history", "nohistory.jsonl"],
            ["strategies", "--store", "nofile.db"],
        ],
    )
    def test_a_read_never_creates_a_file(
        self, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
    ) -> None:
        (tmp_path / "h.jsonl").write_text("")
        monkeypatch.chdir(tmp_path)
        cli(*command)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["h.jsonl"]

    def test_reading_an_existing_store_leaves_its_directory_as_it_was(self, cli: Any, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 't.db'}"
        ran = cli("simulate", "--store", url, "--history", tmp_path / "h.jsonl", "-q")
        assert ran.code == 0
        before = sorted(p.name for p in tmp_path.iterdir())
        assert cli("verify", "--store", url, "--history", tmp_path / "h.jsonl").code == 0
        assert cli("db", "current", "--store", url).code == 0
        assert sorted(p.name for p in tmp_path.iterdir()) == before
