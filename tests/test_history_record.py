"""A history's first line records the store, the starting stock and the run's settings, so `booking verify`
needs only the history and the store, and refuses a --tickets or a --store that contradicts it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def _run(cli: Any, tmp_path: Path, *args: str | Path) -> Path:
    history = tmp_path / "run.jsonl"
    ran = cli("simulate", "--store", tmp_path / "db.json", "--history", history, "--json", *args)
    # The free schedule promises no overlap: on a loaded machine its buyers may go one at a time, and the
    # verdict says so (INCONCLUSIVE, exit 4). The run still ran and kept its history, which is what is read.
    inconclusive = ran.code == 4 and "never overlapped" in (ran.json()["inconclusive"] or "")
    assert ran.code in (0, 1) or inconclusive, ran.err or ran.out
    return history


def test_the_first_line_says_what_the_run_was(cli: Any, tmp_path: Path) -> None:
    history = _run(cli, tmp_path, "--no-lock", "--buyers", "3", "--tickets", "4", "--schedule", "free")
    first = json.loads(history.read_text().splitlines()[0])
    assert first["kind"] == "run" and first["store"] == str(tmp_path / "db.json") and first["tickets"] == 4
    assert first["strategy"] == "none" and first["booking"]
    settings = first["settings"]
    assert (settings["buyers"], settings["schedule"], settings["keep"]) == (3, "free", False)
    assert isinstance(settings["seed"], int)  # the seed used, even when none was given
    assert "store" not in settings and "history" not in settings


def test_verify_needs_only_the_history_and_the_store(cli: Any, tmp_path: Path) -> None:
    run = cli("simulate", "--store", tmp_path / "db.json", "--no-lock", "--buyers", "4", "--tickets", "3",
              "--history", tmp_path / "run.jsonl", "--json")  # fmt: skip
    past = cli("verify", "--store", tmp_path / "db.json", "--history", tmp_path / "run.jsonl", "--json")
    assert past.code == run.code == 1
    assert past.json()["tickets"] == 3
    for field in ("sold", "remaining", "oversold", "double_sold", "lost_updates"):
        assert past.json()[field] == run.json()[field], field
    text = cli("verify", "--store", tmp_path / "db.json", "--history", tmp_path / "run.jsonl")
    assert "3 tickets at the start of the run" in text.flat


def test_a_contradicting_tickets_is_refused(cli: Any, tmp_path: Path) -> None:
    history = _run(cli, tmp_path, "--tickets", "3")
    assert cli("verify", "--store", tmp_path / "db.json", "--history", history, "--tickets", "3").code == 0
    ran = cli("verify", "--store", tmp_path / "db.json", "--history", history, "--tickets", "1")
    assert ran.code == 2 and "--tickets 1 contradicts history" in ran.err and "started with 3" in ran.err


def test_a_store_of_another_kind_is_refused(cli: Any, tmp_path: Path) -> None:
    history = _run(cli, tmp_path)
    cli("init", "--store", tmp_path / "t.db")
    ran = cli("verify", "--store", tmp_path / "t.db", "--history", history)
    assert ran.code == 2 and "is not the kind of store the run used" in ran.err


def test_an_old_history_needs_tickets(cli: Any, tmp_path: Path) -> None:
    history = _run(cli, tmp_path)
    old = tmp_path / "old.jsonl"
    old.write_text("".join(line + "\n" for line in history.read_text().splitlines()[1:]))  # no first line
    ran = cli("verify", "--store", tmp_path / "db.json", "--history", old)
    assert ran.code == 2 and "does not record the starting stock" in ran.err and "give --tickets" in ran.err
    assert cli("verify", "--store", tmp_path / "db.json", "--history", old, "--tickets", "1").code == 0


def test_joined_histories_that_disagree_need_tickets(cli: Any, tmp_path: Path) -> None:
    first = _run(cli, tmp_path, "--tickets", "2").read_text()
    second = _run(cli, tmp_path, "--keep").read_text()  # --keep: starts from what is left (0)
    both = tmp_path / "both.jsonl"
    both.write_text(first + second)
    ran = cli("verify", "--store", tmp_path / "db.json", "--history", both)
    assert ran.code == 2 and "joins runs that started with different stock (0, 2)" in ran.err
    assert cli("verify", "--store", tmp_path / "db.json", "--history", both, "--tickets", "2").code == 0


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"store": "db.json"}, "missing field 'tickets'"),
        ({"store": "db.json", "tickets": -1}, "tickets must not be negative"),
        ({"store": "db.json", "tickets": 1, "settings": {"a": {"b": 1}}}, "plain values"),
        ({"store": "db.json", "tickets": 1, "settings": [1]}, "settings must be an object"),
        ({"store": 5, "tickets": 1}, "must be strings"),
        ({"store": "db.json", "tickets": 1, "evil": 1}, "unknown field 'evil'"),
    ],
)
def test_a_hostile_first_line_is_refused(cli: Any, tmp_path: Path, record: dict[str, Any], words: str) -> None:
    (tmp_path / "db.json").write_text('{"count": 1}')
    history = tmp_path / "bad.jsonl"
    history.write_text(json.dumps({"kind": "run", **record}) + "\n")
    ran = cli("verify", "--store", tmp_path / "db.json", "--history", history)
    assert ran.code == 2 and "line 1" in ran.err and words in ran.err, ran.err
