"""--lock queue: buyers produce requests, sellers consume them. Real processes, real files."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from booking import RunConfig, Schedule, simulate
from booking.errors import BadInput
from booking.history.file import load
from booking.processes.gate import SellerGate
from booking.processes.schedule import BarrierTimeout
from booking.stores import open_store

# Each run's deadline: only reached when something hangs, so generous; a pass never waits for it.
DEADLINE_S = 60.0

# Run from a subreaper: whatever the command leaves running is re-parented to this wrapper when the
# command exits, so listing the wrapper's children afterwards lists exactly what outlived it.
REAPER = r"""
import ctypes, json, os, signal, subprocess, sys, tempfile
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
# Output to files, not pipes: a leftover holding a pipe open would make this wait for it.
with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
    rc = subprocess.run(sys.argv[1:], stdout=out, stderr=err, env=os.environ).returncode
    out.seek(0), err.seek(0)
    stdout, stderr = out.read(), err.read()
me, left = os.getpid(), []
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        with open(f"/proc/{entry}/stat") as f:
            head, tail = f.read().rsplit(")", 1)
    except OSError:
        continue
    state, ppid = tail.split()[:2]
    if int(ppid) == me:
        left.append({"pid": int(entry), "name": head.split("(", 1)[1], "state": state})
for child in left:
    try:
        os.kill(child["pid"], signal.SIGKILL)
        os.waitpid(child["pid"], 0)
    except OSError:
        pass
print(json.dumps({"rc": rc, "stdout": stdout, "stderr": stderr, "left": left}))
"""


def booking_cmd(*args: str | int) -> list[str]:
    return [sys.executable, "-m", "booking", *map(str, args)]


def run_json(cli: Any, tmp_path: Path, *args: str | int) -> tuple[int, dict[str, Any]]:
    """`booking simulate --json` in this process; the queue's buyers and sellers are checked gone after it."""
    ran = cli("simulate", "--json", "--store", tmp_path / "db.json", *map(str, args))
    assert ran.out, ran.err
    assert multiprocessing.active_children() == [], "a buyer or seller outlived the command"
    return ran.code, ran.json()


