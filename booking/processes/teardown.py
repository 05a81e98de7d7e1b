"""The one way a run ends its children: wait for them with a deadline, then terminate, then kill."""

from __future__ import annotations

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
