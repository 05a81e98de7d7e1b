"""The live output: a line per event as it happens, the barriers said, killed and stuck buyers and the
sellers in their own lines; none of it in --json or -q."""

from __future__ import annotations

import io
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from booking import RunConfig, simulate
from booking.history import Attempt, BuyerEnd, Opened
from booking.history.watch import Began
from booking.render.live import EventLines, gate_words
from booking.render.run import Printer, render_run
from tests.helpers import Ran
from tests.kit import purchases


def lines_of(ran: Ran) -> list[str]:
    """stdout's lines with their continuation lines joined (lines are wrapped at 80 columns)."""
    out: list[str] = []
    for line in ran.out.splitlines():
        if line.startswith("    ") and out and not line.lstrip()[:1].isdigit():
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return out


def first(lines: list[str], words: str) -> int:
    return next(i for i, line in enumerate(lines) if words in line)


def where(lines: list[str], words: str) -> list[int]:
    return [i for i, line in enumerate(lines) if words in line]


class TestOnAPipe:
    def test_every_event_in_order_with_the_barrier_between_reads_and_writes(self, cli: Any, tmp_path: Path) -> None:
        """No lock, lockstep: everyone looks and reads, the barrier opens, then everyone writes."""
        ran = cli("simulate", "--buyers", 4, "--no-lock", "--store", tmp_path / "db.json")
        assert ran.code == 1, ran.err
        lines = lines_of(ran)
        assert lines[0].startswith("4 buyers, 1 ticket, strategy none, lockstep schedule")
        assert "search() sees" in lines[1] and "get() reads and writes" in lines[1]
        start = first(lines, "all 4 buyers are started and ready; the start barrier opens")
        barrier = first(lines, "-- all 4 buyers have read; the barrier opens: now they write")
        for buyer in range(1, 5):
            me = f"buyer {buyer:<4} "
            sees, reads = first(lines, me + "sees 1 ticket left"), first(lines, me + "reads count=1")
            writes = first(lines, me + "writes count=0: bought ticket #1")
            assert start < sees < reads < barrier < writes < first(lines, "verdict: UNSAFE")
        assert len(where(lines, "sees 1 ticket left")) == 4  # each said once, not again with its record

    def test_a_lock_shows_the_buyers_contending_after_the_barrier(self, cli: Any, tmp_path: Path) -> None:
        ran = cli("simulate", "--buyers", 3, "--lock", "mp-lock", "--store", tmp_path / "db.json")
        lines = lines_of(ran)
        barrier = first(lines, "-- all 3 buyers have looked; the barrier opens: they all go for the lock at once")
        assert max(where(lines, "sees 1 ticket left")) < barrier < min(where(lines, "reads count="))
        assert len(where(lines, "for the lock)")) == 3 and ran.code == 0

    def test_json_and_quiet_have_no_live_lines(self, cli: Any, tmp_path: Path) -> None:
        store = tmp_path / "db.json"
        as_json = cli("simulate", "--buyers", 3, "--no-lock", "--json", "--store", store)
        assert as_json.json()["sold"] == 3  # stdout is one JSON object and nothing else
        quiet = cli("simulate", "--buyers", 3, "--no-lock", "-q", "--store", store)
        assert "sees" not in quiet.out and "barrier" not in quiet.out and "verdict: UNSAFE" in quiet.out

    def test_a_killed_buyer_says_how_far_it_got(self, cli: Any, tmp_path: Path) -> None:
        ran = cli(
            "simulate", "--buyers", 3, "--lock", "file-lock", "--kill-buyer", 2, "--kill-at", "after-read",
            "--store", tmp_path / "db.json",
        )  # fmt: skip
        lines = lines_of(ran)
        assert first(lines, "buyer 2    reads count=") < first(lines, "buyer 2    killed at after-read (injected)")

    def test_a_stuck_buyer_is_said_in_its_line(self, cli: Any, tmp_path: Path) -> None:
        """Buyers still thinking at the deadline are stopped, each said stuck. (The grace after the deadline
        is kept: under spawn on a loaded machine the buyers may still be starting at the deadline.)"""
        ran = cli(
            "simulate", "--buyers", 2, "--no-lock", "--think", 5000, "--deadline", 0.5, "--store", tmp_path / "db.json"
        )
        assert ran.code == 3
        lines = lines_of(ran)
        for buyer in (1, 2):
            assert first(lines, f"buyer {buyer}    reads count=1") < first(lines, f"buyer {buyer}    stuck: ")
        assert "time  buyer 1  buyer 2" in ran.out and ran.out.count("* stuck") == 2  # and in their lanes

    def test_sellers_read_and_write_in_their_own_lines(self, cli: Any, tmp_path: Path) -> None:
        """The queue with 3 sellers: the race is between sellers, and the lines and lanes say so."""
        ran = cli("simulate", "--buyers", 3, "--lock", "queue", "--sellers", 3, "--store", tmp_path / "db.json")
        assert ran.code == 1
        lines = lines_of(ran)
        reads = where(lines, "reads count=1 for buyer")
        barrier = first(lines, "-- 3 sellers have read; the sellers' barrier opens: now they write")
        writes = where(lines, "bought ticket #1")
        assert len(reads) == 3 and len(writes) == 3 and max(reads) < barrier < min(writes)
        assert all(lines[i][13:].lstrip().startswith("seller ") for i in reads + writes)
        assert "sellers 1, 2 and 3 (for buyers 1, 2 and 3) all read count=1" in ran.flat
        assert "time  seller 1" in ran.out


