"""The race-regression kit: your purchase function under the harness, and the pytest fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from booking import RunConfig, simulate

pytest_plugins = ["pytester"]


class TestPurchaseOption:
    def test_the_racy_example_oversells_in_lockstep(self, cli: Any, tmp_path: Path) -> None:
        """Under the default start method for your code (spawn): each buyer imports it afresh."""
        racy_example_oversells(cli, tmp_path)

    @pytest.mark.slow
    def test_the_racy_example_oversells_every_time_in_lockstep(self, cli: Any, tmp_path: Path) -> None:
        for _ in range(5):
            racy_example_oversells(cli, tmp_path)

    def test_the_fixed_twin_passes(self, cli: Any, tmp_path: Path) -> None:
        ran = cli(
            "simulate",
            "--purchase",
            "booking.examples.counter:fixed_buy",
            "--store",
            tmp_path / "db.json",
            "--buyers",
            "6",
            "--tickets",
            "3",
            "--start-method",
            "fork",
            "--json",
        )
        data = ran.json()
        assert ran.code == 0 and data["sold"] == 3 and data["remaining"] == 0

    def test_receipts_only_judges_what_the_function_returned(self, tmp_path: Path) -> None:
        """Tables booking cannot read: oversold and double sales still show, from the receipts."""
        own = tmp_path / "own.json"
        own.write_text('{"count": 1}')
        result = simulate(
            RunConfig(
                store=str(own),
                buyers=4,
                tickets=1,
                purchase="booking.examples.counter:racy_buy",
                receipts_only=True,
                start_method="fork",
            )
        )
        v = result.verdict
        assert (v.sold, v.oversold, v.double_sold) == (4, 3, 1)
        # booking cannot read your tables: what needs them is not measured, never guessed
        assert (v.remaining, v.lost_updates, v.unreceipted, v.undersold) == (None, None, None, None)

    @pytest.mark.parametrize(
        ("spec", "words"),
        [
            ("nocolon", "expected module:function"),
            ("no_such_module_xyz:buy", "cannot import no_such_module_xyz"),
            ("booking.examples.counter:nothing", "has no nothing"),
            ("booking.examples.counter:json", "is not callable"),
        ],
    )
    def test_bad_purchase_specs(self, cli: Any, tmp_path: Path, spec: str, words: str) -> None:
        ran = cli("simulate", "--purchase", spec, "--store", tmp_path / "db.json")
        assert ran.code == 2 and words in ran.err and len(ran.err.splitlines()) == 1


def test_the_race_fixture_fails_the_racy_function_with_its_timeline(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # what a pipe gets: the width is not this terminal's
    pytester.makepyfile(
        """
        from booking.examples.counter import fixed_buy, racy_buy

        def test_racy(race):
            assert race(racy_buy, buyers=4, tickets=1).ok

        def test_fixed(race):
            assert race(fixed_buy, buyers=4, tickets=1).ok
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_racy*",
            "E       verdict: UNSAFE  an invariant is broken: *",
            "*double_sold: buyers 1, 2, 3 and 4 all passed after-read before any",
            "*returned: ticket #1 sold 4 times",
            "*time  buyer 1*buyer 2",  # 80 columns hold three lanes: four go in two blocks of two
            "*-> ticket #1*",
            "*time  buyer 3*buyer 4",
        ]
    )
    # booking's message fits pytest's 80 columns, its "E       " prefix included (pytest's own lines may not).
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "AssertionError: purchase" in line)
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("E       assert "))
    assert end - start > 10 and max(len(line) for line in lines[start:end]) <= 80
    assert "test_fixed FAILED" not in result.stdout.str()


