"""What buyers tell the parent, and the channel it travels on.

One channel for every buyer: a pipe the parent reads and a lock the writers share (a pickled
message longer than the pipe's atomic size must not interleave with another). A message is sent
synchronously, so once a process has sent it, it is in the pipe even if the process dies next.
"""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Any

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
class Done:
    """A buyer's last word: why it did not finish ("" when it did), and a kill it never reached."""

    buyer: int
    unfinished: str = ""
    missed_kill: str | None = None  # the planned kill point this buyer never passed
    points: tuple[str, ...] = ()  # the points it did pass, to say so when a kill was missed


Message = Attempt | list[Attempt] | Arrive | Dying | Done


class Channel:
    """Many writers, one reader (the parent). Made by the parent before the buyers start."""

    def __init__(self, ctx: BaseContext) -> None:
        self.reader, self._writer = ctx.Pipe(duplex=False)
        self._lock: Any = ctx.Lock()

    def send(self, message: Message, timeout: float | None = None) -> None:
        if not self._lock.acquire(timeout=timeout if timeout is None else max(timeout, 0.0)):
            raise TimeoutError("the report channel stayed busy past the deadline")
        try:
            self._writer.send(message)
        finally:
            self._lock.release()

    def receive(self) -> list[Message]:
        """Everything waiting in the pipe now (the parent calls this when the reader is ready)."""
        out: list[Message] = [self.reader.recv()]
        while self.reader.poll(0):
            out.append(self.reader.recv())
        return out
