"""Purchase functions on db.json ({"count": N}), the notes' store. A ticket is the count decremented."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable


def _read(path: str) -> int:
    with open(path, encoding="utf-8") as src:
        return int(json.load(src)["count"])


def _write(path: str, count: int) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump({"count": count}, out)
    os.replace(tmp, path)


def racy_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """The notes' get() without the mutex: read, (window), write read-1."""
    count = _read(store)
    point("after-read")  # the race window: another buyer may read the same count here
    if count <= 0:
        return None
    _write(store, count - 1)
    return count


def fixed_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """The same purchase, with the read-check-write under an flock on a lock file beside the store."""
    point("after-read")  # where the racy twin's window is; nothing here depends on an earlier read
    with open(store + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the kernel even if this process dies
        point("in-critical")  # inside the lock: where --kill-at in-critical kills a buyer
        count = _read(store)
        if count <= 0:
            return None
        point("before-commit")  # the new count is decided, not yet written
        _write(store, count - 1)
        return count
