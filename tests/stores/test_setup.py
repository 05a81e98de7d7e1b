"""Set-up that cannot wedge, stores that are not ours left alone, deadlines that hold (issue 12, items 2, 6, 7).

A first set-up interrupted half way leaves nothing or a usable store; `init --force` remakes booking's
tables; another application's SQLite file or database is refused before anything is changed (not even
the journal mode); a URL without a database is refused; a lock held by another session, a server
that stops answering and a backend killed mid-run end within the deadline, in one line.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from booking import init_store
from booking.stores import limits
from tests.helpers import digest, plain_connect


def journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


class TestFirstSetUp:
    def test_an_interrupted_first_set_up_leaves_nothing_or_a_usable_store(self, cli: Any, tmp_path: Path) -> None:
        """The issue's repro: Ctrl-C while a new SQLite store is seeded. Then a plain run works.

        A subprocess: SIGINT goes to the command's own process, whose handlers turn it into one line."""
        store = tmp_path / "t.db"
        proc = subprocess.Popen(
            [sys.executable, "-m", "booking", "init", "--store", str(store), "--tickets", "3000000"],
            stderr=subprocess.PIPE,
            text=True,
        )
        give_up = time.monotonic() + 30
        while not store.exists() and time.monotonic() < give_up:
            time.sleep(0.005)  # polling for the file to appear: the signal must land during the set-up
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, 130), err
        if proc.returncode == 130:
            assert err.startswith("booking: interrupted by SIGINT") and len(err.splitlines()) == 1, err
            assert not store.exists(), "the file this set-up created is removed again"
        ran = cli("simulate", "--store", store, "--tickets", "5", "--buyers", "2", "-q")
        assert ran.code == 0, ran.err

    def test_booking_tables_without_a_revision_need_force(self, cli: Any, tmp_path: Path) -> None:
        """Left by an older booking cut short: refused with the way out, and `init --force` takes it."""
        store = tmp_path / "t.db"
        with sqlite3.connect(store) as conn:
            conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, sold_to INTEGER)")
        ran = cli("simulate", "--store", store, "-q")
        assert ran.code == 2 and "init --force" in ran.err, ran.err
        assert cli("init", "--store", store, "--tickets", "3", "--force").code == 0
        assert cli("simulate", "--store", store, "--keep", "--buyers", "2", "-q").code == 0


