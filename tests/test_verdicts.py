"""Verdicts the store cannot contradict (issue 12, item 5): the ledger read on SQL stores, purchase code
that exits is no OK, conflicts with stock left are undersold, the environment's failures are exit 3."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from booking import init_store
from booking.history import Attempt, History, Outcome
from booking.render.stories import stories
from booking.stores.base import FinalState, StoreKind
from booking.verdict.verify import verify

ROOT = Path(__file__).resolve().parent.parent  # tests.kit is imported from here by the buyers


def receipt(buyer: int, ticket: int) -> Attempt:
    return Attempt(buyer, 0, Outcome.OK, ticket=ticket, read=ticket, wrote=ticket, t_read=0.1, t_write=0.2)


class TestTheLedger:
    def test_a_double_sale_in_the_ledger_is_an_anomaly_without_the_receipts(self) -> None:
        """Receipts for tickets 1 and 2, each once; the store records ticket 2 for buyers 2 and 7."""
        history = History([receipt(1, 1), receipt(2, 2)])
        final = FinalState(remaining=1, owners={1: [1], 2: [2, 7]})
        v = verify(3, final, history, StoreKind.SQLITE)
        assert not v.ok and v.double_sold == 1
        assert "the store records ticket #2 sold twice (buyers 2 and 7)" in stories(v.anomalies[0])[0]

    def test_one_owner_per_ticket_is_ok(self) -> None:
        final = FinalState(remaining=1, owners={1: [1], 2: [2]})
        assert verify(3, final, History([receipt(1, 1), receipt(2, 2)]), StoreKind.SQLITE).ok

    def test_three_invocations_never_say_ok_over_a_double_sale(self, cli: Any, tmp_path: Path) -> None:
        """The issue's repro: three `--keep --lock mp-lock` runs on one SQLite store (mp-lock protects one
        process tree). Whatever each saw, the last to finish reads the ledger after every write."""
        db = tmp_path / "t.db"
        init_store(str(db), 100)
        args = ["simulate", "--store", db, "--keep", "--lock", "mp-lock", "--buyers", "3", "--until-sold-out"]
        args += ["--schedule", "free", "--think", "2", "--json"]
        procs = [
            subprocess.Popen([sys.executable, "-m", "booking", *map(str, args)], stdout=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        results = []
        for p in procs:
            out, _ = p.communicate(timeout=120)
            results.append(json.loads(out))
        with sqlite3.connect(db) as conn:
            (doubles,) = conn.execute(
                "SELECT count(*) FROM (SELECT ticket_id FROM purchases GROUP BY ticket_id HAVING count(*) > 1)"
            ).fetchone()
        if doubles == 0:
            pytest.skip("the three runs did not overlap this time: nothing to contradict")
        # One of them said OK, exit 0, over 88 tickets sold twice. Now the ledger is read: a run after
        # them all, which itself sells nothing, sees every double sale.
        after = cli("simulate", "--store", db, "--keep", "--buyers", "1", "--json")
        assert after.code == 1 and after.json()["double_sold"] == doubles, after.out


class TestYourCodeEndingItsProcess:
    @pytest.mark.parametrize("function", ["exit_buy", "interrupt_buy"])
    def test_is_an_error_of_the_run_not_ok(self, cli: Any, tmp_path: Path, function: str) -> None:
        """sys.exit(3) was judged OK with 0 attempts; KeyboardInterrupt gave OK plus a traceback per buyer."""
        ran = cli(
            "simulate", "--store", tmp_path / "t.db", "--purchase", f"tests.kit.ending:{function}",
            "--buyers", "3", "--json",
        )  # fmt: skip
        result = ran.json()
        assert ran.code == 3 and not result["ok"] and result["unavailable"] == 3, result
        assert "Traceback" not in ran.err, ran.err
        assert ("SystemExit: 3" if function == "exit_buy" else "KeyboardInterrupt") in result["could_not_run"][0]

    def test_a_module_that_exits_at_import_is_one_line(self, cli: Any, tmp_path: Path) -> None:
        """It ended the command silently with exit 0."""
        ran = cli("simulate", "--store", tmp_path / "t.db", "--purchase", "tests.kit.exits_at_import:buy")
        assert ran.code == 2 and len(ran.err.splitlines()) == 1 and "SystemExit" in ran.err, ran.err
        assert ran.out == ""


def test_conflicts_until_the_deadline_with_stock_left_are_no_ok(cli: Any, tmp_path: Path) -> None:
    """A trigger that ignores every UPDATE: atomic loses every race until the deadline. It was OK, exit 0.
    Giving up because the deadline passed is the run not carried out (exit 3); giving up after the retry
    limit is a decline, issue 11's availability cost."""
    db = tmp_path / "t.db"
    init_store(str(db), 3)
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TRIGGER ignore_updates BEFORE UPDATE ON tickets BEGIN SELECT RAISE(IGNORE); END")
    ran = cli("simulate", "--store", db, "--keep", "--lock", "atomic", "--buyers", "2", "--deadline", "1", "--json")
    result = ran.json()
    assert ran.code == 3 and result["sold"] == 0 and result["unavailable"] == 2 and not result["ok"], result
    assert "the deadline passed after" in result["could_not_run"][0] and result["conflicts"] > 2


def test_the_environment_failing_is_could_not_run_not_an_anomaly(cli: Any, tmp_path: Path) -> None:
    """`--deadline 0.1 --buyers 50`: 50 BarrierTimeout "errors" made it an ANOMALY (exit 1)."""
    ran = cli("simulate", "--store", tmp_path / "db.json", "--buyers", "50", "--deadline", "0.1", "--json")
    result = ran.json()
    assert ran.code == 3 and not result["ok"] and result["errors"] == 0, result
    assert {a["kind"] for a in result["anomalies"]} <= {"stuck"}
    assert result["unavailable"] + result["stuck"] >= 1
