"""Search fast enough to use: a search's buyers are started once and kept warm between its schedules,
each schedule from a freshly reset store, and the search says how many schedules it ran per second."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from booking import CannotRun, RunConfig, Schedule, simulate_runs
from booking.examples import orm
from booking.options.choices import StartMethod
from tests.kit import purchases

LYING = "booking.examples.optimistic:lying_buy"


class TestWarmSearch:
    def test_exhaustive_finds_lying_buy_and_says_its_rate(self, cli: Any, tmp_path: Path) -> None:
        """The issue's command: 4 buyers, 4 tickets. The figure is asserted to exist, never to be fast."""
        ran = cli("simulate", "--purchase", LYING, "--buyers", "4", "--tickets", "4", "--schedule", "exhaustive",
                  "--store", tmp_path / "shop.db", "--json")  # fmt: skip
        out = ran.json()
        assert ran.code == 1 and out["first_failure"]["anomalies"], out
        assert out["warm_buyers"] is True and out["schedules_per_s"] > 0

    def test_the_text_says_schedules_per_second(self, cli: Any, tmp_path: Path) -> None:
        ran = cli("simulate", "--store", tmp_path / "db.json", "--buyers", "2", "--schedule", "random", "--runs", "3")
        assert ran.code == 0 and "3 schedules in" in ran.flat and "schedules per second" in ran.flat

    def test_every_schedule_starts_from_the_same_stock_with_the_same_buyers(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each of 5 schedules sells tickets #1 and #2 (a store left as the last schedule left it would be
        sold out), and only 2 processes ever bought: the buyers were started once."""
        pids = tmp_path / "pids"
        monkeypatch.setenv("BOOKING_TEST_PIDS", str(pids))
        config = RunConfig(store=str(tmp_path / "shop.db"), purchase=purchases.pid_buy, buyers=2, tickets=2,
                           schedule=Schedule.EXHAUSTIVE, runs=5)  # fmt: skip
        runs = simulate_runs(config)
        assert len(runs) == 5 and runs.warm and runs.exit_code == 0
        for run in runs:
            assert sorted(a.ticket for a in run.history.attempts) == [1, 2], run.history.attempts
        buyers = {int(pid) for pid in pids.read_text().split()}
        assert len(pids.read_text().split()) == 10 and len(buyers) == 2
        for pid in buyers:  # the search is over: its warm buyers were ended, and reaped
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)

    def test_each_schedule_has_a_deadline_of_its_own(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Five schedules of two buyers, each taking 0.5 s one after the other: the search lasts longer than
        --deadline, each schedule well within it, and no buyer is stuck at the first schedule's deadline."""
        monkeypatch.setenv("BOOKING_TEST_PIDS", str(tmp_path / "pids"))
        monkeypatch.setenv("BOOKING_TEST_SLEEP_S", "0.5")
        config = RunConfig(store=str(tmp_path / "shop.db"), purchase=purchases.pid_buy, buyers=2, tickets=2,
                           schedule=Schedule.RANDOM, runs=5, deadline_s=4.0)  # fmt: skip
        runs = simulate_runs(config)
        assert runs.warm and runs.elapsed_s > config.deadline_s  # what the test needs: not a speed figure
        assert [r.verdict.stuck for r in runs] == [0] * 5 and runs.exit_code == 0


class TestYourTablesInASearch:
    """--setup and --stock are called apart, in one child kept for the whole search (kit/apart.py)."""

    def test_setup_is_called_every_schedule_in_one_kept_child(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        log = tmp_path / "setup-pids"
        monkeypatch.setenv("BOOKING_TEST_SETUP_PIDS", str(log))
        config = RunConfig(store=f"sqlite:///{tmp_path / 'shop.db'}", purchase=orm.fixed_buy,
                           setup=purchases.logged_setup, stock=orm.stock, buyers=2, tickets=2,
                           schedule=Schedule.EXHAUSTIVE, runs=4, start_method=StartMethod.FORK)  # fmt: skip
        runs = simulate_runs(config)
        assert len(runs) == 4 and [r.verdict.sold for r in runs] == [2] * 4, [r.verdict for r in runs]
        pids = log.read_text().split()
        assert len(pids) == 4 and len(set(pids)) == 1 and int(pids[0]) != os.getpid()
        with pytest.raises(ProcessLookupError):  # ended with the search
            os.kill(int(pids[0]), 0)

    def test_a_kept_child_that_does_not_answer_is_ended_at_the_deadline(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        log = tmp_path / "stock-pids"
        monkeypatch.setenv("BOOKING_TEST_SETUP_PIDS", str(log))
        config = RunConfig(store=f"sqlite:///{tmp_path / 'shop.db'}", purchase=orm.fixed_buy, setup=orm.setup,
                           stock=purchases.stuck_stock, buyers=2, tickets=2, schedule=Schedule.EXHAUSTIVE, runs=4,
                           deadline_s=2.0, start_method=StartMethod.FORK)  # fmt: skip
        with pytest.raises(CannotRun, match=r"--stock .*stuck_stock: no answer within 2 s \(the deadline\)"):
            simulate_runs(config)
        (pid,) = log.read_text().split()
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
