"""The steady-state window: a --duration run is measured from the start barrier's release, never before it."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking import RunConfig, simulate
from booking.compare.steady import steady
from booking.errors import BadInput


@pytest.mark.parametrize("store", ["db.json", "t.db"])
def test_a_duration_run_is_measured_from_the_release_after_the_last_buyer_was_ready(tmp_path: Path, store: str) -> None:
    config = RunConfig(store=str(tmp_path / store), strategy="file-lock", buyers=4, tickets=100_000, duration_s=0.2)
    r = simulate(config)
    history = r.history
    assert history.last_ready is not None and history.started is not None
    assert history.started >= history.last_ready  # the release came after the last buyer said it was ready
    assert all(a.t_start >= history.started for a in history.attempts)  # nobody bought before the release
    assert r.verdict.ok and r.verdict.remaining and r.verdict.remaining > 0  # the time ran out, not the stock
    window = steady(r, 4)
    assert window is not None and window.after_ready and not window.sold_out
    assert window.start == history.started and len(window.rates) == 4
    assert window.purchases == sum(1 for a in history.receipts if a.t_end <= window.end)


def test_a_small_stock_ends_the_window_when_it_runs_out(tmp_path: Path) -> None:
    r = simulate(RunConfig(store=str(tmp_path / "db.json"), strategy="mp-lock", buyers=2, tickets=30, duration_s=30))
    window = steady(r, 3)
    assert r.verdict.ok and r.verdict.remaining == 0
    assert window is not None and window.sold_out
    first_refusal = min(a.t_start for a in r.history.attempts if a.outcome.value == "sold-out")
    assert window.end <= first_refusal


def test_the_history_file_keeps_when_the_last_buyer_was_ready(tmp_path: Path) -> None:
    from booking.history.file import load

    path = tmp_path / "h.jsonl"
    simulate(RunConfig(store=str(tmp_path / "db.json"), buyers=3, tickets=3, history=path))
    again = load(path)
    assert again.last_ready is not None and again.started is not None and again.started >= again.last_ready


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"duration_s": 0}, "--duration must be at least 0.01"),
        ({"duration_s": 5, "deadline_s": 5}, "--duration 5 must be shorter than --deadline 5"),
    ],
)
def test_bad_durations(tmp_path: Path, options: dict[str, float], words: str) -> None:
    with pytest.raises(BadInput, match=words):
        RunConfig(store=str(tmp_path / "db.json"), **options).validate()  # type: ignore[arg-type]
