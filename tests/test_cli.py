"""The command line: bad input gets one line and exit 2 and leaves the store alone; output contracts."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import digest, run_command, short_grace

GOOD = '{"count": 1}'

BAD_INPUT = [
    # (id, store contents or None for no file, extra args, words the error must contain)
    ("buyers-zero", GOOD, ["--buyers", "0"], "--buyers must be at least 1"),
    ("buyers-negative", GOOD, ["--buyers", "-3"], "--buyers must be at least 1"),
    ("buyers-not-a-number", GOOD, ["--buyers", "abc"], "'--buyers'"),
    ("buyers-absurd", GOOD, ["--buyers", "1000000"], "--buyers must be at most 2,000"),
    ("tickets-negative", GOOD, ["--tickets", "-1"], "--tickets must be at least 0"),
    ("attempts-zero", GOOD, ["--attempts", "0"], "--attempts must be at least 1"),
    ("think-negative", GOOD, ["--think", "-5"], "--think must be at least 0"),
    ("think-nan", GOOD, ["--think", "nan"], "--think must be a number"),
    ("deadline-zero", GOOD, ["--deadline", "0"], "--deadline must be at least 0.1"),
    ("unknown-lock", GOOD, ["--lock", "bogus"], "unknown strategy 'bogus' (choose from: none, mp-lock, file-lock"),
    ("unknown-schedule", GOOD, ["--schedule", "chaos"], "'--schedule'"),
    ("unknown-option", GOOD, ["--frobnicate"], "--frobnicate"),
    ("missing-with-keep", None, ["--keep"], "no such file"),
    ("empty", "", [], "empty file"),
    ("not-json", "{count: 1", [], "not JSON"),
    ("truncated", '{"count": ', [], "not JSON"),
    ("binary", "\x00\xff\xfe", [], "not JSON"),
    ("wrong-shape-list", "[1]", [], "wrong shape"),
    ("wrong-shape-key", '{"tickets": 1}', [], "wrong shape"),
    ("negative-count", '{"count": -2}', [], "count must not be negative"),
    ("float-count", '{"count": 1.5}', [], "count must be a whole number"),
    ("string-count", '{"count": "1"}', [], "count must be a whole number"),
    ("bool-count", '{"count": true}', [], "count must be a whole number"),
    ("deeply-nested", "[" * 4000, [], "not JSON"),
    ("huge", '{"count": 1, "pad": "' + "x" * 10_000 + '"}', [], "larger than 4096 bytes"),
    ("negative-count-keep", '{"count": -2}', ["--keep"], "count must not be negative"),
    ("step-and-step-ms", GOOD, ["--step", "--step-ms", "5"], "--step and --step-ms: choose one"),
    ("step-quiet", GOOD, ["--step-ms", "5", "-q"], "--step-ms shows one run as it happens: not with -q"),
    ("step-json", GOOD, ["--step", "--json"], "--step shows one run as it happens: not with --json"),
    ("step-runs", GOOD, ["--step", "--runs", "3"], "--step shows one run as it happens: not with --runs 3"),
    ("step-ms-negative", GOOD, ["--step-ms", "-1"], "--step-ms must be at least 0"),
]


@pytest.mark.parametrize(("contents", "args", "words"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_one_line_exit_2_and_the_store_is_untouched(
    cli: Any, tmp_path: Path, contents: str | None, args: list[str], words: str
) -> None:
    store = tmp_path / "db.json"
    if contents is not None:
        store.write_bytes(contents.encode("utf-8", "surrogateescape"))
    before = digest(store)
    ran = cli("simulate", "--store", store, *args)
    assert ran.code == 2
    assert ran.out == ""
    assert len(ran.err.splitlines()) == 1, ran.err
    assert ran.err.startswith("booking: error: ") and words in ran.err
    assert "Traceback" not in ran.err
    assert digest(store) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == (["db.json"] if contents is not None else [])


def test_a_store_in_an_unwritable_directory(cli: Any, unwritable_dir: Path) -> None:
    store = unwritable_dir / "db.json"
    before = digest(store)
    ran = cli("simulate", "--store", store)
    assert ran.code == 2 and len(ran.err.splitlines()) == 1
    assert f"directory {unwritable_dir} cannot be written" in ran.err
    assert digest(store) == before


def test_a_history_that_cannot_be_written_fails_before_the_run(cli: Any, store: Path, tmp_path: Path) -> None:
    before = digest(store)
    ran = cli("simulate", "--store", store, "--history", tmp_path / "no" / "such" / "dir.jsonl")
    assert ran.code == 2 and "cannot be written" in ran.err
    assert digest(store) == before


class TestOutput:
    def test_json_has_the_design_fields(self, cli: Any, store: Path) -> None:
        """--json prints one object with at least the fields of DESIGN.md §7, and nothing else."""
        ran = cli("simulate", "--store", store, "--buyers", "3", "--tickets", "2", "--json")
        data = ran.json()
        for field in (
            "store",
            "strategy",
            "buyers",
            "tickets",
            "sold",
            "remaining",
            "oversold",
            "double_sold",
            "lost_updates",
            "undersold",
            "errors",
            "stuck",
            "ok",
            "anomalies",
            "elapsed_s",
        ):
            assert field in data, field
        assert (data["strategy"], data["buyers"], data["tickets"], data["sold"], data["ok"]) == (
            "mp-lock",
            3,
            2,
            2,
            True,
        )
        assert ran.code == 0

    def test_json_anomalies_carry_witnesses(self, cli: Any, store: Path) -> None:
        data = cli("simulate", "--store", store, "--buyers", "3", "--no-lock", "--json").json()
        double = next(a for a in data["anomalies"] if a["kind"] == "double_sold")
        assert double["tickets"] == [1] and double["buyers"] == [1, 2, 3] and double["count"] == 1
        assert data["ok"] is False

    def test_quiet_keeps_just_the_verdict(self, cli: Any, store: Path) -> None:
        ran = cli("simulate", "--store", store, "--buyers", "4", "--quiet")
        assert ran.code == 0
        assert "buyer 1" not in ran.out and "verdict: OK" in ran.out

    def test_quiet_is_the_verdict_line_and_the_counts(self, cli: Any, store: Path) -> None:
        """-q on an anomaly: no header, no figures, stories or lanes; the verdict (wrapped) and sold/remaining."""
        ran = cli("simulate", "--store", store, "--buyers", "10", "--no-lock", "-q")
        assert ran.code == 1
        assert ran.out.startswith("verdict: UNSAFE  an invariant is broken")
        assert ran.out.splitlines()[-1] == "  sold 10  remaining 0", ran.out
        assert len(ran.out.splitlines()) <= 3  # the verdict's line may wrap once at 80 columns
        assert "strategy none" not in ran.out and "safety:" not in ran.out and "timeline" not in ran.out

    def test_events_read_like_the_notes(self, cli: Any, store: Path) -> None:
        """Who saw how many, who bought, who found none."""
        ran = cli("simulate", "--store", store, "--buyers", "3", "--lock", "file-lock")
        assert ran.out.count("sees 1 ticket left") + ran.out.count("sees 0 tickets left") == 3
        assert ran.out.count("bought ticket #1") == 1
        assert ran.out.count("found no tickets left") == 2
        assert "waited" in ran.out

    def test_history_file_and_verify_agree_with_the_run(self, cli: Any, store: Path, tmp_path: Path) -> None:
        history = tmp_path / "run.jsonl"
        run = cli("simulate", "--store", store, "--buyers", "5", "--no-lock", "--history", history, "--json")
        past = cli("verify", "--store", store, "--history", history, "--tickets", "1", "--json")
        assert run.code == past.code == 1
        for field in ("sold", "remaining", "oversold", "double_sold", "lost_updates", "undersold", "errors"):
            assert run.json()[field] == past.json()[field], field

    def test_verify_refuses_a_hostile_history(self, cli: Any, store: Path, tmp_path: Path) -> None:
        for text, words in [
            ("not json\n", "line 1: not JSON"),
            ('{"kind": "attempt", "buyer": "1", "attempt": 0, "outcome": "ok"}\n', "buyer must be an integer"),
            ('{"kind": "attempt", "buyer": 1, "attempt": 0, "outcome": "stolen"}\n', "line 1"),
            ('{"kind": "pickle", "data": "gASV"}\n', "unknown kind"),
            ('{"kind": "attempt", "buyer": 1, "attempt": 0, "outcome": "ok", "evil": 1}\n', "unknown field"),
            ("[" * 50_000 + "\n", "not JSON"),
        ]:
            history = tmp_path / "bad.jsonl"
            history.write_text(text)
            ran = cli("verify", "--store", store, "--history", history)
            assert ran.code == 2 and words in ran.err and len(ran.err.splitlines()) == 1, (text[:40], ran.err)

    def test_init_resets_and_refuses_to_clobber_a_foreign_file(self, cli: Any, tmp_path: Path) -> None:
        store = tmp_path / "db.json"
        assert cli("init", "--store", store, "--tickets", "7").code == 0
        assert json.loads(store.read_text()) == {"count": 7}
        store.write_text("my notes, not a store")
        ran = cli("init", "--store", store, "--tickets", "1")
        assert ran.code == 2 and "not JSON" in ran.err and store.read_text() == "my notes, not a store"
        assert cli("init", "--store", store, "--tickets", "1", "--force").code == 0
        assert json.loads(store.read_text()) == {"count": 1}

    def test_keep_continues_from_the_stock(self, cli: Any, store: Path) -> None:
        cli("init", "--store", store, "--tickets", "5")
        assert cli("simulate", "--store", store, "--buyers", "2", "--keep", "--json").json()["remaining"] == 3
        assert cli("simulate", "--store", store, "--buyers", "2", "--keep", "--json").json()["remaining"] == 1


class TestStep:
    """--step-ms paces the run by itself; --step needs a terminal (tests/test_terminal.py types on one)."""

    def test_each_barrier_is_said_before_it_opens(self, cli: Any, store: Path) -> None:
        ran = cli("simulate", "--store", store, "--buyers", "3", "--no-lock", "--step-ms", "1")
        assert ran.code == 1, ran.err
        flat = ran.flat
        order = [
            flat.index("next: all 3 buyers are started and ready; the start barrier opens"),
            flat.index("-- all 3 buyers are started and ready; the start barrier opens"),
            flat.rindex("reads count=1"),
            flat.index("next: all 3 buyers have read; the barrier opens: now they write"),
            flat.index("-- all 3 buyers have read; the barrier opens: now they write"),
            flat.index("writes count=0"),
        ]
        assert order == sorted(order), flat
        assert flat.count("next: ") == 2 and "Enter to go on" not in flat  # paced: no keyboard asked for

    def test_step_needs_a_terminal(self, cli: Any, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        ran = cli("simulate", "--store", store, "--step")
        assert (
            ran.code == 2
            and ran.out == ""
            and ran.err
            == (
                "booking: error: --step waits for Enter on a terminal, and there is none: "
                "--step-ms N paces the run by itself\n"
            )
        )

    def test_a_person_at_each_step_has_an_hour(self, cli: Any, store: Path, tmp_path: Path) -> None:
        """Held at each barrier, buyers wait for the person: the default deadline is an hour; --deadline still rules."""
        for given, deadline in (([], 3600.0), (["--deadline", "30"], 30.0)):
            history = tmp_path / "run.jsonl"
            ran = cli("simulate", "--store", store, "--step-ms", "0", "--history", history, *given)
            assert ran.code == 0, ran.err
            assert json.loads(history.read_text().splitlines()[0])["settings"]["deadline_s"] == deadline


class TestDeadline:
    def test_a_hung_buyer_is_stuck_exit_3_and_no_child_survives(
        self, cli: Any, store: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Buyers sleeping far past the deadline are stopped and reported stuck; the command still ends."""
        short_grace(monkeypatch)
        ran = cli(
            "simulate",
            "--store",
            store,
            "--buyers",
            "3",
            "--think",
            "60000",
            "--deadline",
            "0.5",
            "--no-lock",
            "--json",
        )
        data = ran.json()
        assert ran.code == 3 and data["stuck"] == 3
        assert "still running at the deadline" in json.dumps(data["anomalies"])
        assert __import__("multiprocessing").active_children() == []


class TestCommands:
    @pytest.mark.parametrize("command", ["simulate", "verify", "init"])
    def test_every_command_has_help_with_an_example(self, cli: Any, command: str) -> None:
        ran = cli(command, "--help")
        assert ran.code == 0 and "Example: booking " + command in ran.out

    def test_python_m_booking_runs_the_quick_start(self, tmp_path: Path) -> None:
        """The real command, started as a user starts it: the package's __main__ and its start-up."""
        store = tmp_path / "db.json"
        ran = run_command("simulate", "--buyers", "10", "--no-lock", "--store", store)
        assert ran.code == 1 and "oversold 9" in ran.out and ran.err == ""