def run_reaped(tmp_path: Path, argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run argv under a subreaper; return its exit code, output, and the processes it left behind."""
    proc = subprocess.run(
        [sys.executable, "-c", REAPER, *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S + 30,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def store_spec(kind: str, tmp_path: Path) -> str:
    """A fresh store of `kind`; skips the test when this build has no such store."""
    spec = str(tmp_path / ("db.json" if kind == "counter" else "tickets.db"))
    try:
        open_store(spec).close()
    except BadInput as exc:
        if "not available" not in str(exc):
            raise  # only a build without SQL stores skips; anything else is a failure
        pytest.skip(f"{kind} store not available: {exc}")
    return spec


def expected_sold(tickets: int, buyers: int, attempts: int, until_sold_out: bool) -> int:
    return tickets if until_sold_out else min(tickets, buyers * attempts)


def queue_run(store: str, **kwargs: Any) -> Any:
    config = RunConfig(store=store, strategy="queue", deadline_s=DEADLINE_S, **kwargs)
    result = simulate(config)
    assert multiprocessing.active_children() == [], "a buyer or seller outlived simulate()"
    return result


SHAPES = [
    (2, 1, 1, False, Schedule.LOCKSTEP),
    (10, 3, 1, False, Schedule.LOCKSTEP),
    (7, 20, 2, False, Schedule.FREE),
    (50, 1, 1, False, Schedule.LOCKSTEP),
    (50, 120, 1, True, Schedule.FREE),
    (20, 0, 1, False, Schedule.LOCKSTEP),
]
# By default each shape once, on db.json and SQLite in turn; every shape on both under -m slow.
SWEEP = [
    pytest.param(
        kind,
        *shape,
        marks=() if (i % 2 == 0) == (kind == "counter") else pytest.mark.slow,
        id=f"{kind}-{'-'.join(str(getattr(v, 'value', v)) for v in shape)}",
    )
    for i, shape in enumerate(SHAPES)
    for kind in ("counter", "sqlite")
]


class TestQueueNeverOversells:
    """One seller owns the store: no anomaly, all stock sold when demand allows."""

    @pytest.mark.parametrize(("kind", "buyers", "tickets", "attempts", "until_sold_out", "schedule"), SWEEP)
    def test_sweep(
        self,
        tmp_path: Path,
        kind: str,
        buyers: int,
        tickets: int,
        attempts: int,
        until_sold_out: bool,
        schedule: Schedule,
    ) -> None:
        """Every run is OK and sells min(stock, demand); every attempt went through the queue."""
        store = store_spec(kind, tmp_path)
        r = queue_run(
            store, buyers=buyers, tickets=tickets, attempts=attempts, until_sold_out=until_sold_out, schedule=schedule
        )
        assert r.verdict.ok, r.verdict.anomalies
        assert r.verdict.sold == expected_sold(tickets, buyers, attempts, until_sold_out)
        assert r.history.attempts and all(a.queue_wait_s is not None for a in r.history.attempts)
        assert all(a.t_acquired is None for a in r.history.attempts), "one seller: no lock on the path"

    @pytest.mark.slow
    @pytest.mark.parametrize("kind", ["counter", "sqlite"])
    @pytest.mark.parametrize("schedule", [Schedule.LOCKSTEP, Schedule.FREE])
    @pytest.mark.parametrize("buyers", [2, 3, 5, 8, 13, 21, 34, 50])
    def test_long_sweep(self, tmp_path: Path, kind: str, schedule: Schedule, buyers: int) -> None:
        """Buyers 2-50 against stock below, at and above demand: never an anomaly."""
        store = store_spec(kind, tmp_path)
        for tickets, attempts, until_sold_out in [
            (0, 1, False),
            (1, 1, False),
            (buyers - 1, 1, False),
            (buyers, 1, False),
            (buyers * 2 + 1, 2, False),
            (3 * buyers, 1, True),
        ]:
            r = queue_run(
                store,
                buyers=buyers,
                tickets=tickets,
                attempts=attempts,
                until_sold_out=until_sold_out,
                schedule=schedule,
            )
            assert _never_an_anomaly(r.verdict, schedule), (tickets, attempts, r.verdict.anomalies)
            assert r.verdict.sold == expected_sold(tickets, buyers, attempts, until_sold_out)

    @pytest.mark.slow
    @pytest.mark.parametrize("seller_lock", ["mp-lock", "file-lock"])
    @pytest.mark.parametrize("schedule", [Schedule.LOCKSTEP, Schedule.FREE])
    @pytest.mark.parametrize("buyers", [2, 5, 13, 50])
    def test_long_sweep_sellers_with_lock(
        self, tmp_path: Path, seller_lock: str, schedule: Schedule, buyers: int
    ) -> None:
        """Four sellers behind a seller lock never oversell either."""
        for tickets, until_sold_out in [(1, False), (buyers, False), (2 * buyers, True)]:
            r = queue_run(
                str(tmp_path / "db.json"),
                buyers=buyers,
                tickets=tickets,
                until_sold_out=until_sold_out,
                schedule=schedule,
                sellers=4,
                seller_lock=seller_lock,
            )
            assert _never_an_anomaly(r.verdict, schedule), (tickets, r.verdict.anomalies)
            assert r.verdict.sold == expected_sold(tickets, buyers, 1, until_sold_out)


def _never_an_anomaly(verdict: Any, schedule: Schedule) -> bool:
    """OK; or, in a free run, INCONCLUSIVE with no anomaly: two free buyers on a loaded machine may never
    meet in the window, and then nothing was proved (exit 4), which is the right verdict, not OK."""
    if verdict.ok:
        return True
    return schedule is Schedule.FREE and not verdict.anomalies and verdict.inconclusive is not None


class TestSellersRace:
    """Several sellers share the store: the race is back unless they take a lock."""

    @pytest.mark.parametrize("run", [0, *(pytest.param(n, marks=pytest.mark.slow) for n in range(1, 5))])
    def test_four_sellers_unprotected_oversell_in_lockstep(self, cli: Any, tmp_path: Path, run: int) -> None:
        """All four sellers read count=1 before any writes: ticket #1 is sold four times, every run."""
        rc, out = run_json(cli, tmp_path, "--lock", "queue", "--sellers", 4, "--buyers", 10, "--tickets", 1)
        assert rc == 1
        assert (out["sold"], out["oversold"], out["double_sold"]) == (4, 3, 1)
        assert out["sellers"] == 4 and out["seller_lock"] == "none"
        assert out["errors"] == 0 and out["stuck"] == 0

    def test_four_sellers_unprotected_with_more_stock(self, cli: Any, tmp_path: Path) -> None:
        """With stock to sell, each round of four sellers sells one ticket four times."""
        rc, out = run_json(cli, tmp_path, "--lock", "queue", "--sellers", 4, "--buyers", 16, "--tickets", 4)
        assert rc == 1
        assert (out["sold"], out["remaining"], out["double_sold"], out["lost_updates"]) == (16, 0, 4, 12)

    def test_fewer_buyers_than_sellers(self, cli: Any, tmp_path: Path) -> None:
        """Two buyers, four sellers: the two busy sellers do not wait for the idle ones, and still race."""
        rc, out = run_json(
            cli, tmp_path, "--lock", "queue", "--sellers", 4, "--buyers", 2, "--attempts", 3, "--tickets", 3
        )
        assert rc == 1
        assert (out["sold"], out["double_sold"], out["stuck"], out["errors"]) == (6, 3, 0, 0)

    @pytest.mark.parametrize("seller_lock", ["file-lock", "mp-lock"])
    @pytest.mark.parametrize("run", [0, *(pytest.param(n, marks=pytest.mark.slow) for n in range(1, 3))])
    def test_four_sellers_with_a_seller_lock_do_not(self, cli: Any, tmp_path: Path, seller_lock: str, run: int) -> None:
        """The same lockstep run with --seller-lock sells the ticket once."""
        rc, out = run_json(
            cli,
            tmp_path,
            "--lock",
            "queue",
            "--sellers",
            4,
            "--seller-lock",
            seller_lock,
            "--buyers",
            10,
            "--tickets",
            1,
        )
        assert rc == 0, out["anomalies"]
        assert (out["sold"], out["remaining"], out["refused"]) == (1, 0, 9)
        assert out["seller_lock"] == seller_lock


class TestShutdown:
    """No sentinels, no process left behind, no buyer left waiting."""

    def test_reaper_sees_a_leftover(self, tmp_path: Path) -> None:
        """The check itself: a command that leaves a child running is caught."""
        orphan = "import os, time\nif os.fork() == 0:\n    time.sleep(60)"
        result = run_reaped(tmp_path, [sys.executable, "-c", orphan])
        assert len(result["left"]) == 1

    # A subprocess under a subreaper: a grandchild orphaned by the command would be re-parented to the
    # reaper and counted, which no check from inside the command's own process can see. In-process runs
    # (run_json) check multiprocessing's children after every command; the other shapes under -m slow.
    @pytest.mark.parametrize(
        "args",
        [
            pytest.param(["--buyers", 20, "--tickets", 5], marks=pytest.mark.slow),
            pytest.param(
                ["--buyers", 20, "--tickets", 50, "--until-sold-out", "--schedule", "free"], marks=pytest.mark.slow
            ),
            ["--buyers", 10, "--sellers", 4, "--seller-lock", "file-lock", "--until-sold-out", "--tickets", 30],
        ],
    )
    def test_no_child_outlives_the_command(self, tmp_path: Path, args: list[str | int]) -> None:
        """After a normal run, nothing the command started is still there."""
        argv = booking_cmd("simulate", "-q", "--lock", "queue", "--store", tmp_path / "db.json", *args)
        result = run_reaped(tmp_path, argv)
        assert result["rc"] == 0, result["stdout"] + result["stderr"]
        assert result["left"] == []

    @pytest.mark.parametrize(
        ("sellers", "victim"),
        [pytest.param(1, 1, marks=pytest.mark.slow), (3, 2), pytest.param(3, 1, marks=pytest.mark.slow)],
    )
    def test_no_child_outlives_a_killed_seller(self, tmp_path: Path, sellers: int, victim: int) -> None:
        """A seller SIGKILLed mid-run: the run still ends, nothing stuck, nothing left running."""
        seller_lock = "file-lock" if sellers > 1 else "none"
        argv = booking_cmd(
            "simulate", "--json", "--lock", "queue", "--sellers", sellers, "--seller-lock", seller_lock,
            "--buyers", 10, "--tickets", 20, "--until-sold-out", "--store", tmp_path / "db.json",
            "--kill-seller", victim,
        )  # fmt: skip
        result = run_reaped(tmp_path, argv)
        assert result["left"] == []
        out = json.loads(result["stdout"])
        assert result["rc"] == 1
        assert out["stuck"] == 0
        assert out["errors"] >= 1

    def test_deadline_ends_sellers_too(self, tmp_path: Path) -> None:
        """A seller still inside its window at the deadline is stopped with the buyers: exit 3, nothing left."""
        argv = booking_cmd(
            "simulate", "-q", "--lock", "queue", "--buyers", 3, "--think", 30000, "--deadline", 1,
            "--store", tmp_path / "db.json",
        )  # fmt: skip
        result = run_reaped(tmp_path, argv)
        assert result["rc"] == 3, result["stdout"] + result["stderr"]
        assert "STUCK" in result["stdout"]
        assert result["left"] == []

    def test_killed_only_seller_answers_every_buyer(self, cli: Any, tmp_path: Path) -> None:
        """The only seller dies inside its first sale: that buyer and every queued one get an error."""
        rc, out = run_json(cli, tmp_path, "--lock", "queue", "--buyers", 10, "--tickets", 5, "--kill-seller", 1)
        assert rc == 1
        assert (out["sold"], out["remaining"], out["errors"], out["stuck"]) == (0, 5, 10, 0)
        stories = " ".join(out["anomalies"][-1]["story"])
        assert "seller 1 was killed by signal 9" in stories

    def test_killed_seller_among_others(self, cli: Any, tmp_path: Path) -> None:
        """One of three sellers dies holding a request (and the file lock, which the kernel releases): only
        that buyer gets an error; the rest is sold."""
        rc, out = run_json(
            cli, tmp_path, "--lock", "queue", "--sellers", 3, "--seller-lock", "file-lock", "--buyers", 10,
            "--tickets", 10, "--kill-seller", 2,
        )  # fmt: skip
        assert rc == 1
        assert (out["sold"], out["remaining"], out["errors"], out["stuck"]) == (9, 1, 1, 0)
        assert "seller 2 was killed by signal 9 before answering" in out["anomalies"][0]["story"][0]

    def test_a_seller_dead_with_the_mp_lock_stops_the_run(self, cli: Any, tmp_path: Path) -> None:
        """A seller killed holding the multiprocessing.Lock: the run stops at once and says why (exit 3)."""
        rc, out = run_json(
            cli, tmp_path, "--lock", "queue", "--sellers", 3, "--seller-lock", "mp-lock", "--buyers", 10,
            "--tickets", 10, "--kill-seller", 2,
        )  # fmt: skip
        assert rc == 3
        assert "seller 2 died holding the multiprocessing.Lock" in out["aborted"]

    def test_killed_seller_in_process(self, tmp_path: Path) -> None:
        """Through the library too: simulate() returns with no child alive (checked in queue_run)."""
        r = queue_run(str(tmp_path / "db.json"), buyers=6, tickets=6, sellers=2, kill_seller=1)
        assert r.verdict.errors == 1 and r.verdict.stuck == 0


class TestSameOutputs:
    """Same history, receipts, verdict and JSON as every strategy, plus the queue wait."""

    def test_history_round_trip(self, cli: Any, tmp_path: Path) -> None:
        """--history keeps queue_wait_s; `booking verify` reads it back to the same verdict."""
        history = tmp_path / "run.jsonl"
        rc, _ = run_json(cli, tmp_path, "--lock", "queue", "--buyers", 8, "--tickets", 3, "--history", history)
        assert rc == 0
        lines = [json.loads(line) for line in history.read_text().splitlines()]
        attempts = [line for line in lines if line["kind"] == "attempt"]
        assert len(attempts) == 8 and all(a["queue_wait_s"] >= 0 for a in attempts)
        assert all(a["t_acquired"] is None for a in attempts)
        assert sorted(a["ticket"] for a in attempts if a["outcome"] == "ok") == [1, 2, 3]
        assert load(history).attempts[0].queue_wait_s is not None
        verify = cli("verify", "--json", "--store", tmp_path / "db.json", "--history", history, "--tickets", "3")
        assert verify.code == 0, verify.err
        assert verify.json()["sold"] == 3

    def test_other_strategies_history_has_no_queue_wait(self, cli: Any, tmp_path: Path) -> None:
        history = tmp_path / "run.jsonl"
        run_json(cli, tmp_path, "--lock", "mp-lock", "--buyers", 3, "--history", history)
        records = [json.loads(line) for line in history.read_text().splitlines()]
        attempts = [r for r in records if r["kind"] == "attempt"]
        assert len(attempts) == 3 and all(a["queue_wait_s"] is None for a in attempts)

    def test_json_contract(self, cli: Any, tmp_path: Path) -> None:
        """The keys every strategy prints, plus sellers, seller lock and queue-wait percentiles."""
        rc, out = run_json(cli, tmp_path, "--lock", "queue", "--buyers", 5, "--tickets", 2)
        assert rc == 0
        for key in ("store", "strategy", "buyers", "tickets", "sold", "remaining", "oversold", "double_sold",
                    "lost_updates", "undersold", "errors", "stuck", "ok", "anomalies", "elapsed_s"):  # fmt: skip
            assert key in out
        assert out["strategy"] == "queue" and out["sellers"] == 1 and out["seller_lock"] == "none"
        waits = out["queue_wait_s"]
        assert set(waits) == {"p50", "p95", "p99"} and 0 <= waits["p50"] <= waits["p95"] <= waits["p99"]

    def test_terminal_output_names_the_queue(self, cli: Any, tmp_path: Path) -> None:
        ran = cli("simulate", "--lock", "queue", "--buyers", "2", "--store", tmp_path / "db.json")
        assert ran.code == 0
        assert "strategy queue (1 seller, seller lock none)" in ran.flat
        assert "through the queue: waited" in ran.flat


class TestUsage:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--lock", "mp-lock", "--sellers", 2], "applies only to --lock queue and --lock seckill"),
            (["--lock", "none", "--seller-lock", "file-lock"], "applies only to --lock queue"),
            (["--lock", "queue", "--seller-lock", "queue"], "cannot queue to themselves"),
            (["--lock", "queue", "--seller-lock", "nope"], "--seller-lock: unknown strategy"),
            (["--lock", "queue", "--sellers", 0], "--sellers must be at least 1"),
            (["--lock", "queue", "--sellers", 65], "--sellers must be at most 64"),
        ],
    )
    def test_bad_seller_options(self, cli: Any, tmp_path: Path, args: list[str | int], message: str) -> None:
        """Misused seller options are refused with exit 2 before any process starts."""
        ran = cli("simulate", "--store", tmp_path / "db.json", *map(str, args))
        assert ran.code == 2
        assert message in ran.err
        assert not (tmp_path / "db.json").exists()


