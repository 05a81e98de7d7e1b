"""Whatever ends a run, no child outlives it (issue 12, item 1).

SIGINT, SIGTERM and SIGHUP at a random moment, to the parent or to the whole process group (a
terminal's Ctrl-C), and SIGKILL to the parent: every run is watched from a subreaper, so whatever
outlives the command is re-parented to the watcher and counted. Then: the exit code is 128 + the
signal, stderr is one line and no traceback, and the history that was kept agrees with the store.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from booking import init_store, verify_run

# The watcher: a subreaper that starts booking in its own session, sends the signal after `delay`
# seconds (the random moment is the experiment, not a synchronisation), waits for booking to exit,
# then gives whatever booking left behind (now the watcher's children) `wait` seconds to exit (default 5).
WATCHER = r"""
import ctypes, json, os, signal, subprocess, sys, tempfile, time
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
signum, delay, target, wait = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
    p = subprocess.Popen(sys.argv[5:], stdout=out, stderr=err, start_new_session=True)
    time.sleep(delay)
    (os.killpg if target == "group" else os.kill)(p.pid, signum)
    rc = p.wait(timeout=120)
    out.seek(0), err.seek(0)
    stdout, stderr = out.read(), err.read()

def alarm(*_):
    raise TimeoutError
signal.signal(signal.SIGALRM, alarm)
signal.alarm(wait)
try:
    while True:
        os.waitpid(-1, 0)  # an orphan that exits is reaped here; none left: ChildProcessError
except (ChildProcessError, TimeoutError):
    pass
signal.alarm(0)
me, left = os.getpid(), []
for entry in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open(f"/proc/{entry}/stat") as f:
            state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
    except OSError:
        continue
    if int(ppid) == me and state != "Z":
        left.append(int(entry))
said = {}
for pid in left:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            said[pid] = f.read().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        pass
    os.kill(pid, signal.SIGKILL)
