"""Points your code did not write: booking.connect's statements (and a SQLAlchemy engine's, when asked) are
held in lockstep and in search, so a read-then-write with no point() is raced statement by statement."""

from __future__ import annotations

from typing import Any

import pytest

from booking.examples import fallback, optimistic
from booking.kit.statements import Statements
from tests.kit import unpointed


def _held(*sql: str, explicit_before: int | None = None, in_transaction: bool = False) -> list[str]:
    names: list[str] = []
    said = Statements(names.append)
    for n, text in enumerate(sql):
        if n == explicit_before:
            said.covered = True
        said.before(text, in_transaction)
    return [name.split(" ", 2)[1] for name in names]


class TestWhichStatementsAreHolds:
    def test_autocommit_statements_are_each_held(self) -> None:
        assert _held("SELECT 1", "UPDATE t SET a = 1", "INSERT INTO p VALUES (1)") == ["SELECT", "UPDATE", "INSERT"]

    def test_never_while_the_connection_holds_a_lock(self) -> None:
        """BEGIN IMMEDIATE takes SQLite's write lock: the buyer is held before it, then not until COMMIT."""
        held = _held("BEGIN IMMEDIATE", "SELECT 1", "UPDATE t SET a = 1", "COMMIT", "SELECT 2")
        assert held == ["BEGIN", "SELECT"]

    def test_a_write_or_a_locking_read_inside_a_transaction_holds_locks(self) -> None:
        assert _held("BEGIN", "SELECT 1", "UPDATE t SET a = 1", "INSERT INTO p VALUES (1)") == [
            "BEGIN",
            "SELECT",
            "UPDATE",
        ]
        assert _held("BEGIN", "SELECT 1 FOR UPDATE", "UPDATE t SET a = 1") == ["BEGIN", "SELECT"]
        assert _held("SELECT 1", "UPDATE t SET a = 1", "SELECT 2", in_transaction=True) == ["SELECT", "UPDATE"]

    def test_commit_and_rollback_are_never_held(self) -> None:
        assert _held("BEGIN", "ROLLBACK", "COMMIT") == ["BEGIN"]

    def test_explicit_points_take_precedence(self) -> None:
        assert _held("SELECT 1", "UPDATE t SET a = 1", "INSERT INTO p VALUES (1)", explicit_before=1) == [
            "SELECT",
            "INSERT",
        ]


class TestRacedWithoutAPoint:
    def test_a_read_then_write_through_booking_connect_is_unsafe(self, race: Any, race_store: Any) -> None:
        outcome = race(unpointed.dbapi_racy, buyers=4, tickets=2, store=race_store())
        assert outcome.verdict.double_sold >= 1, outcome.explain()
        told = " ".join(outcome.explain().split())
        assert "all ran SELECT id FROM tickets WHERE sold_to IS NULL" in told and "before any ran UPDATE" in told

    def test_a_sqlalchemy_engine_with_auto_points(self, race: Any, race_store: Any) -> None:
        outcome = race(unpointed.sqlalchemy_racy, buyers=4, tickets=2, store=race_store(), auto_points=True)
        assert outcome.verdict.double_sold >= 1, outcome.explain()
        assert all(a.statements for a in outcome.result.history.attempts)

    def test_its_own_update_after_an_explicit_point_is_not_held_again(self, race: Any, race_store: Any) -> None:
        outcome = race(optimistic.honest_buy, buyers=3, tickets=3, store=race_store())
        held = {name.split(" ", 2)[1] for a in outcome.result.history.attempts for _, name in a.statements}
        assert "SELECT" in held and "UPDATE" not in held

    def test_auto_points_needs_your_code(self, cli: Any, store: Any) -> None:
        ran = cli("simulate", "--store", store, "--auto-points")
        assert ran.code == 2 and "--auto-points applies only with --purchase" in ran.err


class TestAnUnguardedFallback:
    def test_the_racy_fallback_fails_every_time(self, race: Any, race_store: Any) -> None:
        for _ in range(3):
            outcome = race(fallback.racy_buy, buyers=3, tickets=2, store=race_store("sqlite"))
            assert not outcome.ok and outcome.verdict.double_sold == 1, outcome.explain()

    def test_its_guarded_twin_passes(self, race: Any, race_store: Any) -> None:
        outcome = race(fallback.fixed_buy, buyers=3, tickets=2, store=race_store("sqlite"), runs=3)
        assert outcome.ok, outcome.explain()


@pytest.mark.slow
class TestTheAcceptanceSweep:
    def test_racy_fails_twenty_tests_in_twenty_and_fixed_passes_twenty(self, race: Any, race_store: Any) -> None:
        for _ in range(20):
            assert not race(fallback.racy_buy, buyers=3, tickets=2, store=race_store("sqlite")).ok
        for _ in range(20):
            assert race(fallback.fixed_buy, buyers=3, tickets=2, store=race_store("sqlite")).ok


class TestManyStatements:
    def test_a_purchase_of_many_distinct_statements_still_reports(self, race: Any, race_store: Any) -> None:
        """Every record crosses to the parent in one atomic write: an attempt keeps its latest statements."""
        outcome = race(unpointed.many_statements, buyers=2, tickets=2, store=race_store())
        assert outcome.verdict.sold == 2 and outcome.verdict.errors == 0, outcome.explain()
        assert all(0 < len(a.statements) <= 12 for a in outcome.result.history.attempts)
