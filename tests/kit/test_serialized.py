"""Correct code that serializes its buyers is OK when the history proves it (a chain of hand-offs), and a
run whose buyers merely came one after another (a staggered start) still proves nothing."""

from __future__ import annotations

from typing import Any

import pytest

from booking.examples import django_views
from booking.history import Attempt, History, Opened, Outcome
from booking.render.stories import handed_off
from booking.verdict.overlap import serialized
from booking.verdict.verify import verify
from tests.kit import purchases

START = Opened(0.0, "start", [1, 2, 3], "all")


def _attempt(buyer: int, start: float, entered: float, left: float) -> Attempt:
    return Attempt(buyer, 0, Outcome.OK, ticket=buyer, t_start=start, t_window=entered, t_write=left, t_end=left)


class TestTheChainOfHandOffs:
    def test_entries_that_follow_exits_are_a_chain(self) -> None:
        history = History([_attempt(1, 0, 0.01, 0.31), _attempt(2, 0, 0.3104, 0.62), _attempt(3, 0, 0.6203, 0.9)])
        history.gates = [START]
        chain = serialized(history)
        assert chain is not None and (chain.buyers, chain.handoffs) == (3, 2)
        assert chain.widest_gap_s == pytest.approx(0.0004)
        assert handed_off(chain) == (
            "3 buyers contended; your code let them through one at a time: 2 hand-offs, each within 0.4 ms of "
            "the previous buyer's exit"
        )

    def test_a_staggered_start_is_no_chain(self) -> None:
        """Buyer k's first call took k x 0.5 s: each entered long after the previous one left."""
        history = History([_attempt(1, 0, 0.5, 0.501), _attempt(2, 0, 1.0, 1.001), _attempt(3, 0, 1.5, 1.501)])
        history.gates = [START]
        assert serialized(history) is None
        v = verify(3, None, history)
        assert not v.ok and v.inconclusive is not None and v.serialized is None

    def test_a_buyer_that_began_after_the_previous_left_is_no_chain(self) -> None:
        history = History([_attempt(1, 0, 0.1, 0.4), _attempt(2, 0.45, 0.45, 0.5)], gates=[START])
        assert serialized(history) is None

    def test_buyers_booking_let_go_one_at_a_time_are_no_chain(self) -> None:
        """--schedule random or exhaustive serializes them itself: that proves nothing about your code."""
        history = History([_attempt(1, 0, 0.01, 0.31), _attempt(2, 0, 0.3104, 0.62)])
        history.gates = [START, Opened(0.01, "after-read", [1], "next"), Opened(0.31, "after-read", [2], "next")]
        assert serialized(history) is None

    def test_buyers_never_released_together_are_no_chain(self) -> None:
        history = History([_attempt(1, 0, 0.01, 0.31), _attempt(2, 0, 0.3104, 0.62)])
        assert serialized(history) is None

    def test_a_tail_after_the_commit_began_is_no_overlap(self) -> None:
        """Buyer 1's COMMIT began at 0.30 and it returned at 0.32; buyer 2 got the lock and entered at 0.31:
        measured, the windows overlap by 10 ms, but buyer 2 came in only as buyer 1's locks went."""
        first = _attempt(1, 0, 0.01, 0.32)
        first.t_commit = 0.30
        history = History([first, _attempt(2, 0, 0.31, 0.6)], gates=[START])
        v = verify(2, None, history)
        assert v.overlap == 2 and v.ok and v.serialized is not None and v.serialized.handoffs == 1

    def test_windows_that_overlap_before_a_commit_are_no_chain(self) -> None:
        first = _attempt(1, 0, 0.01, 0.32)
        first.t_commit = 0.30
        history = History([first, _attempt(2, 0, 0.2, 0.6)], gates=[START])
        assert serialized(history) is None and verify(2, None, history).serialized is None

    def test_a_proved_chain_is_ok_with_its_evidence(self) -> None:
        history = History([_attempt(1, 0, 0.01, 0.31), _attempt(2, 0, 0.3104, 0.62)], gates=[START])
        v = verify(2, None, history)
        assert v.ok and v.serialized is not None and v.to_json()["serialized"]["handoffs"] == 1


class TestRealCode:
    def test_a_lock_taken_before_the_point_is_ok_serialized(self, race: Any, race_store: Any) -> None:
        """One run (each hand-off waits out the stall rule, ~0.4 s); the sweep below runs twenty."""
        outcome = race(django_views.fixed_buy, buyers=8, tickets=3, store=race_store(), start_method="fork")
        v = outcome.verdict
        assert outcome.ok and v.serialized is not None and v.serialized.buyers == 8, outcome.explain()
        assert "let them through one at a time: 7 hand-offs" in " ".join(outcome.explain().split())

    def test_a_staggered_start_is_never_ok_without_overlap(self, race: Any, race_store: Any) -> None:
        """Buyer k sleeps k x 0.5 s before its read. Free: they never overlap, and nothing is proved; lockstep:
        OK only because the window gathered them."""
        free = race(purchases.slow_fixed, buyers=3, tickets=3, store=race_store(), schedule="free", start_method="fork")
        assert not free.ok and free.verdict.inconclusive is not None and free.verdict.serialized is None
        held = race(purchases.slow_fixed, buyers=3, tickets=3, store=race_store(), start_method="fork")
        assert not held.ok or (held.verdict.overlap or 0) >= 2, held.explain()


@pytest.mark.slow
class TestTheAcceptanceSweep:
    def test_fixed_buy_is_ok_serialized_twenty_times(self, cli: Any, tmp_path: Any) -> None:
        for n in range(20):
            ran = cli("simulate", "--purchase", "booking.examples.django_views:fixed_buy", "--buyers", "8",
                      "--tickets", "3", "--store", f"sqlite:///{tmp_path}/s{n}.db", "--json")  # fmt: skip
            assert ran.code == 0 and ran.json()["serialized"]["buyers"] == 8, ran.out

    def test_a_staggered_start_is_never_ok_without_overlap_twenty_times(self, race: Any, race_store: Any) -> None:
        for _ in range(20):
            for schedule in ("free", "lockstep"):
                outcome = race(purchases.slow_fixed, buyers=3, tickets=3, store=race_store(), schedule=schedule,
                               start_method="fork")  # fmt: skip
                assert not outcome.ok or (outcome.verdict.overlap or 0) >= 2, outcome.explain()
