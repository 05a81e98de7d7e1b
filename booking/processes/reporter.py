"""How a buyer sends its Attempt records to the parent: in batches, at most FLUSH_S late.

One message per attempt costs more than a whole SQLite purchase (a pickle, a lock and a pipe write
each, and a wake-up of the parent), so records are collected and sent as one list: when enough are
pending, before the buyer blocks at a schedule point, at the end, and from a small thread every
FLUSH_S, so a buyer that then blocks on a lock for long has still reported what it did. The thread
is started at a buyer's second record: a one-attempt buyer never pays for it.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from booking.history import Attempt, field_values
from booking.processes.messages import Channel, Records

FLUSH_S = 0.01  # a record reaches the parent at most this late; a buyer killed by SIGKILL loses at most this
BATCH_MAX = 256


class Reporter:
    """Collects one buyer's records and sends them in batches on the channel."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        # Appended to by the buyer, taken from the left by a flush: each step is atomic, so put() takes
        # no lock (it runs once per sale).
        self._pending: deque[Attempt] = deque()
        self._sending = threading.Lock()  # one batch on its way at a time: batches leave in order
        # Held until close(): the thread sleeps by trying to take it (one call, not an Event's Condition).
        self._running = threading.Lock()
        self._running.acquire()
        self._closed = False
        self._thread: threading.Thread | None = None  # started in the buyer (threads do not survive fork)
        self._first = True

    def put(self, record: Attempt) -> None:
        self._pending.append(record)
        if self._thread is not None:
            if len(self._pending) >= BATCH_MAX:
                self.flush()
        elif self._first:  # a buyer's first record is sent at once
            self._first = False
            self.flush()
        else:  # its second starts the thread
            self._thread = threading.Thread(target=self._run, name="booking-reporter", daemon=True)
            self._thread.start()

    def flush(self) -> None:
        # Taken and sent under `_sending`, so batches reach the channel in the order they were taken;
        # the purchase path's put() never waits for a send (a full pipe blocks its writer).
        with self._sending:
            pending = self._pending
            batch = [field_values(pending.popleft()) for _ in range(len(pending))]
            if batch:
                self._channel.send(Records(batch))

    def close(self) -> None:
        """Send everything still pending and stop the thread (before the buyer says it is done)."""
        if not self._closed:  # (a buyer about to be killed closes it, then closes it again on its way out)
            self._closed = True
            self._running.release()  # the thread takes it, and stops
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self.flush()

    def _run(self) -> None:
        # Every buyer's thread wakes on the same grid (multiples of FLUSH_S on the host's monotonic clock,
        # which every process shares), so the parent reads the buyers' batches in a few wake-ups instead
        # of one each (8 buyers on 2 cores: about 100 wake-ups a second, not 350). Still at most FLUSH_S.
        while not self._running.acquire(timeout=FLUSH_S - time.monotonic() % FLUSH_S):
            self.flush()
