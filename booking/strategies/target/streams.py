"""HTTP/2 on one connection (h2, python-hyper's framer): many requests as streams of that connection, each
sent all but its final frame, then every final frame in one write.

The single-packet batch (Kettle, 2023): a request's HEADERS and all of its DATA but the last byte go out
first, with no END_STREAM; the server cannot finish any of them. Then the final DATA frames (one byte
each, END_STREAM set) are written in one write(), so that they arrive in one TCP packet and the server
reads every request's end at once. Cleartext is HTTP/2 with prior knowledge (h2c, no upgrade); https
asks for `h2` by ALPN. A server that does not speak HTTP/2 is NotHTTP2.
"""

from __future__ import annotations

import selectors
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.options.store_url import masked_url
from booking.strategies.target.wire import MAX_ANSWER, Reply

HANDSHAKE_TIMEOUT_S = 5.0  # the server's SETTINGS must come within this: else it does not speak HTTP/2


class NotHTTP2(OSError):
    """The server answered the connection preface with something else than HTTP/2 (or not at all)."""


class Streams:
    """One HTTP/2 connection to the target, its requests each a stream."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.authority = parts.netloc
        self._scheme = parts.scheme
        self._address = (parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80))
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        self._partial: dict[int, tuple[int, dict[str, str], bytearray]] = {}  # stream -> its answer so far
        self._finals: dict[int, bytes] = {}  # stream -> the last byte of its body, not yet sent
        self._answered: dict[int, Reply | None] = {}  # answer(): streams answered before they were asked for
        self._settled = False  # the server's SETTINGS came: it speaks HTTP/2

    def connect(self) -> None:
        """Open the connection and wait for the server's SETTINGS (NotHTTP2 when they do not come)."""
        sock = socket.create_connection(self._address, timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._scheme == "https":
            tls = ssl.create_default_context()
            tls.set_alpn_protocols(["h2"])
            sock = tls.wrap_socket(sock, server_hostname=self._address[0])
            if sock.selected_alpn_protocol() != "h2":
                sock.close()
                raise NotHTTP2("the server did not choose h2 by ALPN")
        self._sock = sock
        self._conn.initiate_connection()
        self.flush()
        deadline = time.monotonic() + min(self._timeout, HANDSHAKE_TIMEOUT_S)
        while not self._settled:
            if time.monotonic() >= deadline:
                raise NotHTTP2("no HTTP/2 SETTINGS from the server")
            try:
                self.receive(deadline)
            except (ConnectionError, TimeoutError):  # an HTTP/1.1 server answers the preface 400, and closes
                raise NotHTTP2("it closed the connection at the HTTP/2 preface") from None

    @property
    def max_streams(self) -> int:
        """How many streams the server lets this connection have open at once (its SETTINGS)."""
        return int(self._conn.remote_settings.max_concurrent_streams)

    def open(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> int:
        """Send a request all but its final frame; its stream id."""
        stream = self._conn.get_next_available_stream_id()
        heads = [(":method", method), (":scheme", self._scheme), (":authority", self.authority), (":path", path)]
        heads += [(k.lower(), v) for k, v in headers if k.lower() not in ("host", "connection", "content-length")]
        heads.append(("content-length", str(len(body))))
        self._conn.send_headers(stream, [(k.encode(), v.encode()) for k, v in heads])
        if len(body) > 1:
            self._conn.send_data(stream, body[:-1])
        self._finals[stream] = body[-1:]
        self.flush()
        return stream

    def finals(self, streams: list[int]) -> bytes:
        """The final frames of `streams` (END_STREAM, with the last byte of each body), to be written at once."""
        for stream in streams:
            self._conn.send_data(stream, self._finals.pop(stream), end_stream=True)
        return self._conn.data_to_send()

    def write(self, data: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(data)

    def flush(self) -> None:
        data = self._conn.data_to_send()
        if data:
            self.write(data)

    def cancel(self, stream: int) -> None:
        """Reset a stream that will never be finished."""
        self._finals.pop(stream, None)
        self._conn.reset_stream(stream)
        self.flush()

    def readable(self, timeout: float) -> bool:
        """Something came (or TLS holds it already) within `timeout` seconds."""
        assert self._sock is not None
        if isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            return True
        with selectors.DefaultSelector() as sel:
            sel.register(self._sock, selectors.EVENT_READ)
            return bool(sel.select(max(timeout, 0.0)))

    def receive(self, deadline: float) -> list[tuple[int, Reply | None]]:
        """Read what has come by `deadline`: the streams answered (None: reset by the server); [] when nothing
        came. OSError when the connection is lost or broken."""
        assert self._sock is not None
        if not self.readable(deadline - time.monotonic()):
            return []
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionResetError("the service closed the HTTP/2 connection")
        try:
            events = self._conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            raise NotHTTP2(f"not HTTP/2: {type(exc).__name__}") from None
        done = [answered for event in events if (answered := self._event(event)) is not None]
        self.flush()
        return done

    def answer(self, stream: int, deadline: float) -> Reply:
        """Read until `stream` is answered (the others answered meanwhile are kept for their turn); OSError at the
        deadline, or when the server reset the stream."""
        while stream not in self._answered:
            if time.monotonic() >= deadline:
                raise TimeoutError("timed out")
            self._answered.update(self.receive(deadline))
        reply = self._answered.pop(stream)
        if reply is None:
            raise ConnectionResetError("the service reset the HTTP/2 stream")
        return reply

    def _event(self, event: h2.events.Event) -> tuple[int, Reply | None] | None:
        if isinstance(event, h2.events.ResponseReceived) and event.stream_id is not None:
            self._partial[event.stream_id] = (*_head(event.headers or []), bytearray())
        elif isinstance(event, h2.events.DataReceived) and event.stream_id is not None:
            self._conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            body = self._partial.get(event.stream_id, (0, {}, bytearray()))[2]
            body += (event.data or b"")[: max(MAX_ANSWER - len(body), 0)]
        elif isinstance(event, h2.events.StreamEnded) and event.stream_id in self._partial:
            status, headers, body = self._partial.pop(event.stream_id)
            return event.stream_id, Reply(status, headers, bytes(body))
        elif isinstance(event, h2.events.StreamReset) and event.stream_id is not None:
            self._partial.pop(event.stream_id, None)
            return event.stream_id, None
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            self._settled = True
        elif isinstance(event, h2.events.ConnectionTerminated):
            raise ConnectionResetError(f"the service ended the HTTP/2 connection (error {event.error_code})")
        return None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None


def speaks_http2(url: str, timeout: float, streams_needed: int = 1) -> None:
    """BadInput (one line) when the server at `url` does not speak HTTP/2, or allows fewer than `streams_needed`
    streams at once on a connection; OSError when it cannot be reached."""
    streams = Streams(url, timeout)
    try:
        streams.connect()
        allowed = streams.max_streams
        if allowed < streams_needed:
            raise BadInput(
                _(
                    "--http2: {target} allows {allowed} streams at once on a connection, fewer than the {n} buyers "
                    "of one single-packet batch (fewer --buyers, or raise the server's limit)"
                ).format(target=masked_url(url), allowed=allowed, n=streams_needed)
            )
    except NotHTTP2 as exc:
        how = _("h2 by ALPN") if url.startswith("https:") else _("h2c with prior knowledge")
        raise BadInput(
            _("--http2: {target} does not speak HTTP/2 ({how}): {why}").format(target=masked_url(url), how=how, why=exc)
        ) from None
    finally:
        streams.close()


def _head(raw: Any) -> tuple[int, dict[str, str]]:
    """(the status, the headers: lower-case names, repeated ones joined as wire.py joins them)."""
    status, headers = 0, dict[str, str]()
    for name, value in raw:
        key = (name.decode("latin-1") if isinstance(name, bytes) else name).lower()
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if key == ":status":
            status = int(text)
        elif not key.startswith(":"):
            sep = "\n" if key == "set-cookie" else ", "
            headers[key] = headers[key] + sep + text if key in headers else text
    return status, headers
