"""What buyers tell the parent, and the channel it travels on.

One channel for every buyer: a pipe the parent reads, and no lock. Every message is sent in one
write(2) of at most PIPE_BUF bytes, which the kernel never interleaves with another writer's, so
2,000 buyers never queue for a shared lock (on an oversubscribed CPU such a lock convoys: its holder
waits behind every runnable buyer). A batch too large for one write is split. A message is sent
synchronously, so once a process has sent it, it is in the pipe even if the process dies next.

A watched run's channel is also *ordered*: every line a person reads (`Progress`, `Released`) is
stamped and sent while its sender holds the channel's one order lock, so the pipe carries those
lines in the order of their times, and the parent, its one reader, prints them as they come. The
lock is held for a clock read and one write: it is the run's sequence, not a queue.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler
from typing import Any

from booking.history import Attempt


@dataclass(frozen=True)
class Records:
    """A buyer's batch of attempts (processes/reporter.py), each as its fields' values: a list of plain
    tuples pickles without a call into Python for each record (a list of Attempts calls __reduce__ for
    each, in the buyer's reporter thread). The parent rebuilds them: `attempts()`."""

    values: list[tuple[Any, ...]]

    def attempts(self) -> list[Attempt]:
        return [Attempt(*v) for v in self.values]


@dataclass(frozen=True)
class Arrive:
    """A buyer is held at a schedule point, waiting for the parent to let it through."""

    buyer: int
    point: str


@dataclass(frozen=True)
class Dying:
    """Fault injection: the buyer reached the point it is to die at, has sent everything, and dies now."""

    buyer: int
    point: str


@dataclass(frozen=True)
class Pausing:
    """Fault injection: the buyer reached the point it is to be paused at, has sent everything, and waits
    on its gate: the parent stops it (SIGSTOP), resumes it (SIGCONT) --pause-ms later, then lets it go."""

    buyer: int
    point: str


@dataclass(frozen=True)
class Done:
    """A buyer's last word: why it did not finish ("" when it did), and a kill it never reached."""

    buyer: int
    unfinished: str = ""
    missed_kill: str | None = None  # the planned kill point this buyer never passed
    points: tuple[str, ...] = ()  # the points it did pass, to say so when a kill was missed
    printed: str = ""  # what your code printed in this buyer (kept for the history)


@dataclass(frozen=True)
class Progress:
    """Live output only: an attempt so far, as its buyer (or the seller working for it) passes `point`."""

    attempt: Attempt
    point: str
    done: bool = False  # the attempt has ended (or a sale is written), said before anyone can see its effect
    t: float | None = None  # when it was said: stamped under the channel's order lock (see Channel.say)


@dataclass(frozen=True)
class Released:
    """Live output only: the sellers' barrier let `together` sellers go (None: not known), its `phase`-th opening."""

    seller: int
    point: str
    phase: int
    together: int | None
    t: float  # seconds since the run started


LINE_TIMES = ("t_start", "t_read", "t_write", "t_end")  # the times a line tells, in the order they are taken


def restamp(attempt: Attempt, t: float, stamped: set[str], done: bool, buyer: bool = True) -> Attempt:
    """Watched: each time taken since the attempt was last said becomes `t`, when it is said (a few
    microseconds later, under the order lock), so its line, its lane and its record tell one time.
    Its end (t_end: 0.0 until then) only once it is `done`. A buyer whose seller read and wrote for it
    (--lock queue) restamps only its own look and end."""
    mine = LINE_TIMES if not buyer or attempt.seller is None else ("t_start", "t_end")
    for name in mine if done else [n for n in mine if n != "t_end"]:
        if name not in stamped and getattr(attempt, name) is not None:
            setattr(attempt, name, t)
            stamped.add(name)
    return attempt


Message = Attempt | Records | Arrive | Dying | Pausing | Done | Progress | Released


RECORDS_PROTOCOL = pickle.DEFAULT_PROTOCOL  # what ForkingPickler.dumps uses
ATOMIC_BYTES = select.PIPE_BUF - 4  # Connection.send_bytes adds a 4-byte length header, in the same write
HEADER = struct.Struct("!i")  # that header (multiprocessing.connection's, for a message under 2 GiB)
READ_BYTES = 1 << 20  # more than a pipe holds (64 KiB by default): one read takes everything there


class Channel:
    """Many writers, one reader (the parent). Made by the parent before the buyers start."""

    ORDER_WAIT_S = 1.0  # a sender waits this long at most for the order lock (its holder may have died)

    def __init__(self, ctx: BaseContext, ordered: bool = False) -> None:
        self.reader, self._writer = ctx.Pipe(duplex=False)
        self.order: Any = ctx.Lock() if ordered else None  # watched runs: lines travel in the order of their times
        self._item_bytes = 0  # a batch's pickled bytes per record, as last sent by this process (0: not yet)
        self._rest = b""  # the parent's side: the start of a message a read stopped inside

    def say(self, build: Callable[[float], Message], clock: Callable[[], float]) -> None:
        """Send the line `build(t)` makes, `t` read from `clock` under the order lock: no line stamped
        later can be in the pipe before it. Without the lock (a holder that died with it) it is sent anyway."""
        held = self.order is not None and self.order.acquire(timeout=self.ORDER_WAIT_S)
        try:
            self.send(build(clock()))
        finally:
            if held:
                self.order.release()

    def send(self, message: Message, timeout: float | None = None) -> None:
        """Send `message` whole (`timeout` is kept for callers; a send never waits for other writers)."""
        batch = message.values if isinstance(message, Records) else None
        if batch is not None and len(batch) > 1 and self._item_bytes:
            # A batch that the last one's size says cannot fit is cut before it is pickled, not after
            # (a buyer's batch of 10 ms is often larger than one write: it was pickled twice).
            size = max(1, ATOMIC_BYTES * 9 // (self._item_bytes * 10))
            if len(batch) > size:
                for start in range(0, len(batch), size):
                    self.send(Records(batch[start : start + size]), timeout)
                return
        # A batch is plain values: pickle's own C dumps, not ForkingPickler's (a Python class made per call).
        data = pickle.dumps(message, RECORDS_PROTOCOL) if batch is not None else ForkingPickler.dumps(message)
        if batch:
            self._item_bytes = max(1, len(data) // len(batch))
        if len(data) <= ATOMIC_BYTES:
            self._writer.send_bytes(data)  # header and body in one write(2) of at most PIPE_BUF: atomic
            return
        if batch is not None and len(batch) > 1:
            # Cut once, to pieces of the size that fits (halving until it fits pickled it all again at
            # every halving); a piece still too big is cut again.
            size = max(1, min(len(batch) // 2, len(batch) * ATOMIC_BYTES * 9 // (len(data) * 10)))
            for start in range(0, len(batch), size):
                self.send(Records(batch[start : start + size]), timeout)
            return
        raise ValueError(f"a report of {len(data)} bytes cannot be sent in one atomic write")

    def receive(self) -> list[Message]:
        """Everything waiting in the pipe now (the parent calls this when the reader is ready), in one read:
        every message is one atomic write of a length and a pickle, whole in the pipe or not there yet,
        so the read is cut into them here (a recv() per message was two reads and a poll each)."""
        data = self._rest + os.read(self.reader.fileno(), READ_BYTES)
        if len(data) == len(self._rest):
            raise EOFError  # every writer is gone (as Connection.recv says it)
        out: list[Message] = []
        at = 0
        while len(data) - at >= HEADER.size:
            (size,) = HEADER.unpack_from(data, at)
            if len(data) - at - HEADER.size < size:
                break  # the read stopped inside this message: the rest is still in the pipe
            out.append(pickle.loads(data[at + HEADER.size : at + HEADER.size + size]))
            at += HEADER.size + size
        self._rest = data[at:]
        return out
