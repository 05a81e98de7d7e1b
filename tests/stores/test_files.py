"""Files written safely (issue 12, items 4 and 6): no write through a planted symlink, a symlinked store
updated where it points, mode and other keys kept, lock files named by what the store is and usable by
every user of it, and no output that destroys the store."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import booking
from booking import CannotRun, init_store
from booking.history import Attempt, History, save
from booking.stores import open_store
from tests.helpers import digest, run_command


def next_pids(count: int) -> list[int]:
    """The pids the kernel will hand out next (it counts up from the last one it gave)."""
    last = int(Path("/proc/sys/kernel/ns_last_pid").read_text())
    top = int(Path("/proc/sys/kernel/pid_max").read_text())
    return [(last + i) % top for i in range(1, count + 1)]


class TestDbJsonWrites:
    def test_planted_symlinks_are_never_written_through(self, cli: Any, tmp_path: Path) -> None:
        """The issue's repro: symlinks named like the next writers' temporary files, pointing at a 0600
        file someone else owns. The victim is untouched and db.json stays a regular file."""
        victim = tmp_path / "victim"
        victim.write_text("root's secret\n")
        victim.chmod(0o600)
        store = tmp_path / "db.json"
        init_store(str(store), 5)
        for pid in next_pids(3000):
            (tmp_path / f".db.json.{pid}.tmp").symlink_to(victim)
        ran = cli("simulate", "--store", store, "--buyers", "5", "--tickets", "5", "--no-lock", "-q")
        assert ran.code in (0, 1), ran.err
        assert victim.read_text() == "root's secret\n" and stat.S_IMODE(victim.stat().st_mode) == 0o600
        assert not store.is_symlink() and json.loads(store.read_text())["count"] < 5

    def test_a_symlinked_store_is_updated_where_it_points(self, cli: Any, tmp_path: Path) -> None:
        (tmp_path / "data").mkdir()
        real = tmp_path / "data" / "real.json"
        real.write_text('{"count": 4}')
        link = tmp_path / "db.json"
        link.symlink_to(real)
        ran = cli("simulate", "--store", link, "--keep", "--buyers", "3", "--json")
        assert ran.code == 0, ran.err
        assert link.is_symlink() and json.loads(real.read_text())["count"] == 1
        assert not list((tmp_path / "data").glob(".*.tmp")) and not list(tmp_path.glob(".*.tmp"))

    def test_mode_and_other_keys_are_kept(self, cli: Any, tmp_path: Path) -> None:
        store = tmp_path / "db.json"
        store.write_text('{"count": 3, "owner": "ops"}')
        store.chmod(0o640)
        assert cli("simulate", "--store", store, "--keep", "--buyers", "2", "-q").code == 0
        assert json.loads(store.read_text()) == {"count": 1, "owner": "ops"}
        assert stat.S_IMODE(store.stat().st_mode) == 0o640
        assert cli("init", "--store", store, "--tickets", "7").code == 0
        assert json.loads(store.read_text()) == {"count": 7, "owner": "ops"}
        assert stat.S_IMODE(store.stat().st_mode) == 0o640

    def test_tidy_takes_the_store_name_literally(self, cli: Any, tmp_path: Path) -> None:
        """`st[1].json` is a name, not a glob pattern: a dead writer's temporary file is still removed."""
        store = tmp_path / "st[1].json"
        init_store(str(store), 2)
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        leftover = tmp_path / f".st[1].json.{int(dead.stdout)}.abc123.tmp"
        leftover.write_text('{"cou')
        assert cli("simulate", "--store", store, "--buyers", "2", "-q").code == 0
        assert not leftover.exists()


