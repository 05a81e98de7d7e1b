"""Every buyer's last byte written by one process: the buyers hand their sockets over, the parent writes.

Last-byte sync alone still leaves each buyer process to be woken at the release to write its one
byte, and on a loaded machine some wake late. So a buyer, once its request is written all but its
last byte, hands its connected socket (a duplicate of its descriptor, SCM_RIGHTS over a Unix
socket pair made by the parent before any buyer starts) and that byte to the parent; when lockstep
opens the window, the parent writes every held last byte in one loop, then opens the gates, telling
each buyer when its byte went. Each buyer reads its own answer from its own socket, as before.

A buyer writes its byte itself when nothing was handed over (the free schedule, https: a TLS
record cannot be finished by another process) or when the parent could not write it.
"""

from __future__ import annotations

import array
import contextlib
import os
import socket
import struct
import time
from collections.abc import Iterator
from typing import Protocol

HANDED = struct.Struct("!I")  # the buyer's number, then its last byte, with the socket's descriptor
GO = b"g"  # a gate's plain word: go (processes/schedule.py)
WRITTEN = b"w"  # a gate's word: the parent wrote this buyer's last byte, at the time packed after it
AT = struct.Struct("!d")  # time.monotonic() when it went


def hand(end: socket.socket, buyer: int, sock: socket.socket, last: bytes) -> bool:
    """The buyer's side: give the parent `sock` and the byte it will write. False when it cannot take it
    now (its queue is full): the buyer then writes its byte itself."""
    try:
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [sock.fileno()]))]
        end.sendmsg([HANDED.pack(buyer) + last], rights, socket.MSG_DONTWAIT)  # (socket.send_fds drops flags)
    except OSError:
        return False
    return True


def written_at(said: bytes) -> float | None:
    """The time (time.monotonic()) the parent wrote this buyer's last byte, from what its gate said;
    None: it did not, the buyer writes it."""
    if said[:1] != WRITTEN or len(said) != 1 + AT.size:
        return None
    return float(AT.unpack(said[1:])[0])


class Held(Protocol):
    """What a barrier's release writes at once: LastBytes, or every stream's final frame (target/batch.py)."""

    buyer_end: socket.socket  # what each buyer inherits, to hand its request over on

    def take(self) -> None: ...

    def write(self, buyers: list[int]) -> dict[int, bytes]: ...

    def drop(self, buyer: int) -> None: ...

    def close(self) -> None: ...


class LastBytes:
    """The parent's side: made before the buyers start; `buyer_end` is what each of them inherits."""

    def __init__(self) -> None:
        self._mine, self.buyer_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._held: dict[int, tuple[int, bytes]] = {}  # buyer -> (its socket's descriptor here, its last byte)

    def take(self) -> None:
        """Receive every socket handed over so far (a buyer hands its socket before it says it arrived)."""
        for data, fds in handed_over(self._mine):
            if len(data) != HANDED.size + 1 or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                continue
            (buyer,) = HANDED.unpack(data[: HANDED.size])
            self._forget(buyer)  # a newer hand-over replaces an older one
            self._held[buyer] = (fds[0], data[HANDED.size :])

    def write(self, buyers: list[int]) -> dict[int, bytes]:
        """Write the held last byte of each of `buyers` in one loop (nothing else in it); what each one's gate
        says. Their descriptors here are closed after the loop: each buyer keeps its own."""
        self.take()
        held = [(buyer, self._held.pop(buyer)) for buyer in buyers if buyer in self._held]
        if not held:
            return {}
        went: list[tuple[int, float]] = []
        with unpreempted():
            for buyer, (fd, last) in held:
                try:
                    if os.write(fd, last) == 1:
                        went.append((buyer, time.monotonic()))
                except OSError:  # reset, or its buffer full: the buyer writes it (and meets the error) itself
                    pass
        for _buyer, (fd, _last) in held:
            os.close(fd)
        return {buyer: WRITTEN + AT.pack(t) for buyer, t in went}

    def drop(self, buyer: int) -> None:
        """Forget `buyer`'s held byte, never writing it (the buyer died)."""
        self.take()
        self._forget(buyer)

    def _forget(self, buyer: int) -> None:
        held = self._held.pop(buyer, None)
        if held is not None:
            os.close(held[0])

    def close(self) -> None:
        for buyer in list(self._held):
            self._forget(buyer)
        with contextlib.suppress(OSError):
            self._mine.close()
        with contextlib.suppress(OSError):
            self.buyer_end.close()


def handed_over(sock: socket.socket, size: int = 64) -> Iterator[tuple[bytes, list[int]]]:
    """Every message waiting on `sock`, with the descriptors it carries, without waiting (socket.recv_fds
    would wait); ends when none is left or the socket is gone."""
    while True:
        fds = array.array("i")
        try:
            data, ancillary, _flags, _addr = sock.recvmsg(size, socket.CMSG_LEN(4 * fds.itemsize), socket.MSG_DONTWAIT)
        except OSError:  # nothing more now (BlockingIOError), or the socket is gone
            return
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        if not data and not fds:
            return
        yield data, list(fds)


@contextlib.contextmanager
def unpreempted() -> Iterator[None]:
    """The loop run under SCHED_FIFO where this process may (root, or a non-zero RLIMIT_RTPRIO): each write
    wakes a server worker on loopback, and a woken worker could otherwise take this CPU before the loop
    ends. Elsewhere it runs as it is, and may be preempted (the send spread then says so)."""
    try:
        before = os.sched_getscheduler(0)
        param = os.sched_getparam(0)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, before, param)
