"""Locks around the notes' read-check-write: none, the notes' multiprocessing.Lock, a file lock."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from functools import partial

from booking.i18n.lang import _
from booking.kit import points
from booking.strategies.base import ANY_STORE, BuyerContext, LockTimeout, Needs, StrategyInfo, read_then_write

# filelock polls (sleeps between tries); its 50 ms default makes waiters wake on a timer long after
# the lock is free. A waiter starts at 1 ms and backs off: its interval doubles (with jitter) up to
# 0.5 ms per process that may contend, so the whole crowd tries about 4,000 times a second however
# large it is (a failed try costs ~0.1 ms of CPU: 2,000 waiters at a fixed 1 ms kept two cores busy
# trying, and the holder never got to release).
FILELOCK_POLL_S = 0.001
POLL_PER_CONTENDER_S = 0.0005
POLL_CAP_S = 1.0


@contextlib.contextmanager
def _mp_lock(ctx: BuyerContext) -> Iterator[None]:
    made = ctx.made
    # With a deadline: a multiprocessing.Lock whose holder died is never released.
    if not made.mp_lock.acquire(timeout=ctx.time_left()):
        raise LockTimeout(
            _("multiprocessing.Lock not acquired before the deadline (a holder that dies never releases it)")
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
    # mode 0o666: whoever may use the store may take its lock (stores/locks.py made the file so).
    ctx.local["file_lock"] = filelock.FileLock(ctx.made.lock_path or "", mode=0o666, preserve_lock_file=True)


@contextlib.contextmanager
def _file_lock(ctx: BuyerContext) -> Iterator[None]:
    import filelock

    if "file_lock" not in ctx.local:
        _make_file_lock(ctx)
    lock = ctx.local["file_lock"]
    cap = min(max(FILELOCK_POLL_S, ctx.made.contenders * POLL_PER_CONTENDER_S), POLL_CAP_S)
    interval = FILELOCK_POLL_S
    while True:
        try:
            lock.acquire(blocking=False)
            break
        except filelock.Timeout:
            left = ctx.time_left()
            if left <= 0:
                raise LockTimeout(
                    _("file lock {lock_path} not acquired before the deadline").format(lock_path=ctx.made.lock_path)
                ) from None
            time.sleep(min(random.uniform(interval / 2, interval), left))
            interval = min(interval * 2, cap)
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
