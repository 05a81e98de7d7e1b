"""Figures that repeat: every run starts from the same store, a cost figure is the mean of independent
repetitions with an interval from them, and a report never fails against a repeat of itself."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from booking.compare.baseline import against
from booking.compare.fresh import FreshStores
from booking.options.store_url import StoreURL
from booking.stats import outliers, repeated
from booking.stores import open_store

# One cell, three repetitions: a 1-buyer mp-lock crowd that sleeps 2 ms in its race window, so what it
# measures is mostly that sleep, the same from one run to the next.
ONE_CELL = ["--strategies", "mp-lock", "--buyers", "1", "--schedule", "free", "--duration", "0.15", "--think", "2"]


def _cost_cells(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in report["cells"] if c["question"] == "cost"]


class TestRepeated:
    def test_interval_never_below_zero(self) -> None:
        mean, ci, span = repeated([1.0, 100.0, 2.0])
        assert ci is not None and ci[0] == 0.0 and ci[1] > mean
        assert span == (1.0, 100.0)

    def test_one_repetition_has_no_interval(self) -> None:
        assert repeated([5.0]) == (5.0, None, (5.0, 5.0))

    def test_outliers_by_modified_z_score(self) -> None:
        assert outliers([100, 101, 99, 100, 180]) == [4]
        assert outliers([100, 101, 99]) == []  # three say too little to call one far
        assert outliers([5, 5, 5, 5]) == []


class TestFreshStores:
    def test_a_new_file_per_run_and_the_named_one_untouched(self, tmp_path: Path) -> None:
        named = tmp_path / "t.db"
        named.write_bytes(b"not touched")
        seen = []
        with FreshStores() as fresh:
            for _ in range(2):
                with fresh.run(StoreURL.parse(f"sqlite:///{named}?timeout=3")) as url:
                    assert url.path is not None and url.path.parent.parent.parent == tmp_path
                    assert url.address.endswith("?timeout=3")
                    store = open_store(url)
                    try:
                        assert store.prepare(50) == 50  # a copy of an empty store at this booking's schema
                        seen.append(store.footprint()["bytes"])
                    finally:
                        store.close()
                assert not url.path.exists()  # removed once the run is done
        assert named.read_bytes() == b"not touched"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["t.db"]  # nothing left beside it
        assert seen[0] == seen[1] > 0

    def test_a_server_is_its_own_store(self) -> None:
        url = StoreURL.parse("postgresql+psycopg://u@127.0.0.1/db")
        with FreshStores() as fresh, fresh.run(url) as used:
            assert used is url


class TestServerReset:
    def test_reset_starts_every_run_from_the_same_store(self, postgresql_url: str) -> None:
        """TRUNCATE and VACUUM: after a run that bought, the next reset is the size of the first, no dead rows."""
        from booking import simulate
        from booking.options.config import RunConfig

        sizes = []
        for _ in range(2):
            result = simulate(
                RunConfig(store=postgresql_url, strategy="atomic", buyers=2, tickets=3000, duration_s=0.2)
            )
            assert result.verdict.ok and result.verdict.sold > 0
            sizes.append(result.store_before)
        assert sizes[0] == sizes[1] and sizes[0]["dead_rows"] == 0, sizes

    def test_mariadb_reset(self, mysql_url: str) -> None:
        store = open_store(mysql_url)
        try:
            assert store.prepare(100) == 100
            first = store.footprint()
            assert store.prepare(100) == 100
            assert store.footprint() == first
        finally:
            store.close()


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """One cell run twice, the second against the first as its baseline."""
    from booking.cli import main

    where = tmp_path_factory.mktemp("twice")
    first, second = where / "first.json", where / "second.json"
    common = ["compare", "--stores", str(where / "db.json"), *ONE_CELL, "--format", "json"]
    assert main([*common, "--out", str(first)]) == 0
    assert main([*common, "--baseline", str(first), "--out", str(second)]) == 0  # never a regression of itself
    return json.loads(first.read_text()), json.loads(second.read_text())


class TestTwice:
    def test_each_figure_is_the_mean_of_its_repetitions(self, twice: tuple[dict[str, Any], ...]) -> None:
        for report in twice:
            (cell,) = _cost_cells(report)
            reps = cell["repetitions"]
            assert len(reps) == cell["trials"] >= 3 and cell["crowd"] == "fresh"
            assert cell["throughput_mean"] == pytest.approx(sum(reps) / len(reps))
            low, high = cell["throughput_ci95"]
            assert 0 <= low <= cell["throughput_mean"] <= high
            assert cell["throughput_range"] == [min(reps), max(reps)]
            assert cell["extra_repetitions"] == len(reps) - 3

    def test_the_same_cell_twice_overlaps_from_the_same_store(self, twice: tuple[dict[str, Any], ...]) -> None:
        (a,), (b,) = (_cost_cells(r) for r in twice)
        assert a["store_before"] == b["store_before"] and a["store_before"]["bytes"] > 0
        assert a["throughput_ci95"][0] <= b["throughput_ci95"][1] and b["throughput_ci95"][0] <= a["throughput_ci95"][1]

    def test_the_repeat_against_the_first_is_no_regression(self, twice: tuple[dict[str, Any], ...]) -> None:
        assert twice[1]["regressions"] == [] and twice[1]["ok"] is True
        (cell,) = _cost_cells(twice[1])
        assert cell["baseline"].startswith("no change beyond the intervals"), cell["baseline"]


def test_a_report_is_never_a_regression_of_itself(tmp_path: Path) -> None:
    """Every cell of a report compared with its own saved JSON: nothing moved, nothing fails."""
    from booking.compare.matrix import compare_strategies
    from booking.render.report import render

    result = compare_strategies(
        stores=[str(tmp_path / "db.json")], strategies=["none", "mp-lock"], buyers=[1, 2], trials=2, tickets=4,
        duration_s=0.1,
    )  # fmt: skip
    saved = json.loads(render(result, "json"))
    against(result, saved)
    assert result.regressions == [] and all(c.baseline for c in result.cells)


class TestWarmBuyers:
    def test_sqlite_warm_starts_the_wal_so_no_first_commit_pays_for_it(self, tmp_path: Path) -> None:
        path = tmp_path / "t.db"
        made = open_store(str(path))
        made.prepare(10)
        made.close()
        wal = tmp_path / "t.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0  # the last connection closed: no WAL yet
        store = open_store(str(path))
        try:
            store.warm()
            written = wal.stat().st_size
            assert written > 0
            store.warm()  # the second buyer finds it written: no second write
            assert wal.stat().st_size == written
            assert store.remaining() == 10  # and nothing was sold or recorded
        finally:
            store.close()

    def test_every_buyer_is_warm_before_the_barrier(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each buyer warms its store at start-up (behind the start barrier), before its first attempt."""
        from booking import simulate
        from booking.options.config import RunConfig
        from booking.stores.sql import SqlStore

        marks = tmp_path / "marks"
        marks.mkdir()
        warm = SqlStore.warm

        def marked(self: SqlStore) -> None:
            warm(self)
            (marks / str(os.getpid())).write_text("warm")

        monkeypatch.setattr(SqlStore, "warm", marked)  # the buyers fork from this process: they run it too
        result = simulate(
            RunConfig(store=str(tmp_path / "t.db"), strategy="atomic", buyers=3, tickets=500, duration_s=0.1)
        )
        assert result.verdict.ok and len(list(marks.iterdir())) == 3  # each buyer, in its own process
        started = result.history.started
        assert started is not None and all(a.t_start >= started for a in result.history.attempts)