class TestLockIdentity:
    """Two spellings of one store take one lock (the issue double-sold 41 to 56 tickets otherwise)."""

    def test_file_stores(self, tmp_path: Path) -> None:
        init_store(str(tmp_path / "t.db"), 1)
        (tmp_path / "link.db").symlink_to(tmp_path / "t.db")
        spellings = [
            str(tmp_path / "t.db"),
            f"sqlite:///{tmp_path / 't.db'}",
            f"sqlite:///file:{tmp_path / 't.db'}?uri=true",
            str(tmp_path / "link.db"),
        ]
        assert len({str(open_store(s).lock_path()) for s in spellings}) == 1
        (tmp_path / "db.json").write_text('{"count": 1}')
        (tmp_path / "alias.json").symlink_to(tmp_path / "db.json")
        assert open_store(str(tmp_path / "alias.json")).lock_path() == open_store(str(tmp_path / "db.json")).lock_path()

    def test_servers(self) -> None:
        same = [
            "postgresql+psycopg://postgres@127.0.0.1/shop",
            "postgresql+psycopg://postgres@127.0.0.1:5432/shop",
            "postgresql+psycopg://postgres@localhost/shop",
            "postgresql+psycopg://other:identity-pw-5Kq@LOCALHOST:5432/shop",
        ]
        paths = {open_store(s).lock_path() for s in same}
        assert len(paths) == 1
        (path,) = paths
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and path.parent.stat().st_uid == os.getuid()
        assert open_store("postgresql+psycopg://postgres@127.0.0.1:5432/other").lock_path() != path
        assert open_store("postgresql+psycopg://postgres@127.0.0.1:5433/shop").lock_path() != path

    def test_two_spellings_at_once_never_double_sell(self, tmp_path: Path) -> None:
        db = tmp_path / "t.db"
        init_store(str(db), 60)
        (tmp_path / "link.db").symlink_to(db)
        args = ["--keep", "--lock", "file-lock", "--buyers", "2", "--until-sold-out", "--schedule", "free"]
        args += ["--think", "5", "-q"]
        procs = [
            subprocess.Popen([sys.executable, "-m", "booking", "simulate", "--store", spec, *args])
            for spec in (f"sqlite:///file:{db}?uri=true", str(tmp_path / "link.db"))
        ]
        # 1: each run alone counts the other's sales as unreceipted; 4: a run whose two buyers never met
        # in the window (a loaded machine) proved nothing. What matters here is the store.
        codes = [p.wait(timeout=120) for p in procs]
        assert all(code in (0, 1, 4) for code in codes), codes
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT ticket_id) FROM purchases").fetchone()
        assert rows == (60, 60)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user may write (like /tmp), outside root's private pytest directory."""
    directory = Path(tempfile.mkdtemp(prefix="booking-shared-", dir="/tmp"))
    directory.chmod(0o777)
    try:
        yield directory
    finally:
        subprocess.run(["rm", "-rf", str(directory)], check=True)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_another_users_leftover_lock_file_does_not_refuse_a_run(cli: Any, shared_dir: Path) -> None:
    """root's file-lock run leaves db.json.lock; user nobody's run on the same store must not fail on it
    (that one a real process: it runs as another user)."""
    store = shared_dir / "db.json"
    assert cli("simulate", "--store", store, "--lock", "file-lock", "--tickets", "3", "-q").code == 0
    store.chmod(0o666)  # the store is shared; booking keeps its mode
    lock = shared_dir / "db.json.lock"
    assert lock.exists() and stat.S_IMODE(lock.stat().st_mode) == 0o666

    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*nobody, sys.executable, "-c", "import booking"], capture_output=True, cwd=shared_dir)
    if probe.returncode != 0:  # e.g. a checkout under a 0700 directory (mktemp -d): nobody cannot read it
        pytest.skip(f"user nobody cannot import booking from this checkout ({Path(booking.__file__).parent})")
    ran = subprocess.run(
        [*nobody, sys.executable, "-m", "booking", "simulate", "--store", store, "--lock", "file-lock", "--keep", "-q"],
        capture_output=True,
        text=True,
        cwd=shared_dir,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a directory another user owns")
def test_a_planted_server_lock_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """For a server the lock lives in $TMPDIR/booking-locks-<uid>: one made by someone else is refused."""
    planted = tmp_path / f"booking-locks-{os.getuid()}"
    planted.mkdir(mode=0o777)
    os.chown(planted, 65534, 65534)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # what $TMPDIR sets, for this process
    with pytest.raises(CannotRun, match="not this user's private directory"):
        open_store("postgresql+psycopg://u@127.0.0.1/db").lock_path()


class TestOutputsNeverDestroyTheStore:
    def test_history_that_is_the_store_is_refused(self, cli: Any, tmp_path: Path) -> None:
        db = tmp_path / "t.db"
        init_store(str(db), 3)
        (tmp_path / "alias").symlink_to(db)
        before = digest(db)
        for history in (db, tmp_path / "alias", tmp_path / "t.db.lock"):
            ran = cli("simulate", "--store", db, "--history", history, "-q")
            assert ran.code == 2 and "is the store" in ran.err, ran.err
        assert digest(db) == before
        assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM tickets").fetchone() == (3,)

    def test_compare_out_that_is_a_store_is_refused(self, cli: Any, tmp_path: Path) -> None:
        store = tmp_path / "db.json"
        store.write_text('{"count": 1}')
        ran = cli("compare", "--stores", store, "--out", store, "--trials", "1", "--buyers", "1")
        assert ran.code == 2 and "is the store" in ran.err, ran.err
        assert store.read_text() == '{"count": 1}'

    @pytest.mark.parametrize("command", [["simulate", "--history"], ["compare", "--trials", "1", "--out"]])
    def test_dev_full_is_refused_before_the_run(self, cli: Any, tmp_path: Path, command: list[str]) -> None:
        store = tmp_path / "db.json"
        store.write_text('{"count": 4}')
        option = "--store" if command[0] == "simulate" else "--stores"
        ran = cli(*command, "/dev/full", option, store)
        assert ran.code == 2 and "No space left on device" in ran.err, ran.err
        assert ran.out == "" and store.read_text() == '{"count": 4}'  # refused before anything ran

    def test_a_fifo_history_is_refused_without_hanging(self, tmp_path: Path) -> None:
        """A real process: its timeout turns a hang on opening the FIFO into a failure."""
        fifo = tmp_path / "h.jsonl"
        os.mkfifo(fifo)
        ran = run_command("simulate", "--store", tmp_path / "db.json", "--history", fifo, timeout=30)
        assert ran.code == 2 and "not a regular file" in ran.err

    def test_a_history_the_disk_refuses_after_the_run_is_kept(self) -> None:
        history = History([Attempt(1, 0)])
        with pytest.raises(CannotRun, match="kept in") as caught:
            save(history, Path("/dev/full"))
        kept = Path(str(caught.value).rsplit("kept in ", 1)[1])
        try:
            assert json.loads(kept.read_text().splitlines()[0])["buyer"] == 1
        finally:
            kept.unlink()
