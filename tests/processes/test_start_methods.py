"""Every start method shows the race and its fix; $BOOKING_START_METHOD is the default when none is asked for."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from booking import BadInput, RunConfig, simulate
from booking.options.choices import START_METHOD_ENV

METHODS = [m for m in ("fork", "forkserver", "spawn") if m in multiprocessing.get_all_start_methods()]


class TestEveryStartMethod:
    @pytest.mark.parametrize("method", METHODS)
    def test_the_race_and_the_lock(self, tmp_path: Path, method: str) -> None:
        """No lock: every buyer buys ticket #1. The notes' mutex: one sale, whatever started the buyers."""
        store = str(tmp_path / "db.json")
        racy = simulate(RunConfig(store=store, strategy="none", buyers=4, start_method=method))
        assert (racy.verdict.sold, racy.verdict.double_sold, racy.exit_code) == (4, 1, 1)
        locked = simulate(RunConfig(store=store, strategy="mp-lock", buyers=4, start_method=method))
        assert (locked.verdict.sold, locked.exit_code) == (1, 0)

    @pytest.mark.slow
    def test_the_cli_under_spawn_shows_the_race(self, cli: Any, store: Path) -> None:
        """The issue's acceptance command (spawn's race and lock run by default above)."""
        ran = cli("simulate", "--start-method", "spawn", "--buyers", "10", "--no-lock", "--store", store)
        assert ran.code == 1, ran.out
        assert ran.out.count("reads count=1") == 10 and "verdict: UNSAFE" in ran.out


class TestTheEnvironmentsDefault:
    def test_unset_means_fork_for_strategies_and_spawn_for_your_code(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(START_METHOD_ENV, raising=False)
        assert RunConfig().processes == ("fork" if "fork" in METHODS else "spawn")
        assert RunConfig(purchase="tests.kit.purchases:slow_racy").processes == "spawn"

    def test_the_variable_is_the_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(START_METHOD_ENV, "spawn")
        assert RunConfig().processes == "spawn"
        assert RunConfig(start_method="fork").processes == "fork"  # --start-method wins

    def test_an_unknown_method_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(START_METHOD_ENV, "thread")
        with pytest.raises(BadInput, match=r"BOOKING_START_METHOD: unknown value 'thread'"):
            _ = RunConfig().processes
