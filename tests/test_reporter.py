"""A buyer's records reach the parent in batches, on time, and all of them before it says it is done."""

from __future__ import annotations

import multiprocessing

from booking.history import Attempt, Outcome
from booking.reporter import BATCH_MAX, Reporter


class TestReporter:
    def test_a_record_arrives_without_close(self) -> None:
        """A buyer stuck after an attempt (at a barrier, on a lock) has still reported that attempt."""
        queue = multiprocessing.get_context("fork").Queue()
        reporter = Reporter(queue)
        reporter.put(Attempt(1, 0, Outcome.OK, ticket=1))
        batch = queue.get(timeout=5)  # the flusher thread sends it; nobody called close()
        assert [(a.buyer, a.ticket) for a in batch] == [(1, 1)]
        reporter.close()

    def test_close_sends_everything_in_order(self) -> None:
        queue = multiprocessing.get_context("fork").Queue()
        reporter = Reporter(queue)
        for n in range(BATCH_MAX * 2 + 7):
            reporter.put(Attempt(1, n, Outcome.OK, ticket=n))
        reporter.close()
        queue.put("done")
        received = []
        while (message := queue.get(timeout=5)) != "done":
            received.extend(message)
        assert [a.attempt for a in received] == list(range(BATCH_MAX * 2 + 7))
