"""Points your code did not write: a hold before each SQL statement it runs.

A connection from `booking.connect(store)` (and a SQLAlchemy engine given to `booking.auto_points`, or
every engine with --auto-points) says each statement here before running it. In a buyer, the purchase
call listens (`listening`): the schedule may hold the buyer there, in lockstep and in search, so a
read-then-write with no point() is raced at statement granularity. Outside a buyer nobody listens and a
statement costs one function call.

Never inside a critical section: no hold while the connection holds locks, as far as its statements
show (after BEGIN IMMEDIATE or EXCLUSIVE, a write or a locking read inside a transaction, until COMMIT or
ROLLBACK), so a buyer holding a lock never waits at the barrier for buyers blocked on that lock. And
explicit points take precedence: a statement right after your own point() is held there, not again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from booking.kit.points import statement_point

ENDS = ("COMMIT", "ROLLBACK", "END", "RELEASE")  # release locks: never held before
WRITES = ("UPDATE", "INSERT", "DELETE", "REPLACE", "MERGE", "LOCK")
LOCKING_READS = ("FOR UPDATE", "FOR SHARE", "FOR NO KEY UPDATE", "LOCK IN SHARE MODE")

_listener: Statements | None = None


def statement(sql: str, in_transaction: bool = False) -> None:
    """About to run `sql` (`in_transaction`: the driver began one itself, as SQLAlchemy does)."""
    if _listener is not None:
        _listener.before(str(sql), in_transaction)


def transaction_ended() -> None:
    """The driver committed or rolled back without a statement (SQLAlchemy's commit()): locks are gone."""
    if _listener is not None:
        _listener.ended()


def auto_points(engine: Any = None) -> Any:
    """Hold a SQLAlchemy engine's statements as points, through its before_cursor_execute event (every
    engine when None: --auto-points). Returns the engine, so `engine = booking.auto_points(create_engine(url))`
    reads as one line. Outside a buyer it costs a function call per statement."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    target = Engine if engine is None else engine
    if not event.contains(target, "before_cursor_execute", _before_cursor_execute):
        event.listen(target, "before_cursor_execute", _before_cursor_execute)
        event.listen(target, "commit", _ended)
        event.listen(target, "rollback", _ended)
    return engine


def _before_cursor_execute(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
    statement(sql, in_transaction=conn.in_transaction())


def _ended(conn: Any) -> None:
    transaction_ended()


@contextlib.contextmanager
def listening(hold: Callable[[str], None], ending: Callable[[], None] = lambda: None) -> Iterator[Statements]:
    """While your purchase runs: each statement may be held at the point `hold(name)`; `ending()` is told
    as a COMMIT or ROLLBACK begins (the locks go when it ends)."""
    global _listener
    tracker = Statements(hold, ending)
    _listener = tracker
    try:
        yield tracker
    finally:
        _listener = None


class Statements:
    """Which statements are holds: not while locks are held, not right after an explicit point."""

    def __init__(self, hold: Callable[[str], None], ending: Callable[[], None] = lambda: None) -> None:
        self._hold = hold
        self._ending = ending
        self._in_transaction = False
        self._locked = False
        self.covered = False  # the next statement follows an explicit point: already held there
        self.held: list[str] = []  # the statement points this call was held at, in order

    def before(self, sql: str, in_transaction: bool = False) -> None:
        text = sql.strip()
        if not text or text.startswith("--"):  # SQLite traces a trigger's body as a comment
            return
        verb = text.split(None, 1)[0].upper()
        free = not (self._locked or self.covered or verb in ENDS)
        self.covered = False
        self._track(verb, text.upper(), in_transaction)
        if free:
            name = statement_point(text)
            self.held.append(name)
            self._hold(name)

    def _track(self, verb: str, upper: str, in_transaction: bool) -> None:
        """The connection's state after this statement: in a transaction, holding locks."""
        if verb in ENDS:
            self._in_transaction = self._locked = False
            self._ending()
            return
        if verb in ("BEGIN", "START"):
            self._in_transaction = True
            self._locked = "IMMEDIATE" in upper or "EXCLUSIVE" in upper
            return
        inside = self._in_transaction or in_transaction
        if inside and (verb in WRITES or any(lock in upper for lock in LOCKING_READS)):
            self._locked = True

    def ended(self) -> None:
        """The driver committed or rolled back by itself (SQLAlchemy's commit): no lock is held now."""
        self._in_transaction = self._locked = False
