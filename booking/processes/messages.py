"""What buyers tell the parent, and the channel it travels on.

One channel for every buyer: a pipe the parent reads, and no lock. Every message is sent in one
write(2) of at most PIPE_BUF bytes, which the kernel never interleaves with another writer's, so
2,000 buyers never queue for a shared lock (on an oversubscribed CPU such a lock convoys: its holder
waits behind every runnable buyer). A batch too large for one write is split. A message is sent
synchronously, so once a process has sent it, it is in the pipe even if the process dies next.
"""

from __future__ import annotations

import select
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from multiprocessing.reduction import ForkingPickler

from booking.history import Attempt


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


@dataclass(frozen=True)
class Progress:
    """Live output only: an attempt so far, as its buyer (or the seller working for it) passes `point`."""

    attempt: Attempt
    point: str
    done: bool = False  # a seller's finished sale, said before it answers the buyer


@dataclass(frozen=True)
class Released:
    """Live output only: the sellers' barrier let `together` sellers go (None: not known), its `phase`-th opening."""

    seller: int
    point: str
    phase: int
    together: int | None
    t: float  # seconds since the run started


Message = Attempt | list[Attempt] | Arrive | Dying | Pausing | Done | Progress | Released


ATOMIC_BYTES = select.PIPE_BUF - 4  # Connection.send_bytes adds a 4-byte length header, in the same write


class Channel:
    """Many writers, one reader (the parent). Made by the parent before the buyers start."""

    def __init__(self, ctx: BaseContext) -> None:
        self.reader, self._writer = ctx.Pipe(duplex=False)

    def send(self, message: Message, timeout: float | None = None) -> None:
        """Send `message` whole (`timeout` is kept for callers; a send never waits for other writers)."""
        data = ForkingPickler.dumps(message)
        if len(data) <= ATOMIC_BYTES:
            self._writer.send_bytes(data)  # header and body in one write(2) of at most PIPE_BUF: atomic
            return
        if isinstance(message, list) and len(message) > 1:
            half = len(message) // 2
            self.send(message[:half], timeout)
            self.send(message[half:], timeout)
            return
        raise ValueError(f"a report of {len(data)} bytes cannot be sent in one atomic write")

    def receive(self) -> list[Message]:
        """Everything waiting in the pipe now (the parent calls this when the reader is ready)."""
        out: list[Message] = [self.reader.recv()]
        while self.reader.poll(0):
            out.append(self.reader.recv())
        return out
