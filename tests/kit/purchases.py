"""Purchase functions that misbehave the way real code does, for the kit's own tests (SQLite, booking's schema).

Each is called in a buyer process as function(store, buyer, point).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from typing import Any

FIRST_FREE = "SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"
LEDGER = "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (?, ?, ?)"
STAGGER_S = 0.5  # buyer k's first call takes k times this, or $BOOKING_TEST_STAGGER_S when set


def _stagger_s() -> float:
    """Read when called: a forked buyer sees the variable its test set, as a spawned one does at import."""
    return float(os.environ.get("BOOKING_TEST_STAGGER_S", STAGGER_S))


_warm = False


def _connect(store: str) -> sqlite3.Connection:
    return sqlite3.connect(store.removeprefix("sqlite:///"), timeout=30, isolation_level=None)


def _first_call(buyer: int) -> None:
    """A loaded host, an ORM's first query: buyer k's first call is k x the stagger late, before its read."""
    global _warm
    if not _warm:
        time.sleep(buyer * _stagger_s())
        _warm = True


def slow_racy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    _first_call(buyer)
    db = _connect(store)
    try:
        row = db.execute(FIRST_FREE).fetchone()
        point("after-read")
        if row is None:
            return None
        db.execute("UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ?", (buyer, row[0]))
        db.execute(LEDGER, (row[0], buyer, time.time()))
        return int(row[0])
    finally:
        db.close()


def slow_fixed(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    _first_call(buyer)
    return _conditional_buy(store, buyer, point)


def _conditional_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """Correct: read a free ticket, then take it only if it is still free (a conditional UPDATE)."""
    db = _connect(store)
    try:
        while True:
            row = db.execute(FIRST_FREE).fetchone()
            point("after-read")
            if row is None:
                return None
            db.execute("BEGIN IMMEDIATE")
            taken = db.execute(
                "UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ? AND sold_to IS NULL",
                (buyer, row[0]),
            ).rowcount
            if taken:
                db.execute(LEDGER, (row[0], buyer, time.time()))
            db.execute("COMMIT")
            if taken:
                return int(row[0])
    finally:
        db.close()


def racy_without_point(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """Read, then write, and never says where its race window is."""
    db = _connect(store)
    try:
        row = db.execute(FIRST_FREE).fetchone()
        if row is None:
            return None
        db.execute("UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ?", (buyer, row[0]))
        db.execute(LEDGER, (row[0], buyer, time.time()))
        return int(row[0])
    finally:
        db.close()


def locked_before_point(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """Correct: takes the write lock, then reads; its point is inside the lock, so the others block before it."""
    db = _connect(store)
    try:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(FIRST_FREE).fetchone()
        point("after-read")
        if row is None:
            db.execute("COMMIT")
            return None
        db.execute("UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ?", (buyer, row[0]))
        db.execute(LEDGER, (row[0], buyer, time.time()))
        db.execute("COMMIT")
        return int(row[0])
    finally:
        db.close()


def warm_up(store: str) -> None:
    """A prepare hook: the slow first-call cost, paid before the start barrier (staggered by process)."""
    global _warm
    time.sleep((os.getpid() % 4 + 1) * _stagger_s())
    _connect(store).execute(FIRST_FREE).fetchone()
    _warm = True


def always_declines(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    import booking

    point("after-read")
    raise booking.Declined("lost the race (always)")


def two_arguments(store: str, buyer: int) -> int | None:
    return None


def with_option(store: str, buyer: int, point: Callable[[str], None], option: str) -> int | None:
    return slow_fixed(store, buyer, point) if option else None


class Shop:
    def buy(self, store: str, buyer: int, point: Callable[[str], None]) -> int | None:
        return slow_fixed(store, buyer, point)


SHOP = Shop()


def broken(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    point("after-read")
    raise RuntimeError("the shop is closed")


SEEN: Any = None  # a multiprocessing Event the test makes before a forked run (waits_to_be_seen)


def waits_to_be_seen(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """Passes after-read, then waits until whoever watches the run has seen it (sets SEEN): it buys only
    if its point reached the parent while it was still running (live output), never if the run were
    told only at the end. Forked buyers only: SEEN is inherited."""
    point("after-read")
    if not SEEN.wait(timeout=30):
        raise RuntimeError("the watcher never heard this buyer's read")
    return buyer


def pid_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """A correct purchase (a conditional UPDATE) that first writes its process id, one a line, to the file
    $BOOKING_TEST_PIDS names (which processes bought, across the runs of a search), then takes
    $BOOKING_TEST_SLEEP_S seconds (0 when unset) before its read: a search that outlives its deadline."""
    with open(os.environ["BOOKING_TEST_PIDS"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\n")
    time.sleep(float(os.environ.get("BOOKING_TEST_SLEEP_S", "0")))
    return _conditional_buy(store, buyer, point)


def logged_setup(store: str, tickets: int) -> None:
    """The ORM example's --setup, first writing its process id to $BOOKING_TEST_SETUP_PIDS."""
    from booking.examples import orm

    with open(os.environ["BOOKING_TEST_SETUP_PIDS"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\n")
    orm.setup(store, tickets)


def stuck_stock(store: str) -> int:
    """A --stock that writes its process id to $BOOKING_TEST_SETUP_PIDS, then never answers."""
    import threading

    with open(os.environ["BOOKING_TEST_SETUP_PIDS"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\n")
    threading.Event().wait()
    return 0