class TestSellerGate:
    """The lockstep gate's rule, one process: a window opens when all sellers or all requests are there."""

    @staticmethod
    def gate(sellers: int, buyers: int) -> SellerGate:
        return SellerGate(multiprocessing.get_context("fork"), sellers, buyers)

    def test_waits_while_a_buyer_may_still_send(self) -> None:
        """One request held, another buyer live without one: an idle seller may yet get it, so wait."""
        gate = self.gate(sellers=2, buyers=2)
        gate.submit(1)
        with pytest.raises(BarrierTimeout):
            gate.window(1, timeout=0)

    def test_opens_when_no_more_requests_can_come(self) -> None:
        """Once the other buyer leaves, the one held request is all there is: the seller goes on."""
        gate = self.gate(sellers=2, buyers=2)
        gate.submit(1)
        gate.leave(2)
        gate.window(1, timeout=0)

    def test_opens_when_the_missing_seller_dies(self) -> None:
        """Two requests in flight, one seller dead: the living seller does not wait for it."""
        gate = self.gate(sellers=2, buyers=3)
        gate.submit(1)
        gate.submit(2)
        with pytest.raises(BarrierTimeout):
            gate.window(1, timeout=0)
        gate.seller_died(2)
        gate.window(1, timeout=0)

    def test_answered_requests_leave_the_count(self) -> None:
        """A request answered elsewhere no longer holds the window open for it."""
        gate = self.gate(sellers=3, buyers=2)
        gate.submit(1)
        gate.submit(2)
        gate.answered(2)
        gate.leave(2)
        gate.window(1, timeout=0)

    def test_a_buyer_leaves_once(self) -> None:
        """A buyer reported gone twice (itself, then the parent) is counted once: buyer 3 may still send."""
        gate = self.gate(sellers=3, buyers=3)
        gate.submit(1)
        gate.leave(2)
        gate.leave(2)
        with pytest.raises(BarrierTimeout):
            gate.window(1, timeout=0)
