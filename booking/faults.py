"""Fault injection: a buyer killed with SIGKILL at a chosen point of its purchase.

The buyer does not kill itself. At the armed point it sends everything it has to report, lets go
of the report queue (whose writers share a lock: a process killed holding it would silence every
other buyer), says it is ready on a semaphore of its own, and holds still; the parent kills it.
So the kill lands exactly at the point, holding whatever the buyer holds there.
"""

from __future__ import annotations

import time
from collections.abc import Callable

AFTER_READ = "after-read"  # the read is done, the write not begun
IN_CRITICAL = "in-critical"  # just inside the critical section: the lock or the transaction is held
BEFORE_COMMIT = "before-commit"  # the write is ready: db.json's temporary file written, SQL before COMMIT
MID_WRITE = "mid-write"  # half written: db.json's temporary file half full; SQL between UPDATE and ledger INSERT
KILL_POINTS = (AFTER_READ, IN_CRITICAL, BEFORE_COMMIT, MID_WRITE)

_armed: str | None = None
_on_hit: Callable[[str], None] | None = None


def arm(point: str | None, on_hit: Callable[[str], None] | None = None) -> None:
    """In a buyer process: die at `point` (None: disarm)."""
    global _armed, _on_hit
    _armed, _on_hit = point, on_hit


def hit(point: str) -> None:
    """Called by strategies and stores as they pass `point`; returns unless this is the armed one."""
    if _armed is None or point != _armed or _on_hit is None:
        return
    on_hit = _on_hit
    arm(None)  # once
    on_hit(point)


def wait_to_be_killed(deadline: float) -> None:
    """Hold still until the parent's SIGKILL arrives (bounded: past the deadline, carry on)."""
    while time.monotonic() < deadline + 5:
        time.sleep(0.05)
