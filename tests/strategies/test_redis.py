"""The Redis strategies on a real server: the race shown, the safe ones clean, the paused lease holder
(redis-lock UNSAFE with its story, fenced OK), refusals up front. The sweeps are marked slow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from booking.history import Attempt, History, Outcome, Paused
from booking.verdict.leases import pause_stories
from tests.helpers import run_command

SAFE = ["lua", "watch", "redis-lock", "fenced"]
# The acceptance's fault, as the sweeps run it: a 50 ms lease, its holder paused 300 ms.
PAUSE = ["--lock-ttl", "50", "--pause-buyer", "1", "--pause-at", "in-critical", "--pause-ms", "300"]
# The default suite's: the same lease, a pause long enough that another buyer surely takes the lock while
# the holder sleeps, however long a loaded machine leaves that buyer unscheduled.
LONG_PAUSE = [*PAUSE[:-1], "1500"]


def simulate(url: str, *args: str, run: Any = None) -> tuple[int, dict[str, Any], str]:
    """A run with --json: in this process through the `command` fixture when given (the default tier),
    else as a command of its own (the sweeps)."""
    done = (
        run("simulate", "--store", url, *args, "--json")
        if run
        else run_command("simulate", "--store", url, *args, "--json", timeout=120)
    )
    return done.code, json.loads(done.out) if done.out.strip() else {}, done.err


def test_strategies_lists_the_redis_ones() -> None:
    done = run_command("strategies", "--store", "redis://127.0.0.1:6379/15")
    assert done.code == 0
    for name in ("none", *SAFE):
        assert name in done.out
    assert "EVALSHA" in done.out and "fencing token" in done.out


def test_none_races(redis_url: str, command: Any) -> None:
    code, result, err = simulate(redis_url, "--buyers", "10", "--no-lock", run=command)
    assert code == 1 and result["double_sold"] == 1 and result["sold"] == 10, err


@pytest.mark.parametrize("strategy", SAFE)
def test_safe_strategies_are_clean(redis_url: str, strategy: str, command: Any) -> None:
    code, result, err = simulate(redis_url, "--buyers", "8", "--tickets", "5", "--lock", strategy, run=command)
    assert code == 0 and (result["sold"], result["remaining"]) == (5, 0), err
    assert result["overlap"] > 1  # they did contend


def test_the_seckill_script_serves_a_request_once(redis_url: str) -> None:
    from booking.stores import init_store, open_store

    init_store(redis_url, 2)
    store: Any = open_store(redis_url)
    try:
        assert [store.seckill(1, "1:0"), store.seckill(1, "1:0"), store.seckill(2, "2:0")] == [2, -1, 1]
        assert store.seckill(3, "3:0") == 0  # sold out
    finally:
        store.close()


def test_a_paused_lease_holder_sells_twice(redis_url: str, tmp_path: Path, command: Any) -> None:
    kept = tmp_path / "run.jsonl"
    code, result, err = simulate(redis_url, "--lock", "redis-lock", *LONG_PAUSE, "--history", str(kept), run=command)
    assert code == 1 and result["double_sold"] == 1, err
    [pause] = result["pauses"]
    lost = pause["lost"]
    assert pause["buyer"] == 1 and lost["taker"] not in (None, 1)
    assert lost["expired_at"] <= lost["taken_at"] <= pause["resumed_at"]
    assert [ticket for ticket, _other in lost["sold_twice"]] == [1]
    # The pause is in the history, and the story told again from it alone is the same
    from booking.history.file import load

    [saved] = load(kept).pauses
    assert (saved.buyer, saved.point) == (1, "in-critical")
    assert pause_stories(load(kept), 0.05)[0].lost is not None


def test_the_story_in_words(redis_url: str, command: Any) -> None:
    done = command("simulate", "--store", redis_url, "--lock", "redis-lock", *LONG_PAUSE)
    flat = " ".join(done.out.split())
    assert done.code == 1
    assert "buyer 1's lease expired at" in flat and "while it was paused; buyer" in flat
    assert "both sold ticket #1" in flat


def test_fencing_refuses_the_late_write(redis_url: str, command: Any) -> None:
    code, result, err = simulate(redis_url, "--lock", "fenced", *LONG_PAUSE, run=command)
    assert code == 0 and result["sold"] == 1 and result["declined"] == 1, err
    assert result["pauses"][0]["lost"]["refused"] is True


def test_a_lock_without_a_lease_only_waits(redis_url: str, command: Any) -> None:
    done = command("simulate", "--store", redis_url, "--lock", "file-lock", *PAUSE[2:], "--buyers", "3")
    assert done.code == 0, done.err
    assert "holds no lease" in " ".join(done.out.split())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--lock", "lua", "--pause-buyer", "1"], "--pause-at in-critical does not apply to a buyer of --lock lua"),
        (["--lock", "lua", "--lock-ttl", "50"], "--lock-ttl applies to a lease"),
        (["--pause-at", "after-read"], "--pause-at needs --pause-buyer"),
        (["--pause-buyer", "1", "--kill-buyer", "2"], "choose one fault"),
        (["--pause-buyer", "1", "--pause-at", "nowhere"], "unknown point"),
    ],
)
def test_refused_up_front(args: list[str], words: str, tmp_path: Path) -> None:
    done = run_command("simulate", "--store", "redis://127.0.0.1:6379/15", *args, cwd=tmp_path)
    assert done.code == 2 and words in done.err, done.err


def test_the_story_is_data_from_the_history_alone() -> None:
    """No processes: a holder stopped past its lease, another buyer taking the lock, one ticket sold twice."""
    holder = Attempt(1, 0, Outcome.OK, ticket=7, t_start=0.1, t_acquired=0.1, t_write=0.5, t_end=0.5)
    taker = Attempt(4, 0, Outcome.OK, ticket=7, t_start=0.1, t_acquired=0.16, t_write=0.17, t_end=0.17)
    history = History(attempts=[holder, taker], pauses=[Paused(1, "in-critical", 0.11, 0.41)])
    [story] = pause_stories(history, 0.05)
    assert story.lost is not None
    assert (story.lost.taker, story.lost.sold_twice, story.lost.refused) == (4, [(7, 4)], False)
    assert story.lost.expired_at == pytest.approx(0.15)
    [no_lease] = pause_stories(history, None)
    assert no_lease.lost is None and no_lease.lease_s is None


@pytest.mark.slow
def test_sweep_none_races_every_run(redis_url: str) -> None:
    for _ in range(20):
        code, result, err = simulate(redis_url, "--buyers", "10", "--no-lock")
        assert code == 1 and result["double_sold"] == 1, err


@pytest.mark.slow
@pytest.mark.parametrize("strategy", SAFE)
def test_sweep_safe_strategies(redis_url: str, strategy: str) -> None:
    for _ in range(20):
        code, result, err = simulate(redis_url, "--buyers", "8", "--tickets", "5", "--lock", strategy)
        assert code == 0 and result["sold"] == 5, err


@pytest.mark.slow
@pytest.mark.parametrize(("strategy", "expected"), [("redis-lock", 1), ("fenced", 0)])
def test_sweep_the_paused_holder(redis_url: str, strategy: str, expected: int) -> None:
    for _ in range(10):
        code, result, err = simulate(redis_url, "--lock", strategy, *PAUSE)
        assert code == expected and result["pauses"][0]["lost"] is not None, err


def test_compare_takes_a_redis_store(redis_url: str) -> None:
    """compare --stores redis://...: every strategy that applies to Redis, the race shown, the safe ones
    clean, and the server's version in the machine section."""
    args = ["--buyers", "4", "--trials", "2", "--tickets", "6", "--schedule", "lockstep", "--format", "json"]
    done = run_command("compare", "--stores", redis_url, *args, timeout=180)
    assert done.code == 0, done.err
    report = json.loads(done.out)
    cells = {c["strategy"]: c for c in report["cells"]}
    assert {"none", *SAFE} <= set(cells), sorted(cells)
    assert cells["none"]["anomaly_runs"] > 0 and all(cells[s]["anomaly_runs"] == 0 for s in SAFE)
    assert any(v.startswith("Redis ") for v in report["machine"]["servers"].values()), report["machine"]


def test_the_seckill_script_is_the_only_round_trip(redis_url: str) -> None:
    """lua sends its script and nothing before it (the script checks the stock); the others look first."""
    from booking import RunConfig, simulate

    for strategy, looks in (("lua", False), ("watch", True)):
        result = simulate(RunConfig(store=redis_url, strategy=strategy, buyers=2, tickets=1))
        attempts = result.history.attempts
        assert attempts and all((a.looked is not None) is looks for a in attempts), strategy
