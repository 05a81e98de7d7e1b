"""Lanes and lines for people: never a lost digit, never wider than the width they are drawn at."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from booking import RunConfig, simulate
from booking.history import Attempt, History, Outcome
from booking.render.run import Printer, explain, render_run
from booking.render.steps import steps
from booking.render.text import wrap, wrap_parts
from booking.render.timeline import lanes, story
from booking.run.result import RunResult
from booking.stores.base import StoreKind
from booking.verdict.verify import verify


@pytest.fixture(scope="module")
def two_digit_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The issue's run: 3 unprotected buyers sell 12 tickets, so lanes carry two-digit tickets."""
    store = tmp_path_factory.mktemp("two-digit") / "db.json"
    config = RunConfig(store=str(store), strategy="none", buyers=3, tickets=12, until_sold_out=True)
    return simulate(config)


@pytest.fixture(scope="module")
def eight_buyers(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    store = tmp_path_factory.mktemp("eight") / "db.json"
    return simulate(RunConfig(store=str(store), strategy="none", buyers=8, tickets=1))


class TestWrap:
    def test_wrapping_only_moves_spaces(self) -> None:
        """Over random texts and widths: every line fits, and the words come back whole, in order."""
        rng = random.Random(14)
        for _ in range(300):
            words = ["".join(rng.choices("ab#12", k=rng.randint(1, 30))) for _ in range(rng.randint(1, 30))]
            text = "".join(w + " " * rng.randint(1, 3) for w in words).rstrip()
            width, indent = rng.randint(20, 100), rng.choice([0, 2, 4, 26])
            lines = wrap(text, width, indent)
            assert all(len(line) <= width for line in lines), (text, width)
            assert "".join("".join(lines).split()) == "".join(text.split())

    def test_styles_survive_wrapping(self) -> None:
        rows = wrap_parts([("verdict: UNSAFE", "bold red"), "  " + "word " * 30], 40, indent=4)
        assert rows[0][0] == ("verdict:", "bold red") and ("UNSAFE", "bold red") in rows[0]
        assert all(isinstance(p, str) for row in rows[1:] for p in row)

    def test_a_word_longer_than_a_line_is_split_not_cut(self) -> None:
        url = "postgresql://user:" + "x" * 120 + "@host/db"
        lines = wrap(f"store {url}", 50, indent=4)
        assert max(map(len, lines)) <= 50 and "".join(line.strip() for line in lines) == f"store{url}"


def oversold_by_the_last_buyers() -> RunResult:
    """Receipts alone (an endpoint's answers, no tickets named): buyers 1-6 found none, 7 and 8 bought the one
    ticket. Only `oversold` is found, and it names no witnesses."""
    none_left = [
        Attempt(b, 0, Outcome.SOLD_OUT, read=0, t_start=0.01 * b, t_read=0.02 + 0.01 * b, t_end=0.05 + 0.01 * b)
        for b in range(1, 7)
    ]
    bought = [
        Attempt(
            b, 0, Outcome.OK, ticket=b, read=1, wrote=0, t_start=0.01, t_read=0.1 + 0.01 * b, t_write=0.2 + 0.01 * b
        )
        for b in (7, 8)
    ]
    history = History(none_left + bought)
    verdict = verify(1, None, history)
    assert [a.kind for a in verdict.anomalies] == ["oversold"]
    return RunResult(RunConfig(buyers=8), "db.json", StoreKind.COUNTER, "none", 1, None, history, verdict, 0.5)


class TestLanes:
    def test_an_oversell_alone_shows_the_buyers_who_bought(self) -> None:
        """Not the first six buyers, all sold out, with the two whose purchases oversold left out."""
        diagram = lanes(oversold_by_the_last_buyers(), width=80)
        assert diagram.splitlines()[0].split() == ["time", "buyer", "7", "buyer", "8"], diagram
        assert "not shown" not in diagram and "sold out" not in diagram and diagram.count("* write 0, ticket #") == 2

    def test_two_digit_tickets_keep_every_digit(self, two_digit_run: RunResult) -> None:
        """Every step of every lane is in the diagram whole: `write 11, ticket #12`, never `ticket #1`."""
        diagram = lanes(two_digit_run, width=80)
        shown = [s.short for a in two_digit_run.history.attempts for s in steps(a, True) if s.short]
        assert "write 11, ticket #12" in shown
        cells = re.findall(r"\* ([^|]+?)(?:  |$)", diagram, flags=re.M)
        assert sorted(cells) == sorted(shown)

    @pytest.mark.parametrize("width", [80, 100, 132])
    def test_the_diagram_fits_the_width(self, eight_buyers: RunResult, width: int) -> None:
        diagram = lanes(eight_buyers, width=width)
        assert max(len(line) for line in diagram.splitlines()) <= width
        for buyer in range(1, 7):  # six lanes drawn, in as many blocks as the width needs
            assert f"buyer {buyer}" in diagram
        assert "buyers 7 and 8 not shown" in diagram

    def test_fewer_lanes_per_block_on_a_narrow_terminal(self, eight_buyers: RunResult) -> None:
        assert lanes(eight_buyers, width=80).count("time  buyer") == 2  # 3 lanes a block
        assert lanes(eight_buyers, width=160).count("time  buyer") == 1  # all 6 side by side

    def test_a_story_for_a_report_fits_80_columns(self, two_digit_run: RunResult) -> None:
        """What compare's HTML report and JSON carry (render.timeline.story) is drawn at 80 columns."""
        text = story(two_digit_run)
        assert max(len(line) for line in text.splitlines()) <= 80
        assert "write 11, ticket #12" in text and "double_sold: buyers 1, 2 and 3" in text

    def test_a_failure_message_fits_its_width(self, two_digit_run: RunResult) -> None:
        text = explain(two_digit_run, width=72)
        assert max(len(line) for line in text.splitlines()) <= 72
        assert "write 11, ticket #12" in text and "verdict: UNSAFE" in text


class TestRunLines:
    def test_every_line_of_a_run_fits_80_columns(self, two_digit_run: RunResult, tmp_path: Path) -> None:
        out = tmp_path / "out.txt"
        with out.open("w") as stream:
            render_run(two_digit_run, Printer(stream, width=80))
        lines = out.read_text().splitlines()
        assert max(len(line) for line in lines) <= 80
        flat = " ".join(out.read_text().split())
        assert "writes count=11: bought ticket #12" in flat
        assert "safety: oversold 24 double_sold 12 lost_updates 24" in flat