class Heard:
    """A Watcher that keeps what it is told, and lets the purchase go on once it hears the read."""

    def __init__(self, seen: Any) -> None:
        self.seen = seen
        self.told: list[str] = []

    def began(self, run: Began) -> None:
        self.told.append("began")

    def step(self, attempt: Attempt, done: bool, t: float | None = None) -> None:
        self.told.append("record" if done else "so far")
        if not done and attempt.t_read is not None:
            self.seen.set()  # the buyer, still running, waits for this

    def opened(self, gate: Opened, who: str = "buyer", together: int | None = None) -> None:
        self.told.append(f"opened {gate.point}")

    def ended(self, end: BuyerEnd, t: float) -> None:
        self.told.append(f"ended {end.status}")


class TestAsItHappens:
    def test_the_parent_hears_a_read_while_the_buyer_still_runs(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The buyer cannot buy until the watcher has heard its read: told only at the end, it would fail."""
        seen = multiprocessing.get_context("fork").Event()
        monkeypatch.setattr(purchases, "SEEN", seen)  # inherited by the forked buyer
        config = RunConfig(
            store=f"sqlite:///{tmp_path / 't.db'}",
            purchase="tests.kit.purchases:waits_to_be_seen",
            receipts_only=True,
            buyers=1,
            start_method="fork",
            deadline_s=60,
        )
        heard = Heard(seen)
        result = simulate(config, watch=heard)
        assert (result.verdict.sold, result.verdict.errors, result.verdict.stuck) == (1, 0, 0), result.verdict
        assert heard.told[:2] == ["began", "opened start"] and heard.told[-1] == "record"
        assert "so far" in heard.told

    def test_after_the_run_the_same_lines(self, tmp_path: Path) -> None:
        """A finished run told afterwards (the first failing run of --runs) reads as the live lines did."""
        store = str(tmp_path / "db.json")
        live_out, after_out = io.StringIO(), io.StringIO()
        live = EventLines(Printer(live_out, width=200))
        result = simulate(RunConfig(store=store, strategy="none", buyers=3), watch=live)
        render_run(result, live.out, live=live)
        render_run(result, Printer(after_out, width=200))
        said_live = sorted(line for line in live_out.getvalue().splitlines() if " ms  " in line)
        said_after = sorted(line for line in after_out.getvalue().splitlines() if " ms  " in line)
        assert said_live == said_after and len(said_live) == 3 * 3 + 2  # look, read, write; two barriers


class TestOneOrMany:
    """A barrier's line agrees with how many it held: one buyer is not 'all 1 buyer have read'."""

    def test_one_buyer_alone_at_each_barrier(self) -> None:
        def said(point: str, **how: bool) -> str:
            return gate_words(Opened(t=0.0, point=point, buyers=[1], why="all"), **how)

        assert said("start").startswith("the only buyer is started and ready; the start barrier opens")
        assert said("after-read") == "the only buyer has read; the barrier opens: now it writes"
        assert said("before-lock") == "the only buyer has looked; the barrier opens: it goes for the lock"
        assert said("before-lock", queue=True) == "the only buyer has looked; the barrier opens: it sends its request"
        assert all(
            "all 1" not in said(p, http=h) for p in ("start", "after-read", "before-lock") for h in (False, True)
        )

    def test_many_buyers_are_all(self) -> None:
        gate = Opened(t=0.0, point="after-read", buyers=[1, 2, 3], why="all")
        assert gate_words(gate) == "all 3 buyers have read; the barrier opens: now they write"

    def test_a_stalled_buyer_waits_and_stalled_buyers_wait(self) -> None:
        one = gate_words(Opened(t=0.0, point="after-read", buyers=[5], why="stalled"))
        two = gate_words(Opened(t=0.0, point="after-read", buyers=[5, 6], why="stalled"))
        assert one.startswith("buyer 5 waits at after-read,") and one.endswith("the barrier opens for it")
        assert two.startswith("buyers 5 and 6 wait at after-read,") and two.endswith("the barrier opens for them")

    def test_one_seller_has_read(self) -> None:
        gate = Opened(t=0.0, point="after-read", buyers=[1], why="all")
        assert gate_words(gate, "seller", 1) == "the only seller has read; the sellers' barrier opens: now it writes"
        assert gate_words(gate, "seller", 2).startswith("2 sellers have read;")
