"""`booking compare` as a report: the table on 80 columns, partial reports, the baseline, your own functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import booking.compare.matrix as matrix
from booking.compare.matrix import compare_strategies

TINY = ["--buyers", "2", "--trials", "1", "--tickets", "4", "--duration", "0.1", "--repetitions", "2", "--budget", "0"]


class TestTable:
    def test_the_terminal_table_fits_80_columns_and_names_every_strategy(self, cli: Any, tmp_path: Path) -> None:
        """--format table --out writes the table itself (plain text, 80 columns), not Markdown."""
        out = tmp_path / "r.txt"
        ran = cli("compare", "--stores", tmp_path / "t.db", *TINY, "--format", "table", "--out", out)
        assert ran.code == 0, ran.err
        text = out.read_text()
        assert "| --- |" not in text and "sqlite t.db: cost (reference file-lock)" in text
        assert max(len(line) for line in text.splitlines()) <= 80
        assert "…" not in text.split("strategies:")[0]  # no figure cut short to fit
        rows = [line.split()[0] for line in text.splitlines() if line.startswith(" ") and line.split()]
        for name in ("none", "mp-lock", "file-lock", "queue", "atomic", "db-lock", "optimistic", "serializable"):
            assert name in rows, name


class TestPartial:
    def test_an_interrupted_comparison_keeps_its_finished_runs(self, tmp_path: Path) -> None:
        """Ctrl-C after three runs: three runs' cells are summarised, and the comparison says it is partial."""

        def interrupt(done: int, planned: int) -> None:
            if done == 3:
                raise KeyboardInterrupt

        result = compare_strategies(
            stores=[str(tmp_path / "db.json")], buyers=[2], trials=2, tickets=4, duration_s=0.1, progress=interrupt
        )
        assert result.partial.startswith("interrupted by SIGINT after 3 of ") and result.runs[0] == 3
        assert 1 <= len(result.cells) <= 3 and sum(c.trials for c in result.cells) == 3
        assert result.to_json()["partial"] == result.partial

    def test_the_cli_writes_the_partial_report_and_exits_130(
        self, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real = matrix.simulate
        calls = []

        def simulate(config: Any) -> Any:
            calls.append(config)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return real(config)

        monkeypatch.setattr(matrix, "simulate", simulate)
        out = tmp_path / "r.json"
        ran = cli("compare", "--stores", tmp_path / "db.json", *TINY, "--format", "json", "--out", out)
        assert ran.code == 130 and "partial" in ran.err
        data = json.loads(out.read_text())
        assert data["partial"].startswith("interrupted by SIGINT after 2 of") and data["runs"]["done"] == 2
        assert len(data["cells"]) >= 1

    def test_a_report_that_cannot_start_leaves_no_empty_file(self, cli: Any, tmp_path: Path) -> None:
        out = tmp_path / "r.json"
        ran = cli("compare", "--stores", tmp_path / "db.json", "--trials", "0", "--out", out)
        assert ran.code == 2 and not out.exists()


class TestBaseline:
    @pytest.fixture
    def saved(self, cli: Any, tmp_path: Path) -> Path:
        out = tmp_path / "old.json"
        args = ["--strategies", "mp-lock", "--schedule", "free", "--buyers", "2", "--duration", "0.1"]
        assert cli("compare", "--stores", tmp_path / "db.json", *args, "--format", "json", "--out", out).code == 0
        return out

    def _run(self, cli: Any, tmp_path: Path, baseline: Path) -> Any:
        # Six repetitions: on a loaded machine three can spread so wide that the interval reaches 0, and
        # then nothing is beyond it, however far the saved figure is (what the verdicts below need).
        args = ["--strategies", "mp-lock", "--schedule", "free", "--buyers", "2", "--duration", "0.1"]
        args += ["--repetitions", "6"]
        return cli("compare", "--stores", tmp_path / "db.json", *args, "--baseline", baseline, "--format", "json")

    def test_a_cost_far_below_the_saved_interval_is_a_regression(self, cli: Any, tmp_path: Path, saved: Path) -> None:
        data = json.loads(saved.read_text())
        for cell in data["cells"]:  # the saved run was, say, a million times faster, with a narrow interval
            # (not the saved one scaled: on a loaded machine its lower bound can be 0, and 0 scales to 0)
            cell["throughput_mean"] *= 1e6
            cell["throughput_ci95"] = [cell["throughput_mean"] * 0.9, cell["throughput_mean"] * 1.1]
        saved.write_text(json.dumps(data))
        ran = self._run(cli, tmp_path, saved)
        assert ran.code == 1
        report = ran.json()
        assert report["regressions"] and "slower beyond the intervals" in report["regressions"][0]
        assert report["cells"][0]["baseline"].startswith("slower beyond the intervals")
        assert report["machine"]["baseline_machine"]["cores"] == data["machine"]["cores"]

    def test_faster_is_no_regression(self, cli: Any, tmp_path: Path, saved: Path) -> None:
        """The saved run, a million times slower: the new one is faster beyond the intervals, and exits 0."""
        data = json.loads(saved.read_text())
        for cell in data["cells"]:
            cell["throughput_mean"] /= 1e6
            cell["throughput_ci95"] = [cell["throughput_mean"] * 0.9, cell["throughput_mean"] * 1.1]
        saved.write_text(json.dumps(data))
        ran = self._run(cli, tmp_path, saved)
        assert ran.code == 0, ran.json()["regressions"]  # faster is not a regression
        assert ran.json()["cells"][0]["baseline"].startswith("faster beyond the intervals")

    def test_not_a_report_is_bad_input(self, cli: Any, tmp_path: Path) -> None:
        bad = tmp_path / "old.json"
        bad.write_text('{"hello": 1}')
        ran = cli("compare", "--stores", tmp_path / "db.json", "--baseline", bad)
        assert ran.code == 2 and "not a booking compare report" in ran.err


def test_your_racy_and_fixed_functions_side_by_side(cli: Any, tmp_path: Path) -> None:
    """--purchase a,b: your functions are rows; the racy one races in lockstep, the fixed one never."""
    funcs = "booking.examples.counter:racy_buy,booking.examples.counter:fixed_buy"
    args = ["--buyers", "3", "--trials", "1", "--tickets", "2", "--schedule", "lockstep", "--think", "1"]
    ran = cli("compare", "--stores", tmp_path / "db.json", "--purchase", funcs, *args, "--format", "json")
    assert ran.code == 0, ran.err
    runs = {c["strategy"]: c["anomaly_runs"] for c in ran.json()["cells"]}
    assert runs == {"purchase booking.examples.counter:racy_buy": 1, "purchase booking.examples.counter:fixed_buy": 0}
    assert ran.json()["config"]["think_ms"] == 1


def test_isolation_reaches_the_runs_and_is_checked_first(cli: Any, tmp_path: Path) -> None:
    ran = cli("compare", "--stores", tmp_path / "t.db", "--isolation", "read-committed")
    assert ran.code == 2 and "does not apply to a sqlite store" in ran.err
    args = ["--strategies", "atomic", "--isolation", "serializable", *TINY, "--format", "json"]
    ran = cli("compare", "--stores", tmp_path / "t.db", *args)
    assert ran.code == 0 and ran.json()["config"]["isolation"] == "serializable"
