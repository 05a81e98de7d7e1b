"""Every buyer's last byte written by the parent: a buyer process hands its connection over, the lockstep
barrier's release writes the held bytes, and each gate says when its buyer's byte went."""

from __future__ import annotations

import multiprocessing
import socket
from multiprocessing.connection import Connection

import pytest

from booking.kit.points import BEFORE_LOCK
from booking.processes.schedule import LockstepBarrier
from booking.strategies.target.handover import GO, LastBytes, hand, written_at

METHODS = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]
REQUEST = b"PUT /stock/take?user=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"


class Gates:
    """The parent's gates as the barrier sees them: what each buyer's gate said."""

    def __init__(self) -> None:
        self.said: dict[int, bytes] = {}

    def release(self, buyer: int, said: bytes = GO) -> None:
        self.said[buyer] = said


def read_exactly(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def test_the_release_writes_every_handed_last_byte_and_each_gate_says_when() -> None:
    held, gates = LastBytes(), Gates()
    barrier = LockstepBarrier(gates, {1, 2, 3})
    barrier.held = held
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        for buyer, (client, _server) in enumerate(pairs[:2], start=1):
            client.sendall(REQUEST[:-1])
            assert hand(held.buyer_end, buyer, client, REQUEST[-1:])
            barrier.arrive(buyer, BEFORE_LOCK)
        assert gates.said == {}
        barrier.arrive(3, BEFORE_LOCK)  # buyer 3 handed nothing (https, or its hand-over failed)
        assert written_at(gates.said[1]) is not None and written_at(gates.said[2]) is not None
        assert gates.said[3] == GO and written_at(GO) is None
        for client, server in pairs[:2]:
            assert read_exactly(server, len(REQUEST)) == REQUEST
            client.setblocking(False)  # the buyer's own socket is still open: its answer comes back on it
            server.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            assert read_exactly(client, 5) == b"HTTP/"
    finally:
        held.close()
        for a, b in pairs:
            a.close()
            b.close()


def test_a_byte_is_written_once_and_nothing_is_held_after_the_release() -> None:
    held = LastBytes()
    client, server = socket.socketpair()
    try:
        client.sendall(b"ab")
        assert hand(held.buyer_end, 7, client, b"c")
        assert set(held.write([7])) == {7}
        assert held.write([7]) == {}  # released once: a second opening writes nothing
        server.setblocking(False)
        assert server.recv(10) == b"abc"
    finally:
        held.close()
        client.close()
        server.close()


def test_a_buyer_that_died_after_handing_over_never_has_its_byte_written() -> None:
    held, gates = LastBytes(), Gates()
    barrier = LockstepBarrier(gates, {1, 2})
    barrier.held = held
    client, server = socket.socketpair()
    try:
        client.sendall(REQUEST[:-1])
        assert hand(held.buyer_end, 1, client, REQUEST[-1:])
        barrier.arrive(1, BEFORE_LOCK)
        barrier.leave(1)  # dead at the window
        barrier.arrive(2, BEFORE_LOCK)
        assert gates.said == {2: GO}
        assert held.write([1]) == {}
        server.setblocking(False)
        assert server.recv(len(REQUEST)) == REQUEST[:-1]
    finally:
        held.close()
        client.close()
        server.close()


def _buyer(end: socket.socket, port: int, gate: Connection, told: Connection) -> None:
    """A buyer process: connect, write all but the last byte, hand the socket over, wait, then read."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(REQUEST[:-1])
    handed = hand(end, 1, sock, REQUEST[-1:])
    told.send(handed)  # as a buyer says it arrived at its window once its socket is handed over
    said = gate.recv_bytes()
    written = written_at(said) is not None
    if not written:
        sock.sendall(REQUEST[-1:])
    told.send((written, sock.recv(100)))
    sock.close()


@pytest.mark.parametrize("method", METHODS)
def test_a_buyer_process_hands_its_connection_over(method: str) -> None:
    """Under fork and spawn: the parent writes the byte; the buyer never does, and reads its own answer."""
    ctx = multiprocessing.get_context(method)
    held, listener = LastBytes(), socket.create_server(("127.0.0.1", 0))
    gate_out, gate_in = ctx.Pipe(duplex=False)
    told_out, told_in = ctx.Pipe(duplex=False)
    port = listener.getsockname()[1]
    proc = ctx.Process(target=_buyer, args=(held.buyer_end, port, gate_out, told_in))
    proc.start()
    try:
        listener.settimeout(30)
        server, _ = listener.accept()
        server.settimeout(30)
        got = read_exactly(server, len(REQUEST) - 1)
        assert got == REQUEST[:-1]
        assert told_out.poll(30) and told_out.recv() is True  # handed over
        said = held.write([1])
        assert read_exactly(server, 1) == REQUEST[-1:]
        gate_in.send_bytes(said[1])
        server.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        assert told_out.poll(30)
        written, answer = told_out.recv()
        assert (written, answer[:12]) == (True, b"HTTP/1.1 204")
        server.close()
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
            proc.join()
        held.close()
        listener.close()
    assert proc.exitcode == 0
