"""Locks around the notes' read-check-write: none, the notes' multiprocessing.Lock, a file lock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial

from booking import points
from booking.strategies.base import ANY_STORE, BuyerContext, LockTimeout, Needs, StrategyInfo, read_then_write

# filelock polls (sleeps between tries); its 50 ms default makes waiters wake on a timer long after
# the lock is free. 1 ms keeps the handover short without spinning two cores.
FILELOCK_POLL_S = 0.001


@contextlib.contextmanager
def _mp_lock(ctx: BuyerContext) -> Iterator[None]:
    made = ctx.made
    # With a deadline: a multiprocessing.Lock whose holder died is never released.
    if not made.mp_lock.acquire(timeout=ctx.time_left()):
        raise LockTimeout(
            "multiprocessing.Lock not acquired before the deadline (a holder that dies never releases it)"
        )
    # Who holds it, so the parent can tell an abandoned lock from a slow one when a buyer dies.
    made.mp_holder.value = ctx.holder or ctx.buyer
    try:
        yield
    finally:
        made.mp_holder.value = 0
        made.mp_lock.release()


def _make_file_lock(ctx: BuyerContext) -> None:
    import filelock  # here, not at the top: db.json runs without file-lock need not pay for it

    # Made in the buyer process: filelock refuses an instance inherited across fork.
    # preserve_lock_file: deleting the lock file on release would split the lock.
    ctx.local["file_lock"] = filelock.FileLock(ctx.made.lock_path or "", preserve_lock_file=True)


@contextlib.contextmanager
def _file_lock(ctx: BuyerContext) -> Iterator[None]:
    import filelock

    if "file_lock" not in ctx.local:
        _make_file_lock(ctx)
    lock = ctx.local["file_lock"]
    try:
        lock.acquire(timeout=ctx.time_left(), poll_interval=FILELOCK_POLL_S)
    except filelock.Timeout:
        raise LockTimeout(f"file lock {ctx.made.lock_path} not acquired before the deadline") from None
    try:
        yield
    finally:
        lock.release()


NONE = StrategyInfo(
    "none",
    "no protection: read, then write (the race itself)",
    "nothing",
    ANY_STORE,
    safe=False,
    window=points.AFTER_READ,
    purchase=partial(read_then_write, guard=None),
)
MP_LOCK = StrategyInfo(
    "mp-lock",
    "multiprocessing.Lock from the parent around read-check-write (the notes' mutex)",
    "one process tree",
    ANY_STORE,
    safe=True,
    window=points.BEFORE_LOCK,
    purchase=partial(read_then_write, guard=_mp_lock),
    needs=Needs(mp_lock=True),
)
FILE_LOCK = StrategyInfo(
    "file-lock",
    "filelock.FileLock on a lock file beside the store around read-check-write",
    "one host",
    ANY_STORE,
    safe=True,
    window=points.BEFORE_LOCK,
    purchase=partial(read_then_write, guard=_file_lock),
    needs=Needs(lock_file=True),
    setup=_make_file_lock,
    imports=("filelock",),  # 60 ms per buyer when each imports it after the fork
)
LOCKS = (NONE, MP_LOCK, FILE_LOCK)
