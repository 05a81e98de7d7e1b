"""A buyer's records reach the parent in batches, on time, and all of them before it says it is done."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from booking.history import Attempt, Outcome, field_values
from booking.processes.messages import Channel, Message, Records
from booking.processes.reporter import BATCH_MAX, Reporter


def _channel() -> Channel:
    return Channel(multiprocessing.get_context("fork"))


def _attempts(message: Message) -> list[Attempt]:
    assert isinstance(message, Records), message
    return message.attempts()


class TestReporter:
    def test_a_first_record_is_sent_at_once(self) -> None:
        """A one-attempt buyer's record is on the channel before the buyer does anything else."""
        channel = _channel()
        Reporter(channel).put(Attempt(1, 0, Outcome.OK, ticket=1))
        assert channel.reader.poll(5)
        (batch,) = channel.receive()
        assert isinstance(batch, Records) and [(a.buyer, a.ticket) for a in batch.attempts()] == [(1, 1)]

    def test_a_later_record_arrives_without_close(self) -> None:
        """A buyer stuck after an attempt (at a barrier, on a lock) has still reported that attempt."""
        channel = _channel()
        reporter = Reporter(channel)
        reporter.put(Attempt(1, 0, Outcome.OK, ticket=1))
        reporter.put(Attempt(1, 1, Outcome.OK, ticket=2))
        received: list[Attempt] = []
        while len(received) < 2 and channel.reader.poll(5):  # the flusher thread sends it; nobody called close()
            for batch in channel.receive():
                received.extend(_attempts(batch))
        assert [a.ticket for a in received] == [1, 2]
        reporter.close()

    def test_closed_twice_the_thread_stops_and_nothing_is_lost(self) -> None:
        """A buyer about to be killed closes its reporter, then closes it again on its way out."""
        channel = _channel()
        reporter = Reporter(channel)
        for n in range(3):
            reporter.put(Attempt(1, n, Outcome.OK, ticket=n))
        reporter.close()
        reporter.close()
        assert reporter._thread is not None and not reporter._thread.is_alive()
        received: list[Attempt] = []
        while channel.reader.poll(0):
            for batch in channel.receive():
                received.extend(_attempts(batch))
        assert [a.attempt for a in received] == [0, 1, 2]

    def test_close_sends_everything_in_order(self) -> None:
        """Batches larger than one atomic write are split, and still arrive whole and in order."""
        channel = _channel()
        received: list[Attempt] = []

        def read() -> None:  # the parent reads while buyers write: more than a pipe's buffer may be sent
            while True:
                for message in channel.receive():
                    if message == "done":
                        return
                    received.extend(_attempts(message))

        reader = threading.Thread(target=read)
        reader.start()
        reporter = Reporter(channel)
        for n in range(BATCH_MAX * 2 + 7):
            reporter.put(Attempt(1, n, Outcome.OK, ticket=n, error="x" * 200))
        reporter.close()
        channel.send("done")  # type: ignore[arg-type]
        reader.join(timeout=30)
        assert not reader.is_alive()
        assert [a.attempt for a in received] == list(range(BATCH_MAX * 2 + 7))


class TestWire:
    def test_a_record_crosses_the_pipe_whole_and_small(self) -> None:
        """Pickled as its fields' values: every field comes back, its outcome the same member, in ~100 bytes."""
        from multiprocessing.reduction import ForkingPickler

        record = Attempt(3, 7, Outcome.OK, ticket=9, read=9, wrote=8, t_start=0.5, t_window=0.6, t_end=0.7, tries=1)
        record.statements.append((0.55, "sql: SELECT 1"))
        back = ForkingPickler.loads(ForkingPickler.dumps(record))
        assert back == record and back.outcome is Outcome.OK and back.statements is not record.statements
        plain = [Attempt(1, n, Outcome.OK, ticket=n, t_start=n, t_end=n) for n in range(20)]
        assert len(ForkingPickler.dumps(plain)) < 20 * 120

    def test_a_batch_crosses_as_plain_values(self) -> None:
        """A buyer's batch is the records' values (pickled without a call into Python per record); the
        parent gets back every record whole."""
        channel = _channel()
        record = Attempt(3, 7, Outcome.OK, ticket=9, read=9, wrote=8, t_start=0.5, t_window=0.6, t_end=0.7, tries=1)
        channel.send(Records([field_values(record)]))
        (batch,) = channel.receive()
        assert _attempts(batch) == [record]

    def test_a_batch_too_big_for_one_write_is_pickled_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """After its first batch, a buyer cuts a batch to what fits before pickling it, not after."""
        import pickle

        channel = _channel()
        pickled: list[int] = []
        dumps = pickle.dumps

        def counting(obj: object, protocol: int | None = None) -> bytes:
            pickled.append(len(obj.values) if isinstance(obj, Records) else 1)
            return dumps(obj, protocol)

        values = [field_values(Attempt(1, n, Outcome.OK, ticket=n, t_start=n, t_end=n)) for n in range(150)]
        received: list[Attempt] = []

        def read() -> None:  # 150 records are more than a pipe's buffer: the parent reads as they come
            while len(received) < 1 + len(values):
                for batch in channel.receive():
                    received.extend(_attempts(batch))

        reader = threading.Thread(target=read)
        reader.start()
        channel.send(Records(values[:1]))
        monkeypatch.setattr(pickle, "dumps", counting)
        channel.send(Records(values))
        reader.join(timeout=30)
        assert [a.attempt for a in received[1:]] == list(range(150))
        assert sum(pickled) == len(values) and len(pickled) > 1  # in pieces, each record pickled once

    def test_a_read_that_stops_inside_a_message_keeps_its_start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The parent reads everything there in one read and cuts it into messages; a read cut short
        (more in the pipe than it asked for) keeps the start of the last message for the next read."""
        import booking.processes.messages as messages

        channel = _channel()
        values = [field_values(Attempt(1, n, Outcome.OK, ticket=n)) for n in range(3)]
        for n in range(3):
            channel.send(Records(values[n : n + 1]))
        monkeypatch.setattr(messages, "READ_BYTES", 200)  # about one and a half of these messages
        received: list[Attempt] = []
        while channel.reader.poll(0):
            for batch in channel.receive():
                received.extend(_attempts(batch))
        assert [a.attempt for a in received] == [0, 1, 2]
