"""A server that stops answering ends every command at its deadline: COULD NOT RUN (exit 3), one line.

The silent server is a relay this test controls, between booking and MariaDB: it accepts connections
and, once told to, forwards nothing more either way. To the client that is a paused server (SIGSTOP)
or a host gone quiet, and the shared server itself is never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.helpers import Ran


class SilentRelay:
    """127.0.0.1:<port> -> the server; `silence()` stops forwarding on every connection, new ones too."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.loop = asyncio.new_event_loop()
        self.quiet = asyncio.Event()
        self.writers: list[asyncio.StreamWriter] = []
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self.server = self.loop.run_until_complete(asyncio.start_server(self._serve, sock=listener))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def silence(self) -> None:
        self.loop.call_soon_threadsafe(self.quiet.set)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    async def _shutdown(self) -> None:
        self.server.close()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()
        for writer in self.writers:
            writer.close()
        for writer in self.writers:
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        if self.quiet.is_set():
            return  # accepted, and never answered
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self.writers.append(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if self.quiet.is_set():
                await asyncio.Event().wait()  # held: nothing more goes through, and nothing is closed
            writer.write(data)
            await writer.drain()


@pytest.fixture
def relay(mysql_url: str) -> Iterator[tuple[SilentRelay, str]]:
    url = make_url(mysql_url)
    relayed = SilentRelay(url.host or "127.0.0.1", url.port or 3306)
    try:
        yield relayed, url.set(host="127.0.0.1", port=relayed.port).render_as_string(hide_password=False)
    finally:
        relayed.close()


def _could_not_run(ran: Ran) -> None:
    assert ran.code == 3, ran
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1, ran.err
    assert "no answer within 1 s (the deadline)" in lines[0], ran.err
    assert "Traceback" not in ran.err


@pytest.mark.parametrize(
    "command",
    [
        ("init", "--tickets", "3"),
        ("simulate", "--buyers", "2", "--tickets", "1", "--json"),
        ("db", "current"),
        ("db", "upgrade"),
        ("verify", "--history", "{history}"),
    ],
    ids=" ".join,
)
def test_a_server_that_stops_answering_is_given_up_on_at_the_deadline(
    relay: tuple[SilentRelay, str], cli: Any, tmp_path: Path, command: tuple[str, ...]
) -> None:
    silent, url = relay
    history = tmp_path / "run.jsonl"
    ran = cli("simulate", "--store", url, "--buyers", "2", "--tickets", "1", "--history", history, "--quiet")
    assert ran.code == 0, ran  # answered while the relay forwards
    silent.silence()
    ran = cli(*(part.format(history=history) for part in command), "--store", url, "--deadline", "1")
    _could_not_run(ran)
    assert ran.out == ""


def test_a_silent_server_mid_session_is_cut_off(relay: tuple[SilentRelay, str]) -> None:
    """A connection that was answering, then not: the next statement fails at the deadline, in one line."""
    from booking.errors import CannotRun
    from booking.stores.connect import Database

    silent, url = relay
    db = Database(url, 1.0)
    with pytest.raises(CannotRun, match=r"no answer within 1 s"), db.admin() as conn:
        conn.exec_driver_sql("SELECT 1")
        silent.silence()
        conn.exec_driver_sql("SELECT 2")
    with contextlib.suppress(Exception):
        db.dispose()
