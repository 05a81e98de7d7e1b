"""HTTP/1.1 over a raw socket (h11), so a request can be written all but its last byte and released later.

httpx cannot hold a last byte back: it writes a request whole. Here the buy is written except its
last byte before the barrier; at the release only one byte per buyer goes out, and the server cannot
start handling any request before its last byte is in.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

from booking.strategies.target.handover import hand

MAX_ANSWER = 64 * 1024  # an answer is read no further than this: a purchase's answer is a few bytes


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined by ", " (Set-Cookie by "\n")
    body: bytes


class Wire:
    """One keep-alive connection to the target."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.host = parts.netloc
        self._address = (parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80))
        self._tls = parts.scheme == "https"
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._conn = h11.Connection(h11.CLIENT)
        self._last = b""

    def connect(self) -> None:
        sock = socket.create_connection(self._address, timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self._address[0])
        self._sock, self._conn = sock, h11.Connection(h11.CLIENT)

    def encode(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        if self._sock is None or self._conn.our_state is not h11.IDLE:
            self.close()
            self.connect()
        heads = [("Host", self.host), *headers, ("Content-Length", str(len(body)))]
        out = self._conn.send(h11.Request(method=method, target=path, headers=heads)) or b""
        out += self._conn.send(h11.Data(data=body)) if body else b""
        return out + (self._conn.send(h11.EndOfMessage()) or b"")

    def hold(self, request: bytes) -> None:
        """Write all of `request` but its last byte."""
        assert self._sock is not None
        self._sock.sendall(request[:-1])
        self._last = request[-1:]

    def release(self) -> float:
        """Write the held last byte; when it went (Unix time)."""
        assert self._sock is not None
        self._sock.sendall(self._last)
        return time.time()

    def hand(self, end: socket.socket, buyer: int) -> bool:
        """Hand this connection and its held last byte to the parent (target/handover.py), which writes the
        byte with every buyer's; False (the buyer writes it) over TLS, whose record only this process can end."""
        if self._sock is None or self._tls or not self._last:
            return False
        return hand(end, buyer, self._sock, self._last)

    def released(self) -> None:
        """The held last byte was written by the parent."""
        self._last = b""

    def exchange(self, request: bytes) -> Reply:
        assert self._sock is not None
        self._sock.sendall(request)
        return self.read()

    def read(self) -> Reply:
        assert self._sock is not None
        status, body = 0, bytearray()
        headers: dict[str, str] = {}
        while True:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                self._conn.receive_data(self._sock.recv(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
                for name, value in event.headers:
                    key, text = name.decode("latin-1").lower(), value.decode("latin-1")
                    sep = "\n" if key == "set-cookie" else ", "
                    headers[key] = headers[key] + sep + text if key in headers else text
            elif isinstance(event, h11.Data):
                if len(body) < MAX_ANSWER:
                    body += event.data
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        self._next()
        return Reply(status, headers, bytes(body[:MAX_ANSWER]))

    def _next(self) -> None:
        if self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE:
            self._conn.start_next_cycle()
        else:
            self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
