"""Scope is proven, not claimed: two or more `booking simulate --keep` invocations at once on one store.

Each invocation sells under --think 5 (a 5 ms sleep between read and write, the notes' sleep inside
the window) until the store is sold out. While both run, one invocation's read-think-write overlaps
the other's on the same lowest free ticket; with 100 tickets each invocation alone needs over half a
second, so they overlap unless one finishes before the other starts. mp-lock protects only its own
process tree, so the overlap double-sells; file-lock (one host) and the database's own strategies
do not. The verdict is the product's own: both histories verified together against the store.

Each invocation is its own `python -m booking` process on purpose: what is proven is the scope of a lock
across separate commands. The default run keeps three invocations on db.json under file-lock with their
mp-lock control, and two under PostgreSQL's row lock; SQLite's pairs and the crowds of four run under -m slow.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from booking import init_store, verify_run
from tests.helpers import plain_connect

TICKETS = 100
# Each invocation is its own process, but they start selling together: on a loaded machine interpreters
# that start seconds apart would sell one after another and prove nothing. The import is done first;
# the command runs once the test closes its stdin.
AT_THE_SIGNAL = (
    "import sys; from booking.cli import main; print('ready', flush=True); sys.stdin.read(); "
    "sys.exit(main(sys.argv[1:]))"
)


def _at_once(url: str, strategy: str, tmp_path: Path, invocations: int = 2) -> dict[str, int]:
    init_store(url, TICKETS)
    histories = [tmp_path / f"run{i}.jsonl" for i in range(1, invocations + 1)]
    args = ["--store", url, "--keep", "--lock", strategy, "--buyers", "2", "--until-sold-out"]
    args += ["--schedule", "free", "--think", "5", "-q"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", AT_THE_SIGNAL, "simulate", *args, "--history", str(h)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for h in histories
    ]
    for p in procs:  # every one has started and imported booking
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:  # go
        assert p.stdin is not None
        p.stdin.close()
        p.stdin = None
    errs = [p.communicate(timeout=120)[1] for p in procs]  # every one read to its end, its pipes closed
    for p, err in zip(procs, errs, strict=True):
        # 1: each alone counts the others' sales as unreceipted; 4: alone, its two buyers never overlapped
        # (on a loaded machine, with the others' buyers holding the lock). The verdict over all of them is
        # the proof, below.
        assert p.returncode in (0, 1, 4), err
    both = tmp_path / "both.jsonl"
    both.write_text("".join(h.read_text() for h in histories))
    verdict = verify_run(url, both, TICKETS)
    result = verdict.to_json()
    result["exit"] = verdict.exit_code
    if "://" not in url:  # db.json: no ledger, the verdict over all histories is the whole proof
        return result
    conn = plain_connect(url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM (SELECT ticket_id FROM purchases GROUP BY ticket_id HAVING count(*) > 1) d")
        result["ledger_double_sold"] = cur.fetchone()[0]
    finally:
        conn.close()
    return result


@pytest.mark.slow
def test_mp_lock_does_not_protect_a_second_invocation(sqlite_url: str, tmp_path: Path) -> None:
    result = _at_once(sqlite_url, "mp-lock", tmp_path)
    assert result["exit"] == 1
    assert result["double_sold"] > 0 and result["ledger_double_sold"] == result["double_sold"]


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["file-lock", "atomic"])
def test_host_and_database_strategies_protect_both_invocations(strategy: str, sqlite_url: str, tmp_path: Path) -> None:
    result = _at_once(sqlite_url, strategy, tmp_path)
    assert result["exit"] == 0, result["anomalies"]
    assert (result["sold"], result["remaining"], result["ledger_double_sold"]) == (TICKETS, 0, 0)


def test_db_lock_protects_two_invocations_on_postgresql(store_url: Callable[[str], str], tmp_path: Path) -> None:
    result = _at_once(store_url("postgresql"), "db-lock", tmp_path)
    assert result["exit"] == 0, result["anomalies"]
    assert (result["sold"], result["remaining"], result["ledger_double_sold"]) == (TICKETS, 0, 0)


# Several invocations at once (issue 6 item 5): three and four `simulate --keep` processes on one store.
def test_file_lock_protects_three_invocations_on_db_json(tmp_path: Path) -> None:
    result = _at_once(str(tmp_path / "db.json"), "file-lock", tmp_path, invocations=3)
    assert result["exit"] == 0, result["anomalies"]
    assert (result["sold"], result["remaining"], result["double_sold"]) == (TICKETS, 0, 0)


def test_mp_lock_does_not_protect_three_invocations_on_db_json(tmp_path: Path) -> None:
    """The control: the same workload without a cross-invocation lock oversells, so the test can fail."""
    result = _at_once(str(tmp_path / "db.json"), "mp-lock", tmp_path, invocations=3)
    assert result["exit"] == 1 and result["double_sold"] + result["lost_updates"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["file-lock", "atomic", "db-lock"])
def test_sqlite_strategies_protect_four_invocations(strategy: str, sqlite_url: str, tmp_path: Path) -> None:
    result = _at_once(sqlite_url, strategy, tmp_path, invocations=4)
    assert result["exit"] == 0, result["anomalies"]
    assert (result["sold"], result["remaining"], result["ledger_double_sold"]) == (TICKETS, 0, 0)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["db-lock", "atomic"])
def test_database_strategies_protect_four_invocations_on_postgresql(
    strategy: str, store_url: Callable[[str], str], tmp_path: Path
) -> None:
    result = _at_once(store_url("postgresql"), strategy, tmp_path, invocations=4)
    assert result["exit"] == 0, result["anomalies"]
    assert (result["sold"], result["remaining"], result["ledger_double_sold"]) == (TICKETS, 0, 0)
