"""Every buyer's request on one HTTP/2 connection, finished by one write: the single-packet batch.

The shape of handover.py, for HTTP/2: a buyer does not send its buy itself. Before the window it hands
the request (method, path, headers, body) to the parent over the socket pair the parent made before any
buyer started, with one end of a socket pair of its own (SCM_RIGHTS) on which its answer will come. The
parent owns one HTTP/2 connection to the target (target/streams.py): each request handed over becomes a
stream, sent at once all but its final frame. When lockstep opens the window, the parent writes every
held stream's final frame in one write() (one TCP packet on loopback), then opens the gates, telling each
buyer when its request went. A thread of the parent's reads the answers, and sends each to its buyer by
stream id; a buyer whose answer cannot come (the connection was lost) reads the end of its socket.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import socket
import struct
import threading
import time

import h2.exceptions

from booking.strategies.target.handover import AT, HANDED, WRITTEN, handed_over, unpreempted
from booking.strategies.target.streams import Streams
from booking.strategies.target.wire import Reply

MAX_MESSAGE = 1 << 18  # a request handed over, or an answer handed back, in one message (the body's bounds)
REPLY = struct.Struct("!HI")  # an answer: its status, the length of its headers (JSON), then the body
Request = tuple[str, str, list[tuple[str, str]], bytes]  # method, path, headers, body


def hand_request(end: socket.socket, buyer: int, request: Request) -> socket.socket | None:
    """The buyer's side: give the parent `request`; the socket its answer will come on (reply_from), or None
    when the parent cannot take it now (the buyer then sends it itself)."""
    method, path, headers, body = request
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    message = HANDED.pack(buyer) + json.dumps([method, path, headers, body.decode("latin-1")]).encode()
    try:
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [theirs.fileno()]))]
        end.sendmsg([message], rights, socket.MSG_DONTWAIT)
    except OSError:
        mine.close()
        return None
    finally:
        theirs.close()
    return mine


def reply_from(sock: socket.socket, timeout: float) -> Reply:
    """The buyer's side: its answer, as the parent read it (ConnectionResetError: none will come)."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(MAX_MESSAGE)
    finally:
        sock.close()
    if len(data) < REPLY.size:
        raise ConnectionResetError("the HTTP/2 connection to the service was lost")
    status, length = REPLY.unpack(data[: REPLY.size])
    headers = json.loads(data[REPLY.size : REPLY.size + length])
    return Reply(status, headers, data[REPLY.size + length :])


class Batch:
    """The parent's side: made before the buyers start; `buyer_end` is what each of them inherits."""

    def __init__(self, url: str, timeout: float) -> None:
        self._mine, self.buyer_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._url, self._timeout = url, timeout
        self._streams: Streams | None = None  # opened at the first request handed over
        self._lock = threading.Lock()  # the connection's state: the parent's loop and the reading thread
        # buyer -> (the connection its stream is on, the stream, where its answer goes); the parent's loop alone
        # touches it (a connection lost since is told by `is not self._streams`)
        self._held: dict[int, tuple[Streams, int, int]] = {}
        self._out: dict[int, int] = {}  # stream -> where its answer goes: finished, not yet answered
        self._reader: threading.Thread | None = None
        self._closed = False

    def take(self) -> None:
        """Receive every request handed over so far, and send each all but its final frame."""
        for data, fds in handed_over(self._mine, MAX_MESSAGE):
            request = _request(data[HANDED.size :]) if len(fds) == 1 and len(data) > HANDED.size else None
            if request is None:
                for fd in fds:
                    os.close(fd)
                continue
            (buyer,) = HANDED.unpack(data[: HANDED.size])
            self.drop(buyer, take=False)  # a newer hand-over replaces an older one
            with self._lock:
                opened = self._open(request)
            if opened is None:
                os.close(fds[0])  # the buyer reads the end: the service did not answer
            else:
                self._held[buyer] = (*opened, fds[0])

    def _open(self, request: Request) -> tuple[Streams, int] | None:
        try:
            if self._streams is None:
                self._streams = Streams(self._url, self._timeout)
                self._streams.connect()
            return self._streams, self._streams.open(*request)
        except OSError:
            self._lost()
            return None
        except h2.exceptions.ProtocolError:  # more streams than the server allows at once (probed before the run)
            return None

    def write(self, buyers: list[int]) -> dict[int, bytes]:
        """Write the final frames of `buyers`' streams in one write; what each one's gate says."""
        self.take()
        held = [(buyer, self._held.pop(buyer)) for buyer in buyers if buyer in self._held]
        if not held:
            return {}
        with self._lock:
            live = [(buyer, stream, fd) for buyer, (conn, stream, fd) in held if conn is self._streams]
            for _buyer, (conn, _stream, fd) in held:
                if conn is not self._streams:  # its connection was lost since: its buyer reads the end
                    os.close(fd)
            if not live or self._streams is None:
                return {}
            data = self._streams.finals([stream for _b, stream, _fd in live])
            self._out.update({stream: fd for _b, stream, fd in live})
            try:
                with unpreempted():
                    self._streams.write(data)
                    went = time.monotonic()
            except OSError:
                self._lost()
                return {}
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="http2-answers", daemon=True)
                self._reader.start()
        return {buyer: WRITTEN + AT.pack(went) for buyer, _stream, _fd in live}

    def _read(self) -> None:
        """The answers, each sent to its buyer, until none is awaited (the next write starts another)."""
        while True:
            with self._lock:
                if self._closed or not self._out or self._streams is None:
                    self._reader = None
                    return
                streams = self._streams
            ready = streams.readable(0.2)
            with self._lock:
                try:
                    answered = streams.receive(time.monotonic()) if ready and streams is self._streams else []
                except OSError:
                    self._lost()
                    continue
                for stream, reply in answered:
                    fd = self._out.pop(stream, None)
                    if fd is not None:
                        _answer(fd, reply)

    def _lost(self) -> None:
        """The connection failed (under the lock): every buyer awaiting an answer reads the end of its socket;
        those still held are told when their turn comes (write, drop)."""
        if self._streams is not None:
            self._streams.close()
        self._streams = None
        for fd in self._out.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._out.clear()

    def drop(self, buyer: int, take: bool = True) -> None:
        """Forget `buyer`'s request, never finishing it (the buyer died)."""
        if take:
            self.take()
        held = self._held.pop(buyer, None)
        if held is None:
            return
        conn, stream, fd = held
        os.close(fd)
        with self._lock, contextlib.suppress(OSError):
            if conn is self._streams:
                conn.cancel(stream)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lost()
        for _conn, _stream, fd in self._held.values():
            os.close(fd)
        self._held.clear()
        with contextlib.suppress(OSError):
            self._mine.close()
        with contextlib.suppress(OSError):
            self.buyer_end.close()


def _answer(fd: int, reply: Reply | None) -> None:
    """Send `reply` to the buyer waiting on `fd` (None, a stream the server reset: the end, read as an error)."""
    with contextlib.suppress(OSError):
        if reply is not None:
            headers = json.dumps(reply.headers).encode()
            os.write(fd, REPLY.pack(reply.status, len(headers)) + headers + reply.body)
    os.close(fd)


def _request(data: bytes) -> Request | None:
    try:
        method, path, headers, body = json.loads(data)
        return str(method), str(path), [(str(k), str(v)) for k, v in headers], str(body).encode("latin-1")
    except (ValueError, TypeError):
        return None
