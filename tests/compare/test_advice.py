"""What to pick, and figures a person can read: safe strategies fastest first, overlapping ones grouped,
intervals with an en dash and never below zero, ratios never in e-notation."""

from __future__ import annotations

import json
from typing import Any

from booking.compare.advice import advise
from booking.compare.cells import Cell
from booking.compare.reference import rate_words, relate, times
from booking.compare.servers import servers
from booking.i18n.lang import speaking
from booking.render.advice import paragraph
from booking.stats import repeated


def _cell(strategy: str, reps: list[float], safe: bool = True, **more: Any) -> Cell:
    mean, ci, span = repeated(reps)
    cell = Cell(
        store="sqlite t.db", strategy=strategy, label="", scope="every client of the database", safe=safe,
        question="cost", schedule="free", buyers=16, tickets=100, trials=len(reps), anomaly_runs=0,
        anomaly_probability=0.0, anomaly_ci95=(0.0, 1.0), inconclusive_runs=0, oversold_mean=0, oversold_max=0,
        double_sold_mean=0, double_sold_max=0, lost_updates_mean=0, lost_updates_max=0, undersold_mean=0,
        undersold_max=0, errors=0, retries=0, conflicts=0, throughput_mean=mean, throughput_ci95=ci,
        throughput_range=span, repetitions=reps,
    )  # fmt: skip
    for name, value in more.items():
        setattr(cell, name, value)
    return cell


def test_rates_read_as_people_write_them() -> None:
    cell = _cell("atomic", [1100.0, 1302.0, 1500.0, 1306.0])
    assert rate_words(cell) == "1,302 /s (95%: 1,042\u20131,562; min\u2013max 1,100\u20131,500)"
    wide = _cell("file-lock", [5.0, 200.0, 10.0])
    assert rate_words(wide).startswith("72 /s (95%: 0\u2013")  # the interval stops at zero
    assert [times(x) for x in (1.234, 3.66, 12.4, 100.0, 1300.0)] == ["1.23", "3.7", "12", "100", "1,300"]


def test_safe_strategies_fastest_first_indistinguishable_ones_grouped() -> None:
    cells = [
        _cell("file-lock", [100.0, 110.0, 105.0]),
        _cell("atomic", [1000.0, 1040.0, 1020.0]),
        _cell("optimistic", [990.0, 1050.0, 1010.0]),
        _cell("none", [3000.0, 3100.0, 3050.0], safe=False),
        _cell("db-lock", [500.0, 520.0, 510.0], anomaly_runs=1),  # documented safe, but not here
    ]
    (advice,) = advise(cells)
    assert [[s.strategy for s in g] for g in advice.groups] == [["atomic", "optimistic"], ["file-lock"]]
    assert advice.unsafe == ["none", "db-lock"]
    slower = advice.groups[1][0]
    assert slower.slower is not None and 9 < slower.slower < 11
    said = paragraph(advice)
    assert said.startswith("On sqlite t.db at 16 buyers: the fastest safe strategies are atomic and optimistic")
    assert "Then file-lock, 9.7x slower than atomic (95%: " in said
    assert said.endswith("Not safe here, never a choice: none and db-lock.")
    with speaking("zh"):
        said = paragraph(advice)
    assert ". " not in said and "。 " not in said, said  # sentences end and join as Chinese writes them
    assert "。其次是 file-lock" in said and "数据库的所有客户端" in said and said.endswith("。"), said


def test_no_as_fast_claim_when_the_intervals_overlap() -> None:
    ref = _cell("file-lock", [100.0, 300.0, 200.0])
    other = _cell("atomic", [150.0, 450.0, 300.0])
    relate([ref, other], {"sqlite t.db": "file-lock"}, {ref.key: ref.repetitions, other.key: other.repetitions})
    assert other.relation == "indistinguishable" and "as fast" not in other.vs_reference_words


def test_a_server_that_does_not_answer_is_left_out_with_the_reason() -> None:
    found, skipped = servers("postgresql+psycopg://postgres@127.0.0.1:1/booking_compare")
    assert found == [] and len(skipped) == 1
    assert skipped[0].startswith("postgresql+psycopg://postgres@127.0.0.1:1/booking_compare: ")
    assert "refused" in skipped[0] or "connect" in skipped[0].lower()
    assert servers("none") == ([], [])


def test_a_server_that_answers_is_added(postgresql_url: str) -> None:
    found, skipped = servers(postgresql_url)
    assert [u.text for u in found] == [postgresql_url] and skipped == []


def test_a_repeat_is_no_regression_of_a_run_whose_three_repetitions_agreed_by_chance() -> None:
    """The saved run's three repetitions agreed closely, so its interval is narrow; the repeat's lies below
    it, but the ratio's interval from both runs' repetitions still holds 1: not a regression. A real
    slowdown, as consistent, still is one."""
    from booking.compare.baseline import _one

    saved = json.loads(json.dumps(_cell("serializable", [8450.0, 8477.0, 8504.0]).to_json()))  # as saved
    repeat = _cell("serializable", [5600.0, 6396.0, 7192.0])
    assert repeat.throughput_ci95 is not None and repeat.throughput_ci95[1] < saved["throughput_ci95"][0]
    words, worse = _one(True, repeat, saved)
    assert words.startswith("slower beyond the intervals") and not worse
    slower = _cell("serializable", [6000.0, 6100.0, 6200.0])
    assert _one(True, slower, saved)[1]
