"""A buyer's records reach the parent in batches, on time, and all of them before it says it is done."""

from __future__ import annotations

import multiprocessing

from booking.history import Attempt, Outcome
from booking.processes.messages import Channel
from booking.processes.reporter import BATCH_MAX, Reporter


def _channel() -> Channel:
    return Channel(multiprocessing.get_context("fork"))


class TestReporter:
    def test_a_first_record_is_sent_at_once(self) -> None:
        """A one-attempt buyer's record is on the channel before the buyer does anything else."""
        channel = _channel()
        Reporter(channel).put(Attempt(1, 0, Outcome.OK, ticket=1))
        assert channel.reader.poll(5)
        assert [(a.buyer, a.ticket) for a in channel.receive()[0]] == [(1, 1)]  # type: ignore[union-attr]

    def test_a_later_record_arrives_without_close(self) -> None:
        """A buyer stuck after an attempt (at a barrier, on a lock) has still reported that attempt."""
        channel = _channel()
        reporter = Reporter(channel)
        reporter.put(Attempt(1, 0, Outcome.OK, ticket=1))
        reporter.put(Attempt(1, 1, Outcome.OK, ticket=2))
        received: list[Attempt] = []
        while len(received) < 2 and channel.reader.poll(5):  # the flusher thread sends it; nobody called close()
            for batch in channel.receive():
                received.extend(batch)  # type: ignore[arg-type]
        assert [a.ticket for a in received] == [1, 2]
        reporter.close()

    def test_close_sends_everything_in_order(self) -> None:
        channel = _channel()
        reporter = Reporter(channel)
        for n in range(BATCH_MAX * 2 + 7):
            reporter.put(Attempt(1, n, Outcome.OK, ticket=n))
        reporter.close()
        channel.send("done")  # type: ignore[arg-type]
        received: list[Attempt] = []
        while (message := channel.receive()) != ["done"]:
            for batch in message:
                if batch == "done":
                    break
                received.extend(batch)  # type: ignore[arg-type]
            else:
                continue
            break
        assert [a.attempt for a in received] == list(range(BATCH_MAX * 2 + 7))
