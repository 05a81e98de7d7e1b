"""Lockstep holds every visit of your code's window, not only the first: a retry is raced as hard as a first
try, so a function that answers success after its last lost compare-and-swap is caught in one run."""

from __future__ import annotations

from typing import Any

import pytest

from booking.examples import optimistic
from booking.history import Attempt, History, Outcome
from booking.render.stories import double_sale


def _lying(race: Any, race_store: Any) -> Any:
    return race(optimistic.lying_buy, buyers=8, tickets=3, store=race_store("sqlite"), start_method="fork")


class TestEveryVisitIsARound:
    def test_a_function_that_lies_after_its_last_lost_try_is_unsafe(self, race: Any, race_store: Any) -> None:
        for _ in range(3):
            outcome = _lying(race, race_store)
            v = outcome.verdict
            assert v.double_sold == 1 and v.oversold == 5, outcome.explain()
            liars = [a for a in outcome.result.history.receipts if a.ticket == 3]
            assert len(liars) == 6 and {a.tries for a in liars} == {3} and len({a.round for a in liars}) == 1

    def test_its_honest_twin_declines_and_is_ok(self, race: Any, race_store: Any) -> None:
        outcome = race(optimistic.honest_buy, buyers=8, tickets=3, store=race_store(), start_method="fork", runs=3)
        assert outcome.ok, outcome.explain()
        assert outcome.verdict.declined == 5

    def test_the_story_says_the_try_and_the_round(self) -> None:
        def receipt(buyer: int) -> Attempt:
            return Attempt(buyer, 0, Outcome.OK, ticket=3, t_read=1.0, t_write=2.0, tries=3, round=3)

        told = double_sale(3, [receipt(3), receipt(9)], counter=False)
        assert told == (
            "buyers 3 and 9 both passed after-read on try 3, in round 3, and both answered success: "
            "ticket #3 sold twice"
        )

    def test_booking_strategies_keep_one_hold_per_attempt(self, race: Any) -> None:
        """The built-in strategies' figures stay comparable: their attempts record no round."""
        outcome = race(None, strategy="none", buyers=4, tickets=1)
        assert all(a.round is None for a in outcome.result.history.attempts)
        assert "round" not in outcome.result.history.attempts[0].to_json()

    def test_rounds_survive_a_history_file(self) -> None:
        import io

        from booking.history.file import parse

        out = io.StringIO()
        History(attempts=[Attempt(1, 0, Outcome.OK, ticket=1, t_window=0.1, tries=2, round=2)]).write(out)
        back = parse(out.getvalue().splitlines()).attempts[0]
        assert (back.tries, back.round) == (2, 2)


@pytest.mark.slow
class TestTheAcceptanceSweep:
    def test_lying_buy_is_unsafe_twenty_times_in_twenty_honest_buy_ok(self, cli: Any, tmp_path: Any) -> None:
        for n in range(20):
            store = f"sqlite:///{tmp_path}/lie{n}.db"
            ran = cli("simulate", "--purchase", "booking.examples.optimistic:lying_buy", "--buyers", "8",
                      "--tickets", "3", "--store", store)  # fmt: skip
            assert ran.code == 1 and "UNSAFE" in ran.out
        for n in range(20):
            store = f"sqlite:///{tmp_path}/honest{n}.db"
            ran = cli("simulate", "--purchase", "booking.examples.optimistic:honest_buy", "--buyers", "8",
                      "--tickets", "3", "--store", store)  # fmt: skip
            assert ran.code == 0, ran.out


def test_a_buyer_imports_the_facade_before_the_start_barrier() -> None:
    """A function that says booking.connect imports booking's public API at its first call: a spawned buyer
    does it in its set-up, so a loaded host's slow first call is not taken for a buyer blocked inside."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from booking.strategies.custom import _warm_facade\n"
        "from booking.examples import optimistic, counter\n"
        "assert 'booking.api' not in sys.modules\n"
        "_warm_facade(counter.racy_buy)\n"
        "assert 'booking.api' not in sys.modules\n"
        "_warm_facade(optimistic.lying_buy)\n"
        "assert 'booking.api' in sys.modules\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
