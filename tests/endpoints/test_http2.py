"""--http2: the parent's single-packet batch against an HTTP/2 server in this process (h2's server side on a
loopback socket, a thread a connection): every request on one connection as a stream of its own, every
final frame read by the server at once, each answer back to the buyer that handed its request over; and a
server that speaks HTTP/1.1 only refused in one line. booking serve --http2 is raced in tests/service."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("h2", reason="booking[service] is not installed")

import h2.config
import h2.connection
import h2.events

from booking.errors import BadInput
from booking.strategies.target.batch import Batch, hand_request, reply_from
from booking.strategies.target.handover import written_at
from booking.strategies.target.streams import speaks_http2


class EchoServer:
    """HTTP/2 on 127.0.0.1: answers every stream 200 with its own request body; records its connections and,
    for each read that ended streams, which streams it ended."""

    def __init__(self, http2: bool = True) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self.ended: list[list[int]] = []
        self._http2 = http2
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._quietly, args=(conn,), daemon=True).start()

    def _quietly(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):  # a client that hung up (a probe reads the SETTINGS, then closes)
            self._serve(conn) if self._http2 else self._refuse(conn)

    def _refuse(self, conn: socket.socket) -> None:  # an HTTP/1.1 server meeting the preface
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        conn.close()

    def _serve(self, conn: socket.socket) -> None:
        h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
        h2c.initiate_connection()
        conn.sendall(h2c.data_to_send())
        bodies: dict[int, bytes] = {}
        with conn:
            while data := conn.recv(65536):
                ended = []
                for event in h2c.receive_data(data):
                    if isinstance(event, h2.events.DataReceived) and event.stream_id:
                        bodies[event.stream_id] = bodies.get(event.stream_id, b"") + (event.data or b"")
                        h2c.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded) and event.stream_id:
                        ended.append(event.stream_id)
                if ended:
                    self.ended.append(ended)
                for stream in ended:
                    h2c.send_headers(stream, [(b":status", b"200"), (b"content-type", b"application/json")])
                    h2c.send_data(stream, bodies.get(stream, b""), end_stream=True)
                conn.sendall(h2c.data_to_send())

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


def test_one_connection_separate_streams_final_frames_at_once(echo: EchoServer) -> None:
    batch = Batch(echo.url, 5.0)
    try:
        body = {b: json.dumps({"buyer": b}).encode() for b in range(1, 6)}
        answers = {b: hand_request(batch.buyer_end, b, ("POST", "/purchase", [], body[b])) for b in body}
        said = batch.write(list(answers))
        replies = {b: reply_from(sock, 5.0) for b, sock in answers.items() if sock is not None}
    finally:
        batch.close()
    assert echo.connections == 1  # every request on the parent's one connection ...
    assert echo.ended == [[1, 3, 5, 7, 9]]  # ... each a stream of its own, all ended by one read
    assert {b: (r.status, r.body) for b, r in replies.items()} == {b: (200, body[b]) for b in body}  # by stream id
    assert sorted(said) == sorted(body) and all(written_at(s) is not None for s in said.values())


def test_a_buyer_that_died_is_never_sent(echo: EchoServer) -> None:
    batch = Batch(echo.url, 5.0)
    try:
        answers = {b: hand_request(batch.buyer_end, b, ("POST", "/purchase", [], b"{}")) for b in (1, 2)}
        batch.drop(2)
        said = batch.write([1, 2])
        assert answers[1] is not None and reply_from(answers[1], 5.0).status == 200
        assert answers[2] is not None
        with pytest.raises(ConnectionResetError):  # its buyer reads the end: no answer will come
            reply_from(answers[2], 5.0)
    finally:
        batch.close()
    assert list(said) == [1] and echo.ended == [[1]]


def test_a_server_without_http2_is_one_line() -> None:
    server = EchoServer(http2=False)
    try:
        with pytest.raises(BadInput, match=r"^--http2: http://127\.0\.0\.1:\d+ does not speak HTTP/2 \(h2c"):
            speaks_http2(server.url, 5.0)
    finally:
        server.close()


def test_the_config_files_http_key(tmp_path: Any) -> None:
    from booking.strategies.target.load import from_dict

    base = {"buy": {"path": "/buy"}, "success": {"receipt": "none"}}
    assert from_dict({**base, "http": "2"}, "race.toml", tmp_path)[1].http == "2"
    assert from_dict(base, "race.toml", tmp_path)[1].http == "1.1"
    with pytest.raises(BadInput, match=r"^race\.toml: http: \"1\.1\" or \"2\", got '3'$"):
        from_dict({**base, "http": "3"}, "race.toml", tmp_path)


def test_more_buyers_than_the_servers_streams_is_one_line(echo: EchoServer) -> None:
    speaks_http2(echo.url, 5.0, 100)  # h2's server allows 100 streams at once by default
    with pytest.raises(BadInput, match=r"allows 100 streams at once on a connection, fewer than the 101 buyers"):
        speaks_http2(echo.url, 5.0, 101)
