"""The pytest user's kit: a failing race says its story once, within 80 columns, ending with the seed and
the race(...) call that gives it again; outcome.runs iterates; buyers fork where it is safe and the session
says why when they cannot; a race marker and --race-runs / --race-seed set race(...)'s defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from booking.examples import counter
from booking.kit.forking import shared_connections
from tests.kit import connected_at_import

pytest_plugins = ["pytester"]

README_EXAMPLE = """
from booking.examples import orm

def test_the_shop_never_oversells(race, race_store):
    outcome = race(orm.racy_buy, setup=orm.setup, stock=orm.stock, buyers=8, tickets=3,
                   store=race_store("sqlite"), runs=20)
    assert outcome.ok, outcome.explain()
"""


def _failure_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if line.startswith("E ")]


class TestAFailingRaceInPytest:
    def test_the_readme_example_failing_says_its_story_once_within_80_columns(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("COLUMNS", "80")
        pytester.makepyfile(README_EXAMPLE)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(failed=1)
        told = _failure_lines(result)
        assert sum("verdict: UNSAFE" in line for line in told) == 1
        assert all(len(line) <= 80 for line in told), [line for line in told if len(line) > 80]
        text = " ".join(" ".join(line[1:].split()) for line in told)
        assert "seed " in text and "again: race(orm.racy_buy, setup=orm.setup, stock=orm.stock, buyers=8," in text
        assert 'store=race_store("sqlite"), seed=' in text
        assert "--history" not in text and "outcome.result.history keeps every attempt" in text

    def test_a_bare_assert_still_gets_the_story(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            """
            from booking.examples.counter import racy_buy

            def test_bare(race):
                assert race(racy_buy, buyers=3, tickets=1).ok
            """
        )
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(failed=1)
        assert sum("verdict: UNSAFE" in line for line in _failure_lines(result)) == 1

    def test_the_seed_replays_through_the_call_it_prints(self, race: Any) -> None:
        outcome = race(counter.racy_buy, buyers=3, tickets=1, schedule="random", seed=41)
        assert not outcome.ok
        flat = " ".join(outcome.explain().split())
        assert flat.endswith("seed 41; again: race(counter.racy_buy, buyers=3, tickets=1, schedule='random', seed=41)")


class TestRuns:
    def test_runs_iterate_in_order(self, race: Any) -> None:
        outcome = race(counter.fixed_buy, buyers=3, tickets=1, runs=3)
        assert len(outcome.runs) == 3
        assert [run.seed for run in outcome.runs] == [r.seed for r in outcome.runs.results]


class TestStartMethod:
    def test_code_without_a_connection_made_at_import_forks(self, race: Any) -> None:
        outcome = race(counter.fixed_buy, buyers=3, tickets=1)
        assert outcome.result.config.processes == "fork" and outcome.spawned_because is None

    def test_a_connection_made_at_import_is_found(self) -> None:
        assert shared_connections([connected_at_import.buy]) == ["tests.kit.connected_at_import.DB"]
        assert shared_connections([counter.fixed_buy]) == []

    def test_then_buyers_spawn_and_the_session_says_why(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            shop=Path(connected_at_import.__file__).read_text(),
            test_shop="""
            import shop

            def test_shared(race):
                outcome = race(shop.buy, buyers=2, tickets=2)
                assert outcome.result.config.processes == "spawn"
            """,
        )
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*booking: buyers started with spawn*", "*shop.DB holds a database connection*"])

    def test_an_explicit_start_method_is_kept(self, race: Any) -> None:
        outcome = race(connected_at_import.buy, buyers=2, tickets=2, start_method="fork")
        assert outcome.result.config.processes == "fork" and outcome.spawned_because is None


class TestMarkerAndOptions:
    def test_the_marker_sets_defaults_and_the_call_wins(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            """
            import pytest
            from booking.examples.counter import fixed_buy

            @pytest.mark.race(runs=3, schedule="random")
            def test_marked(race):
                outcome = race(fixed_buy, buyers=2, tickets=1)
                assert len(outcome.runs) == 3 and outcome.result.config.schedule.value == "random"
                assert len(race(fixed_buy, buyers=2, tickets=1, runs=1).runs) == 1
            """
        )
        pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)

    def test_race_runs_and_race_seed_apply_to_every_call(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            """
            from booking.examples.counter import fixed_buy

            def test_options(race):
                outcome = race(fixed_buy, buyers=2, tickets=1)
                assert len(outcome.runs) == 2 and outcome.runs.results[0].seed == 1234
            """
        )
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--race-runs", "2", "--race-seed", "1234")
        result.assert_outcomes(passed=1)
