"""Words that keep safety apart from availability: an oversell is UNSAFE, a refusal is a cost, a clean run
of an unsafe strategy is OK by luck. Exit codes and --json keys stay as they were."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from booking import RunConfig
from booking.history import Attempt, BuyerEnd, BuyerStatus, History, Outcome
from booking.render.judgement import judgement
from booking.render.verdict import judge, judge_verdict
from booking.run.result import RunResult
from booking.stores.base import FinalState, StoreKind
from booking.strategies import choose
from booking.verdict.verify import verify


@pytest.mark.parametrize(
    ("kinds", "head"),
    [
        ([], "OK"),
        (["oversold", "double_sold", "lost_updates"], "UNSAFE"),
        (["unreceipted"], "UNSAFE"),
        (["double_sold", "errors"], "UNSAFE"),  # safety first: a broken invariant outranks its costs
        (["errors"], "SAFE, AT A COST"),
        (["undersold"], "SAFE, AT A COST"),
        (["stuck"], "STUCK"),
    ],
)
def test_judgement(kinds: list[str], head: str) -> None:
    assert judgement(kinds).head == head


def _sale(buyer: int, t: float = 0.1) -> Attempt:
    return Attempt(buyer, 0, Outcome.OK, ticket=1, read=1, wrote=0, t_read=t, t_write=t + 0.2)


@pytest.mark.parametrize(
    ("history", "final", "word"),
    [
        (History([_sale(1), _sale(2)]), FinalState(0), "UNSAFE"),
        (
            History([_sale(1), Attempt(2, 0, Outcome.ERROR, error="OSError: disk full")]),
            FinalState(0),
            "SAFE, AT A COST",
        ),
        (History([_sale(1)], [BuyerEnd(2, BuyerStatus.STUCK, "killed")]), FinalState(0), "STUCK"),
        (History([Attempt(1, 0, Outcome.SOLD_OUT, t_window=0.1, t_end=0.2)]), None, "INCONCLUSIVE"),
        (History([_sale(1)]), FinalState(0), "OK"),
    ],
)
def test_json_says_the_word_the_screen_says(history: History, final: FinalState | None, word: str) -> None:
    """`--json`'s verdict is the text verdict's word (it said ANOMALY where the screen said UNSAFE)."""
    v = verify(1, final, history)
    assert v.word == v.to_json()["verdict"] == judge_verdict(v).head == word


def test_a_stopped_run_that_broke_an_invariant_is_unsafe_in_both() -> None:
    """A run stopped early that had already double-sold: the screen says UNSAFE first, and so does --json."""
    sold_twice = verify(1, FinalState(0), History([_sale(1), _sale(2)]))
    stopped = RunResult(
        RunConfig(), "db.json", StoreKind.COUNTER, "none", 1, FinalState(0), History([]), sold_twice, 0.1
    )
    stopped.aborted = "the lock was abandoned"
    assert judge(stopped).head == stopped.to_json()["verdict"] == "UNSAFE"
    clean = verify(1, FinalState(0), History([_sale(1)]))
    stopped.verdict = clean
    assert judge(stopped).head == stopped.to_json()["verdict"] == "STOPPED"


def test_a_run_says_unsafe_on_screen_and_in_json(cli: Any, tmp_path: Path) -> None:
    args = ["simulate", "--no-lock", "--buyers", "3", "--store", tmp_path / "db.json"]
    assert "verdict: UNSAFE" in cli(*args).out
    assert cli(*args, "--json").json()["verdict"] == "UNSAFE"


def test_luck_is_only_for_a_clean_run() -> None:
    assert judgement([], by_luck=True, strategy="none").head == "OK by luck"
    assert "lockstep makes the race certain" in judgement([], True, "none", lockstep=False).why
    assert judgement(["oversold"], by_luck=True).head == "UNSAFE"
    unproved = judgement([], by_luck=True, strategy="none", inconclusive="the buyers never overlapped")
    assert unproved.head == "INCONCLUSIVE" and unproved.why.endswith("no oversell this time was luck")


def test_a_stopped_run_never_says_ok_first() -> None:
    assert judgement([], stopped=True).head == "STOPPED"
    assert judgement(["double_sold"], stopped=True).head == "UNSAFE"  # safety first


@pytest.mark.parametrize(
    ("options", "safe"),
    [
        ({"strategy": "none"}, False),
        ({"strategy": "mp-lock"}, True),
        ({"strategy": "queue"}, True),  # one seller: nothing races
        ({"strategy": "queue", "sellers": 4}, False),  # four unprotected sellers race
        ({"strategy": "queue", "sellers": 4, "seller_lock": "file-lock"}, True),
        ({"purchase": "booking.examples.counter:racy_buy"}, None),  # your code: booking cannot know
    ],
)
def test_whether_a_strategy_prevents_the_race(options: dict[str, Any], safe: bool | None) -> None:
    assert choose(RunConfig(**options), StoreKind.COUNTER).safe is safe


def test_no_lock_that_did_not_race_says_it_was_luck(cli: Any, tmp_path: Path) -> None:
    """--schedule random --seed 6 lets buyer 1 read and write before buyer 2 reads: no race, so nothing was
    proved (INCONCLUSIVE, exit 4), and no oversell was luck, not the strategy."""
    args = ["simulate", "--no-lock", "--buyers", "2", "--schedule", "random", "--store", tmp_path / "db.json"]
    lucky = cli(*args, "--seed", "6")
    assert lucky.code == 4 and "verdict: INCONCLUSIVE the buyers never overlapped" in lucky.flat
    assert "strategy none does not prevent the race: no oversell this time was luck" in lucky.flat
    data = cli(*args, "--seed", "6", "--json").json()
    assert (data["verdict"], data["by_luck"]) == ("INCONCLUSIVE", True)  # the verdict key keeps its values
    raced = cli(*args, "--seed", "2")  # both read before either writes
    assert raced.code == 1 and "verdict: UNSAFE" in raced.out
    assert cli(*args, "--seed", "2", "--json").json()["by_luck"] is False
    locked = cli("simulate", "--buyers", "2", "--store", tmp_path / "db.json")
    assert locked.code == 0 and "verdict: OK  " in locked.out and "luck" not in locked.out


def test_a_serialization_refusal_is_a_cost_not_an_oversell(cli: Any, store_url: Callable[[str], str]) -> None:
    """PostgreSQL refuses all but one serializable buyer (40001): no ticket sold wrongly, 4 attempts failed."""
    args = ["simulate", "--store", store_url("postgresql"), "--no-lock", "--isolation", "serializable"]
    ran = cli(*args, "--buyers", "5")
    assert ran.code == 1  # exit codes are as they were: errors are still an anomaly
    flat = ran.flat
    assert "verdict: SAFE, AT A COST" in flat and "UNSAFE" not in flat and "ANOMALY" not in flat
    assert "safety: oversold 0 double_sold 0 lost_updates 0" in flat
    assert "availability: errors 4" in flat
    data = cli(*args, "--buyers", "5", "--json").json()
    assert (data["ok"], data["errors"], data["oversold"], data["by_luck"]) == (False, 4, 0, False)
    assert data["verdict"] == "SAFE, AT A COST"


def test_one_attempt_turned_away_is_said_in_the_singular() -> None:
    from booking.render.stories import stories
    from booking.verdict.anomalies import Anomaly, Counts

    def said(refused: int) -> str:
        (line,) = stories(Anomaly("undersold", 4, Counts(5, 4, 1, 1, refused, 0), buyers=[8]))
        return line

    assert said(1) == "4 tickets left unsold while 1 attempt was turned away (buyer 8 found none)"
    assert said(2).startswith("4 tickets left unsold while 2 attempts were turned away")
