"""The named points a purchase passes through, and the one hook that fires at them.

A point is where the schedule can hold a buyer (`before-lock`, `after-read`) and where fault
injection can kill a process (`after-read`, `in-critical`, `before-commit`, `mid-write`).
Strategies and stores say `points.hit(NAME)` as they pass one; a buyer or seller process arms
the hook for the point it is to die at. Nothing here imports the rest of booking.
"""

from __future__ import annotations

from collections.abc import Callable

BEFORE_LOCK = "before-lock"  # before the critical section: lockstep holds here when a lock is held across the read
AFTER_READ = "after-read"  # the read is done, the write not begun: the race window
IN_CRITICAL = "in-critical"  # just inside the critical section: the lock or the transaction is held
BEFORE_COMMIT = "before-commit"  # the write is ready: db.json's temporary file written, SQL before COMMIT
MID_WRITE = "mid-write"  # half written: db.json's temporary file half full; SQL between UPDATE and ledger INSERT
AFTER_SALE = "after-sale"  # a broker's seller: the sale committed, the request not yet acknowledged

START = "start"  # the start barrier: started, imported, connected, warmed up; not a point of the purchase

SCHEDULE_POINTS = (BEFORE_LOCK, AFTER_READ)
KILL_POINTS = (AFTER_READ, IN_CRITICAL, BEFORE_COMMIT, MID_WRITE)
SELLER_POINTS = (AFTER_SALE,)  # passed by sellers only, never by a buyer's strategy
CRITICAL_POINTS = (IN_CRITICAL, BEFORE_COMMIT, MID_WRITE)  # inside a critical section: never a barrier

STATEMENT = "sql: "  # a statement point's prefix: "sql: SELECT id FROM tickets ..." (booking.connect's cursors)
STATEMENT_CHARS = 60  # a statement point names this much of its statement


def statement_point(sql: str) -> str:
    """The point before a statement, named by its first words: 'sql: UPDATE tickets SET sold_to = ? ...'."""
    words = " ".join(sql.split())
    return STATEMENT + (words if len(words) <= STATEMENT_CHARS else words[: STATEMENT_CHARS - 4] + " ...")


def is_statement(point: str) -> bool:
    return point.startswith(STATEMENT)


_armed: str | None = None
_on_hit: Callable[[str], None] | None = None
_passed: list[str] = []  # the distinct points this process passed, in order (to say so when a kill missed)


def arm(point: str | None, on_hit: Callable[[str], None] | None = None) -> None:
    """In a buyer or seller process: call `on_hit` when `point` is next passed (None: disarm)."""
    global _armed, _on_hit
    _armed, _on_hit = point, on_hit


def armed() -> str | None:
    return _armed


def passed() -> tuple[str, ...]:
    return tuple(_passed)


def hit(point: str) -> None:
    """Passing `point`: returns at once unless it is the armed one."""
    if point not in _passed:
        _passed.append(point)
    if _armed is None or point != _armed or _on_hit is None:
        return
    on_hit = _on_hit
    arm(None)  # once
    on_hit(point)
