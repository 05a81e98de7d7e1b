"""The notes' daemon, shown for real (`booking lesson 2`): a parent starts buyers with daemon=True, each
to sleep for a while, and its own code ends at once; multiprocessing then ends its daemon children.

Plain data out (what happened to each buyer); the words are the lesson's.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

SLEEP_S = 5.0  # each buyer's sleep, the notes' time.sleep(): far longer than the parent lives


@dataclass(frozen=True)
class DaemonRun:
    pids: tuple[int, ...]  # the daemon buyers' process ids
    parent_s: float  # how long the parent lived: its code ends right after start()
    alive_after: tuple[int, ...]  # buyers still running once the parent had ended
    finished: int  # buyers that finished their sleep (daemon=True promises nothing of the kind)
    exitcode: int | None  # the parent's


def _plain_signals() -> None:
    """Python's own signal handling, not booking's: a daemon is ended by SIGTERM, as anywhere else."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _buyer(sleep_s: float, done: Connection) -> None:
    _plain_signals()
    time.sleep(sleep_s)
    done.send("finished")  # never reached: the buyer is ended with its parent


def _parent(buyers: int, sleep_s: float, tell: Connection, done: Connection) -> None:
    _plain_signals()
    ctx = multiprocessing.get_context("fork")
    started = []
    for _n in range(buyers):
        p = ctx.Process(target=_buyer, args=(sleep_s, done))
        p.daemon = True  # as in the notes: set before start()
        p.start()
        started.append(p.pid)
    tell.send(started)
    # The parent's code ends here (the notes' print('主')): multiprocessing ends its daemon children.


def run_daemons(buyers: int = 3, sleep_s: float = SLEEP_S) -> DaemonRun:
    """Start a parent that starts `buyers` daemon buyers and ends; report what became of them."""
    ctx = multiprocessing.get_context("fork")
    pids_r, pids_w = ctx.Pipe(duplex=False)
    done_r, done_w = ctx.Pipe(duplex=False)
    t0 = time.monotonic()
    # Not a daemon itself: a daemon may start no children (the notes: 禁止p创建子进程).
    parent = ctx.Process(target=_parent, args=(buyers, sleep_s, pids_w, done_w))
    parent.start()
    pids_w.close()
    done_w.close()
    try:
        pids: list[int] = pids_r.recv() if pids_r.poll(sleep_s) else []
    except EOFError:  # the parent died before it said
        pids = []
    parent.join(sleep_s)  # its end ends its daemon buyers: it waits for them, so this returns before they wake
    parent_s = time.monotonic() - t0
    if parent.is_alive():
        parent.kill()
        parent.join()
    alive = tuple(pid for pid in pids if _alive(pid))
    for pid in alive:  # a parent that failed to end them: they are ended here, never left behind
        os.kill(pid, 9)
    finished = 0
    try:
        while done_r.poll(0):  # every writer is gone: poll says so at once, and recv() raises EOFError
            done_r.recv()
            finished += 1
    except EOFError:
        pass
    return DaemonRun(tuple(pids), parent_s, alive, finished, parent.exitcode)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
