"""How a buyer sends its Attempt records to the parent: in batches, at most FLUSH_S late.

One multiprocessing.Queue.put per attempt cost ~40 us here (a wake-up of the queue's feeder
thread, a pipe write and a wake-up of the parent for every record): more than a whole SQLite
purchase. A batch is a list of Attempts; the parent takes both lists and single records.
"""

from __future__ import annotations

import threading
from typing import Any

from booking.history import Attempt

FLUSH_S = 0.01  # a record reaches the parent at most this late; a buyer killed by SIGKILL loses at most this
BATCH_MAX = 256


class Reporter:
    """Collects a buyer's records and sends them in batches from a small thread."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        self._pending: list[Attempt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # Started lazily, in the buyer process (threads do not survive fork).
        self._thread: threading.Thread | None = None

    def put(self, record: Attempt) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="booking-reporter", daemon=True)
            self._thread.start()
        with self._lock:
            self._pending.append(record)
            full = len(self._pending) >= BATCH_MAX
        if full:
            self.flush()

    def flush(self) -> None:
        # put() under the lock: the thread's batch and close()'s last batch reach the queue in order.
        with self._lock:
            batch, self._pending = self._pending, []
            if batch:
                self._queue.put(batch)

    def close(self) -> None:
        """Send everything still pending (before the buyer says it is done)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_S):
            self.flush()
