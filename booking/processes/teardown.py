"""The one way a run ends its children: wait for them with a deadline, then terminate, then kill."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

KILL_WAIT_S = 1.0  # after terminate(): how long a child gets before SIGKILL


def stop(procs: Sequence[BaseProcess], grace: float) -> list[BaseProcess]:
    """Wait up to `grace` seconds for `procs` to exit, then stop the rest; returns those that had to be stopped.

    Waits on the processes' sentinels (an event, not a poll); no child is left running, or a zombie.
    """
    until = time.monotonic() + grace
    running = [p for p in procs if p.exitcode is None]
    while running and time.monotonic() < until:
        wait([p.sentinel for p in running], timeout=max(until - time.monotonic(), 0.0))
        running = [p for p in running if p.exitcode is None]
    for p in running:
        p.terminate()
    for p in running:
        p.join(timeout=KILL_WAIT_S)
        if p.is_alive():
            p.kill()
            p.join(timeout=KILL_WAIT_S)
    for p in procs:
        p.join(timeout=0)  # reap the ones that exited by themselves
    return running


def stop_helpers() -> None:
    """At the command's exit: stop the helper processes multiprocessing starts for spawn and forkserver
    (its fork server and its resource tracker), so that none outlives the command. Left alone they end a
    moment later, when they read the end of its pipe. Their `_stop()` (what CPython's own tests call,
    3.8 and later) closes the pipe and waits; first the garbage that still holds a semaphore is collected,
    so the tracker has nothing left to clean up. A Python without `_stop` leaves them to end by themselves."""
    import gc
    from multiprocessing import forkserver, resource_tracker

    gc.collect()
    for helper in (getattr(forkserver, "_forkserver", None), getattr(resource_tracker, "_resource_tracker", None)):
        stop = getattr(helper, "_stop", None)
        if stop is not None:
            stop()


PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def adopt_orphans() -> bool:
    """Make this process the subreaper of everything it starts (Linux): a descendant whose parent exits,
    even one that left for a session of its own (setsid), becomes this process's child, not init's; so
    `end_descendants` can find every one. False where the kernel has no such thing."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    return bool(ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def end_descendants() -> None:
    """SIGKILL every process below this one (what your purchase code forked, at any depth) and reap them:
    none outlives the buyer that started it, and none keeps the run's pipes, or its caller, waiting."""
    while True:
        below = _descendants(os.getpid())
        for pid in below:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)  # one reaped; orphans of the killed come to this subreaper: look again
        except ChildProcessError:
            return


def _descendants(root: int) -> list[int]:
    """The pids below `root`: each process's own list of children (/proc/PID/task/TID/children, one read
    per process below), else a scan of every process's parent link. The scan reads a file per process on
    the machine: ~7 ms of every buyer's exit on an idle machine, and more the busier it is."""
    try:
        return _walk_children(root)
    except OSError:
        return _scan_parents(root)


def _walk_children(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            if pid == root:
                raise
            continue  # gone meanwhile: its children, if any, come to this subreaper
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    below = [int(c) for c in f.read().split()]
            except FileNotFoundError:
                if pid == root:
                    raise  # no such file on this kernel (CONFIG_PROC_CHILDREN): scan instead
                continue
            found.extend(below)
            todo.extend(below)
    return found


def _scan_parents(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])  # after "(comm)": state, then ppid
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