print(json.dumps({"rc": rc, "stdout": stdout, "stderr": stderr, "left": left, "left_were": said}))
"""

TICKETS = 100
RUN = ["--tickets", TICKETS, "--until-sold-out", "--schedule", "free", "--think", "20", "-q"]
# 200 buyers; on a server one connection each must fit its max_connections (100 on the test server)
BUYERS = {"db.json": 200, "sqlite": 200, "postgresql": 60}


def watched(
    tmp_path: Path, signum: int, delay: float, target: str, *args: str | int | Path, wait: int = 5
) -> dict[str, Any]:
    argv = [sys.executable, "-m", "booking", *map(str, args)]
    proc = subprocess.run(
        [sys.executable, "-c", WATCHER, str(int(signum)), str(delay), target, str(wait), *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def store_of(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "db.json":
        return str(tmp_path / "db.json")
    if kind == "sqlite":
        return str(tmp_path / "t.db")
    return str(request.getfixturevalue("postgresql_url"))


def interrupt(tmp_path: Path, store: str, signum: int, delay: float, target: str) -> None:
    """One run of 200 buyers, interrupted: every promise of item 1 checked."""
    init_store(store, TICKETS)
    history = tmp_path / f"run-{signum}-{delay:.2f}.jsonl"
    buyers = BUYERS["postgresql" if "://" in store else "sqlite" if store.endswith(".db") else "db.json"]
    args = ["simulate", "--store", store, "--buyers", buyers, *RUN, "--history", history]
    ran = watched(tmp_path, signum, delay, target, *args)
    where = f"{signal.Signals(signum).name} at {delay:.2f} s to the {target}: {ran}"
    assert ran["left"] == [], f"processes outlived the run ({where})"
    assert ran["rc"] == 128 + signum, where
    assert "Traceback" not in ran["stderr"] + ran["stdout"], where
    assert len(ran["stderr"].splitlines()) == 1, where
    assert ran["stderr"].startswith(f"booking: interrupted by {signal.Signals(signum).name}"), where
    if history.exists():  # kept: it agrees with the store (stopped buyers may hold a sale nobody saw)
        assert "history kept in" in ran["stderr"], where
        v = verify_run(store, history, TICKETS).to_json()
        assert (v["oversold"], v["double_sold"], v["lost_updates"], v["unreceipted"]) == (0, 0, 0, 0), where
    else:  # stopped before the buyers started (or while Python was starting): nothing to keep
        assert "history kept" not in ran["stderr"], where
    if store.endswith(".db"):
        with sqlite3.connect(store) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize(
    ("kind", "signum", "delay", "target"),
    [
        ("db.json", signal.SIGTERM, 2.5, "parent"),  # the repro: 75 orphans selling on
        ("sqlite", signal.SIGINT, 1.5, "group"),  # a terminal's Ctrl-C: one line, not a traceback per buyer
        ("postgresql", signal.SIGHUP, 1.5, "parent"),
        ("db.json", signal.SIGINT, 0.3, "parent"),  # early: the buyers are still starting
    ],
    ids=["db.json-TERM", "sqlite-INT-group", "postgresql-HUP", "db.json-INT-early"],
)
def test_an_interrupted_run_leaves_no_process_and_one_line(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str, signum: int, delay: float, target: str
) -> None:
    interrupt(tmp_path, store_of(kind, tmp_path, request), signum, delay, target)


OWN_TABLES = ["--purchase", "booking.examples.orm:fixed_buy", "--setup", "booking.examples.orm:setup",
              "--stock", "booking.examples.orm:stock"]  # fmt: skip


@pytest.mark.parametrize(
    ("signum", "target", "purchase"),
    [
        (signal.SIGTERM, "parent", ["--purchase", "booking.examples.optimistic:honest_buy"]),
        (signal.SIGINT, "group", OWN_TABLES),  # and the child kept for --setup and --stock
    ],
    ids=["TERM", "INT-group-own-tables"],
)
def test_an_interrupted_search_leaves_no_warm_buyer(tmp_path: Path, signum: int, target: str, purchase: Any) -> None:
    """A search keeps its buyers between schedules: a signal in the middle of it ends them all, with one
    line and 128 + the signal."""
    store = f"sqlite:///{tmp_path / 't.db'}"
    search = [*purchase, "--buyers", 4, "--tickets", 4, "--schedule", "exhaustive", "--runs", 100_000, "-q"]
    args = ["simulate", "--store", store, *search]
    ran = watched(tmp_path, signum, 3.0, target, *args)
    where = f"{signal.Signals(signum).name} to the {target}: {ran}"
    assert ran["left"] == [], f"processes outlived the search ({where})"
    assert ran["rc"] == 128 + signum and "Traceback" not in ran["stderr"] + ran["stdout"], where
    assert len(ran["stderr"].splitlines()) == 1, where


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(30))
def test_signals_at_random_moments(tmp_path: Path, request: pytest.FixtureRequest, trial: int) -> None:
    """30 runs: a random store, signal, moment and target; the same promises every time."""
    rng = random.Random(trial)
    kind = ("db.json", "sqlite", "postgresql")[trial % 3]
    signum = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
    # From 0.1 s: before that the signal may land while the interpreter itself starts, before booking's
    # first line can take signals over (Python's own KeyboardInterrupt traceback; 0.03 s did, on a
    # loaded machine). booking's package import is kept small so that window is the interpreter's.
    moment = rng.uniform(0.1, 3.0)
    interrupt(tmp_path, store_of(kind, tmp_path, request), signum, moment, rng.choice(["parent", "group"]))


@pytest.mark.parametrize("delay", [pytest.param(0.3, marks=pytest.mark.slow), 1.5])
def test_buyers_die_with_a_parent_killed_by_sigkill(tmp_path: Path, delay: float) -> None:
    """SIGKILL gives the parent no chance to clean up: the kernel kills its buyers (PR_SET_PDEATHSIG).
    A million tickets: a buyer that escaped would sell on for minutes, far past the watcher's 30 s (which
    a run whose buyers die ends at once), instead of selling out and exiting as if it had died."""
    store = str(tmp_path / "db.json")
    init_store(store, 1_000_000)
    run = ["--tickets", 1_000_000, *RUN[2:]]
    ran = watched(
        tmp_path, signal.SIGKILL, delay, "parent", "simulate", "--store", store, "--buyers", 200, *run, wait=30
    )
    assert ran["rc"] == -signal.SIGKILL
    assert ran["left"] == [], ran
    assert "Traceback" not in ran["stderr"], ran["stderr"]


def test_ctrl_c_through_the_library_is_a_keyboard_interrupt(tmp_path: Path) -> None:
    """simulate() from Python (the race fixture): SIGINT stops the buyers and raises a KeyboardInterrupt
    that carries the run so far, so pytest stops as it does for Ctrl-C; no child is left."""
    import multiprocessing
    import os
    import threading

    from booking import RunConfig, simulate
    from booking.processes.signals import Interrupted

    config = RunConfig(store=str(tmp_path / "db.json"), buyers=50, tickets=100, until_sold_out=True, think_ms=20)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            simulate(config)
    finally:
        timer.cancel()
    assert multiprocessing.active_children() == []
    assert isinstance(caught.value, Interrupted)  # booking's own, with the run so far when buyers had started
    assert caught.value.result is None or caught.value.result.interrupted == "SIGINT"


def test_a_comparison_stopped_by_sigterm_keeps_its_finished_runs(tmp_path: Path) -> None:
    """compare: SIGTERM ends it like Ctrl-C does (the finished runs reported, marked partial), exit 143."""
    args = ["compare", "--stores", tmp_path / "db.json", "--trials", "50", "--buyers", "4", "--format", "json"]
    ran = watched(tmp_path, signal.SIGTERM, 2.0, "parent", *args, "--duration", "0.1")
    assert ran["left"] == [] and ran["rc"] == 143, ran
    assert "interrupted by SIGTERM after" in ran["stderr"] and "Traceback" not in ran["stderr"]
    assert json.loads(ran["stdout"])["partial"].startswith("interrupted by SIGTERM")


def test_a_parent_killed_before_the_death_signal_was_asked_for_is_seen_gone() -> None:
    """A buyer re-parented before it asked for PR_SET_PDEATHSIG finds its old parent a zombie (killed, not
    yet reaped, still answering kill(0)): that is a dead parent, so the buyer exits instead of selling on."""
    import os

    from booking.processes.signals import _orphaned

    child = os.fork()
    if child == 0:
        os._exit(0)
    try:
        with open(f"/proc/{child}/stat", "rb") as stat:  # exited, not reaped: a zombie
            while stat.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                os.sched_yield()
                stat.seek(0)
        os.kill(child, 0)  # the kernel still answers for it
        assert _orphaned(child)  # this process's parent is not `child`: re-parented, and the old one is dead
        assert not _orphaned(os.getppid())
    finally:
        os.waitpid(child, 0)


class _SignalsItselfWhenCollected:
    """An object whose finalizer is where the signal lands (an import's module lock has a weakref
    callback that runs at such moments): the interpreter swallows what a finalizer raises."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(1000):  # bytecode after the kill: the handler runs here, inside the finalizer
            pass


def test_a_signal_swallowed_by_a_finalizer_is_neither_printed_nor_lost(capfd: pytest.CaptureFixture[str]) -> None:
    from booking.processes import signals

    with pytest.raises(signals.Interrupted) as caught, signals.interruptible():
        _SignalsItselfWhenCollected()  # collected at once: the finalizer runs inside the block
    assert caught.value.signum == signal.SIGHUP
    assert "Traceback" not in capfd.readouterr().err


def test_a_swallowed_signal_that_was_acted_on_is_not_raised_again() -> None:
    """The command saw the signal (`pending()`) and stopped by its own exception: only that one surfaces."""
    from booking.processes import signals

    with pytest.raises(signals.Interrupted, match="stopped here") as caught, signals.interruptible():
        _SignalsItselfWhenCollected()
        assert signals.pending() == signal.SIGHUP
        raise signals.interrupted(signal.SIGHUP, "stopped here")
    assert caught.value.signum == signal.SIGHUP