class TestNotOurs:
    def _foreign(self, path: Path, alembic: bool) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
            conn.execute("INSERT INTO users (name) VALUES ('ada')")
            if alembic:
                conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
                conn.execute("INSERT INTO alembic_version VALUES ('3f2a9c1b')")

    @pytest.mark.parametrize("alembic", [False, True], ids=["plain", "own-alembic"])
    @pytest.mark.parametrize("command", [["simulate"], ["init", "--force"], ["db", "upgrade"]], ids="-".join)
    def test_another_applications_sqlite_file_is_left_as_it_was(
        self, cli: Any, tmp_path: Path, command: list[str], alembic: bool
    ) -> None:
        store = tmp_path / "app.db"
        self._foreign(store, alembic)
        before = digest(store)
        ran = cli(*command, "--store", store)
        assert (ran.code == 2 and "not a booking store" in ran.err) or "booking adds its tables" in ran.err, ran.err
        assert len(ran.err.splitlines()) == 1
        assert digest(store) == before and journal_mode(store) == "delete"
        assert not Path(f"{store}-wal").exists()

    @pytest.mark.parametrize("command", [["simulate", "--buyers", "2", "-q"], ["init", "--tickets", "2"]], ids="-".join)
    def test_init_store_adds_bookings_tables_beside_yours(self, cli: Any, tmp_path: Path, command: list[str]) -> None:
        """Asked for (--init-store), booking's tables join the application's, which are left as they were;
        from then on the store has booking's revision and needs no flag."""
        store = tmp_path / "app.db"
        self._foreign(store, alembic=False)
        ran = cli(*command, "--store", store, "--init-store")
        assert ran.code == 0, ran.err
        with sqlite3.connect(store) as conn:
            assert conn.execute("SELECT name FROM users").fetchall() == [("ada",)]
            assert {"users", "tickets", "purchases"} <= {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert cli("simulate", "--store", store, "--buyers", "2", "-q").code == 0

    def test_a_url_without_a_database_is_refused(self, cli: Any, postgresql_url: str) -> None:
        """Without one, the server picks its maintenance database `postgres`: booking must not seed it."""
        server = postgresql_url.rsplit("/", 1)[0]

        def maintenance_tables() -> object:
            conn = plain_connect(server + "/postgres")
            try:
                cur = conn.cursor()
                cur.execute("SELECT schemaname, tablename, tableowner FROM pg_tables ORDER BY 1, 2")
                return cur.fetchall()
            finally:
                conn.close()

        before = maintenance_tables()
        for url in (server, server + "/"):
            ran = cli("simulate", "--store", url)
            assert ran.code == 2 and "names no database" in ran.err, ran.err
        assert maintenance_tables() == before


@pytest.fixture
def locked_tickets(postgresql_url: str) -> Iterator[None]:
    """Another session holds LOCK TABLE tickets for the block."""
    init_store(postgresql_url, 3)
    conn = plain_connect(postgresql_url)
    cur = conn.cursor()
    cur.execute("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


class TestDeadlines:
    @pytest.mark.parametrize("command", [["simulate", "--deadline", "2"], ["init", "--deadline", "2"]], ids="-".join)
    def test_a_lock_held_by_another_session(
        self, cli: Any, postgresql_url: str, locked_tickets: None, command: list[str]
    ) -> None:
        """The issue: blocked indefinitely. Now the server's lock timeout ends it within the deadline."""
        started = time.monotonic()
        ran = cli(*command, "--store", postgresql_url)
        assert ran.code == 3 and "lock timeout" in ran.err and len(ran.err.splitlines()) == 1, ran.err
        assert time.monotonic() - started < 30  # bounded by the deadline, not by the lock holder

    def test_a_server_that_stops_answering_while_seeding(
        self, cli: Any, postgresql_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A paused server (SIGSTOP) never answers and never times out: the watchdog cuts the connection."""
        monkeypatch.setattr(limits, "WATCHDOG_GRACE_S", 0.1)  # no server timeout can fire first here
        with Stalling(postgresql_url, when=b"INSERT INTO tickets") as url:
            started = time.monotonic()
            ran = cli("init", "--store", url, "--tickets", "50", "--deadline", "2")
        assert ran.code == 3 and "no answer within 2 s" in ran.err and len(ran.err.splitlines()) == 1, ran.err
        assert time.monotonic() - started < 30

    @pytest.mark.slow  # 25-60 s: the killed backend's buyers wait out their statement timeouts
    def test_a_backend_killed_mid_run(self, cli: Any, postgresql_url: str, tmp_path: Path) -> None:
        """One line per affected attempt, no driver traceback, and the history is written."""
        init_store(postgresql_url, 5000)
        history = tmp_path / "h.jsonl"
        args = ["--keep", "--buyers", "6", "--until-sold-out", "--schedule", "free", "--think", "2", "--json"]
        ready = threading.Event()
        killer = threading.Thread(target=_terminate_backends, args=(postgresql_url, 6, ready))
        killer.start()  # the run goes on in this thread (its signal handlers need the main thread)
        ready.wait(30)
        try:
            ran = cli("simulate", "--store", postgresql_url, *args, "--history", history)
        finally:
            killer.join(60)
        out, err = ran.out, ran.err
        assert "Traceback" not in err and "Exception during reset" not in err, err
        result = json.loads(out)
        assert ran.code == 3 and result["unavailable"] >= 1 and result["errors"] == 0, [
            a["story"] for a in result["anomalies"]
        ]
        assert any("connection" in line for line in result["could_not_run"]), result["could_not_run"]
        assert history.exists() and history.read_text().count('"kind":"attempt"') == result["attempts"]


def _terminate_backends(url: str, buyers: int, ready: threading.Event) -> None:
    """Once the run's buyers are connected, end every server session the run opened (pg_terminate_backend).
    Sessions open before the run (this process's own pooled ones) are left alone: `ready` says they are known."""
    database = url.rsplit("/", 1)[1]
    admin = plain_connect(url)
    admin.autocommit = True
    try:
        cur = admin.cursor()
        others = "datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        cur.execute(f"SELECT coalesce(array_agg(pid), '{{}}') FROM pg_stat_activity WHERE {others}", (database,))
        before = cur.fetchone()[0]
        ready.set()
        new = f"{others} AND NOT (pid = ANY(%s))"
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up:
            cur.execute(f"SELECT count(*) FROM pg_stat_activity WHERE {new}", (database, before))
            if cur.fetchone()[0] >= buyers:
                break
            time.sleep(0.01)  # polling for the buyers to connect, not timing the race
        cur.execute(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {new}", (database, before))
    finally:
        ready.set()
        admin.close()


class Stalling:
    """A TCP proxy to the server that stops forwarding, both ways, once the client sends `when`."""

    def __init__(self, url: str, when: bytes) -> None:
        self.url, self.when = url, when
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stalled = threading.Event()
        self.closing = threading.Event()
        self.sockets: list[socket.socket] = [self.listener]

    def __enter__(self) -> str:
        threading.Thread(target=self._accept, daemon=True).start()
        port = self.listener.getsockname()[1]
        head, tail = self.url.rsplit("@", 1)
        return f"{head}@127.0.0.1:{port}/{tail.split('/', 1)[1]}"

    def __exit__(self, *_: object) -> None:
        self.closing.set()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked on it; close() alone would not
            s.close()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", 5432))
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        try:
            while data := src.recv(65536):
                if from_client and self.when in data:
                    self.stalled.set()
                if self.stalled.is_set():
                    self.closing.wait()  # paused: nothing more goes through, no answer comes back
                    return
                dst.sendall(data)
        except OSError:
            return
