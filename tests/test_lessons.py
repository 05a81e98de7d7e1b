"""`booking lesson N`: each of the notes' lessons is told and shown by one run that shows its point."""

from __future__ import annotations

from typing import Any

import pytest

from booking.cli import lesson as cli_lesson
from booking.cli.lessons import LESSONS, Lesson
from tests.helpers import Ran

# What lessons 3 and 5 show besides their verdict, checked on the same run (one run per lesson).
SHOWN = {
    3: lambda ran: (
        "all 10 buyers have looked; the barrier opens: they all go for the lock at once" in ran.flat
        and ran.out.count("found no tickets left") == 9
        and ran.out.count("bought ticket #1") == 1
    ),
    5: lambda ran: (
        "3 sellers have read; the sellers' barrier opens: now they write" in ran.flat
        and "ticket #1 sold 3 times" in ran.flat
        and "time  seller 1" in ran.out
    ),
}


class TestLessons:
    def test_without_a_number_they_are_listed(self, cli: Any) -> None:
        ran = cli("lesson")
        assert ran.code == 0
        for known in LESSONS:
            assert f"{known.number}  {known.title}: " in ran.out and known.command in ran.flat

    @pytest.mark.parametrize("number", [lesson.number for lesson in LESSONS])
    def test_each_lesson_shows_its_point(self, cli: Any, number: int) -> None:
        """The run's exit code is the one the lesson expects (the lesson exits 0 only then)."""
        known = LESSONS[number - 1]
        ran: Ran = cli("lesson", str(number))
        assert ran.code == 0, ran.out
        assert ran.out.startswith(f"Lesson {number}: {known.title}") and f"$ {known.command}" in ran.out
        assert "Expected: " in ran.out and "\nWhy: " in ran.out
        if not known.args:  # the notes' own code, run by the lesson: no verdict
            return
        word = {0: "verdict: OK", 1: "verdict: UNSAFE", 3: "verdict: STUCK"}[known.expect]
        assert word in ran.out
        assert SHOWN.get(number, lambda ran: True)(ran), ran.out

    def test_daemon_buyers_end_with_their_parent(self, cli: Any) -> None:
        """Lesson 2 shows what daemon=True does (the parent ends, its daemon buyers with it) and what it does not
        promise; no run of booking is stuck for it."""
        ran = cli("lesson", "2")
        assert ran.code == 0, ran.out + ran.err
        assert "STUCK" not in ran.out and "stuck" not in ran.out and ran.err == ""
        assert "3 of 3 daemon buyers ended with it; 0 finished its sleep" in ran.out
        assert "p.daemon = True" in ran.out and "does not promise" in ran.flat

    def test_in_chinese(self, cli: Any) -> None:
        ran = cli("--lang", "zh", "lesson", "3")
        assert ran.code == 0
        assert ran.out.startswith("第 3 课：互斥锁（模拟抢票）") and "结论：OK（正确）" in ran.out
        assert ran.out.count("没有足够的票！") == 9
        listed = cli("--lang", "zh", "lesson")
        assert "守护进程（daemon）" in listed.out and "JoinableQueue（生产者与消费者）" in listed.out

    def test_an_unknown_lesson_is_refused(self, cli: Any) -> None:
        ran = cli("lesson", "9")
        assert ran.code == 2 and "lesson 9: there are lessons 1 to 5" in ran.err

    def test_a_run_that_misses_the_point_fails(self, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        """The check can fail: a lesson expecting OK from a run without a lock says it missed, exit 1."""
        wrong = Lesson(9, "wrong", "nowhere", "nothing", ("--buyers", "3", "--no-lock"), 0, "nothing")
        monkeypatch.setattr(cli_lesson, "lesson", lambda number: wrong)
        ran = cli("lesson", "1")
        assert ran.code == 1 and "did not show the lesson's point: exit 1, not 0" in ran.out