class TestExamples:
    def test_sqlite_racy_is_flagged_and_its_twin_passes(self, cli: Any, sqlite_url: str) -> None:
        sqlite_racy_is_flagged(cli, sqlite_url)
        ran = cli(
            "simulate",
            "--purchase",
            "booking.examples.sqlite:fixed_buy",
            "--store",
            sqlite_url,
            "--buyers",
            "8",
            "--tickets",
            "5",
            "--start-method",
            "fork",
            "--json",
        )
        assert ran.code == 0 and ran.json()["sold"] == 5 and ran.json()["remaining"] == 0

    @pytest.mark.slow
    def test_sqlite_racy_is_flagged_every_time(self, cli: Any, sqlite_url: str) -> None:
        for _ in range(5):
            sqlite_racy_is_flagged(cli, sqlite_url)

    def test_postgres_racy_is_flagged_and_its_twin_passes(self, cli: Any, postgresql_url: str) -> None:
        ran = cli(
            "simulate",
            "--purchase",
            "booking.examples.postgres:racy_buy",
            "--store",
            postgresql_url,
            "--buyers",
            "6",
            "--start-method",
            "fork",
            "--json",
        )
        assert ran.code == 1 and ran.json()["double_sold"] == 1
        ran = cli(
            "simulate",
            "--purchase",
            "booking.examples.postgres:fixed_buy",
            "--store",
            postgresql_url,
            "--buyers",
            "6",
            "--tickets",
            "3",
            "--start-method",
            "fork",
            "--json",
        )
        assert ran.code == 0 and ran.json()["sold"] == 3


# Your code's buyers start by spawn unless told: 28 fresh interpreters here. The race fixture under spawn
# is proved by the timeline test above; by default this one starts its buyers by fork.
@pytest.mark.parametrize("start_method", ["fork", pytest.param("spawn", marks=pytest.mark.slow)])
def test_the_fixture_on_sqlite_as_the_readme_shows(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, start_method: str
) -> None:
    monkeypatch.setenv("BOOKING_START_METHOD", start_method)
    pytester.makepyfile(
        """
        from booking.examples.sqlite import fixed_buy, racy_buy

        def test_racy(race, tmp_path):
            assert race(racy_buy, buyers=10, tickets=1, store=f"sqlite:///{tmp_path}/t.db").ok

        def test_fixed(race, tmp_path):
            assert race(fixed_buy, buyers=10, tickets=1, store=f"sqlite:///{tmp_path}/t.db").ok

        def test_random_schedule_is_reproducible(race, tmp_path):
            runs = [race(racy_buy, buyers=4, tickets=2, store=f"sqlite:///{tmp_path}/t{i}.db",
                         schedule="random", seed=3) for i in range(2)]
            assert runs[0].result.order == runs[1].result.order
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_racy*", "*ticket #1 sold 10 times*", "*time  buyer 1*"])


def racy_example_oversells(cli: Any, tmp_path: Path) -> None:
    ran = cli(
        "simulate",
        "--purchase",
        "booking.examples.counter:racy_buy",
        "--store",
        tmp_path / "db.json",
        "--buyers",
        "6",
        "--json",
    )
    data = ran.json()
    assert ran.code == 1 and data["sold"] == 6 and data["double_sold"] == 1
    assert data["strategy"] == "purchase booking.examples.counter:racy_buy"


def sqlite_racy_is_flagged(cli: Any, sqlite_url: str) -> None:
    ran = cli(
        "simulate",
        "--purchase",
        "booking.examples.sqlite:racy_buy",
        "--store",
        sqlite_url,
        "--buyers",
        "8",
        "--start-method",
        "fork",
        "--json",
    )
    assert ran.code == 1 and ran.json()["double_sold"] == 1 and ran.json()["sold"] == 8


def test_your_own_code_is_not_narrated_in_the_notes_words(cli: Any, tmp_path: Path) -> None:
    """The notes' search() and get() are booking's own purchase: a run of your function does not say them."""
    store = f"sqlite:///{tmp_path}/t.db"
    ran = cli("simulate", "--purchase", "booking.examples.sqlite:fixed_buy", "--buyers", "3", "--store", store)
    assert ran.code in (0, 4), ran.err
    assert "search()" not in ran.out and "buyers are started and ready" in ran.out, ran.out
    notes = cli("simulate", "--store", tmp_path / "db.json", "--buyers", "3")
    assert "search() sees (outside the lock)" in notes.out  # booking's own purchase still says them
