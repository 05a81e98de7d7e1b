"""Nothing lost, nothing overwritten: the files booking writes never follow a link someone planted,
never land on the store, replace a file whole, and keep the text somewhere when they cannot."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from booking.errors import BadInput
from booking.files import write_text
from booking.history import History, save


def _sticky_shared(tmp_path: Path) -> Path:
    shared = tmp_path / "pub"
    shared.mkdir()
    shared.chmod(0o1777)
    return shared


def _as_nobody(path: Path, target: Path) -> None:
    """`ln -s target path` made by user nobody (uid 65534): the link is theirs."""
    os.symlink(target, path)
    os.lchown(path, 65534, 65534)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="making a link owned by another user needs root")


class TestPlantedLinks:
    @needs_root
    def test_a_history_through_another_users_link_in_a_shared_directory_is_refused(
        self, tmp_path: Path, cli: Any, store: Path
    ) -> None:
        """The history path is a link user nobody planted in a sticky world-writable directory: refused
        before the run, exit 2, and the link's target is left as it was."""
        owned = tmp_path / "owned"
        owned.write_text("root's own file\n")
        link = _sticky_shared(tmp_path) / "run.jsonl"
        _as_nobody(link, owned)
        ran = cli("simulate", "--store", store, "--history", link, "-q")
        assert ran.code == 2
        assert "another user" in ran.err and len(ran.err.strip().splitlines()) == 1
        assert owned.read_text() == "root's own file\n"
        assert store.read_text() == '{"count": 1}'  # refused before any buyer ran

    @needs_root
    def test_the_refusal_holds_at_write_time_too(self, tmp_path: Path) -> None:
        """A link planted after the checks (while the run ran) is refused when the file is written, and the
        text is kept in a temporary file that the error names."""
        owned = tmp_path / "owned"
        owned.write_text("kept\n")
        link = _sticky_shared(tmp_path) / "report.html"
        _as_nobody(link, owned)
        with pytest.raises(BadInput, match="kept in ") as caught:
            write_text(link, "<html>", "--out")
        assert owned.read_text() == "kept\n"
        kept = Path(str(caught.value).rsplit("kept in ", 1)[1])
        assert kept.read_text() == "<html>"
        kept.unlink()

    def test_your_own_link_is_followed(self, tmp_path: Path) -> None:
        """A link you made, in your own directory, is written through: the file it names is replaced."""
        real = tmp_path / "real.jsonl"
        real.write_text("old\n")
        link = tmp_path / "h.jsonl"
        link.symlink_to(real)
        write_text(link, "new\n", "history")
        assert link.is_symlink() and real.read_text() == "new\n"


class TestNeverTheStore:
    def test_a_history_that_became_a_link_to_the_store_is_not_written(self, tmp_path: Path, store: Path) -> None:
        """The history path turned into a link to db.json while the run ran: the store is not destroyed,
        the history is kept elsewhere and the error says where."""
        history = tmp_path / "h.jsonl"
        history.symlink_to(store)
        with pytest.raises(BadInput, match="is the store") as caught:
            save(History(), history, never=[store])
        assert store.read_text() == '{"count": 1}'
        assert Path(str(caught.value).rsplit("kept in ", 1)[1]).exists()


class TestReplacedWhole:
    def test_an_existing_file_is_replaced_not_rewritten_in_place(self, tmp_path: Path) -> None:
        """A new inode with the old file's permissions: a reader holding the old file sees it whole."""
        path = tmp_path / "h.jsonl"
        path.write_text("a long old history\n" * 100)
        path.chmod(0o640)
        before = path.stat().st_ino
        with path.open() as reader:
            write_text(path, "new\n", "history")
            assert reader.read() == "a long old history\n" * 100
        assert path.read_text() == "new\n"
        assert path.stat().st_ino != before
        assert stat.S_IMODE(path.stat().st_mode) == 0o640

    def test_a_device_is_written_in_place(self, tmp_path: Path) -> None:
        """/dev/null takes the text and stays a device."""
        write_text(Path("/dev/null"), "x", "history")
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)

    def test_no_temporary_file_is_left_beside_it(self, tmp_path: Path) -> None:
        write_text(tmp_path / "r.md", "# report\n", "--out")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md"]


class TestClaimFile:
    def test_a_dangling_link_at_the_claim_file_creates_nothing(self, tmp_path: Path, cli: Any, store: Path) -> None:
        """A link planted at db.json.in-use pointing nowhere: booking never creates the file it names."""
        elsewhere = tmp_path / "elsewhere" / "created"
        elsewhere.parent.mkdir()
        (tmp_path / "db.json.in-use").symlink_to(elsewhere)
        cli("simulate", "--store", store, "-q")
        assert not elsewhere.exists()


def _catches(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler for `signum` (its SigCgt mask in /proc)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            caught = next(line for line in status if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(int(caught.split()[1], 16) >> (signum - 1) & 1)


@pytest.mark.slow
def test_a_sighup_during_start_up_is_never_lost(tmp_path: Path) -> None:
    """SIGHUP at 500 random moments of a run's start-up (once booking's own handler is in place: before
    that the interpreter itself is starting): one line, exit 129, no process left, every time."""
    import random
    import signal
    import subprocess
    import sys
    import time

    trials = int(os.environ.get("BOOKING_SIGHUP_TRIALS", "500"))
    rng = random.Random(20261207)
    failures = []
    for trial in range(trials):
        store = tmp_path / f"db{trial}.json"
        store.write_text('{"count": 1}')
        buyers = os.environ.get("BOOKING_SIGHUP_BUYERS", "100")  # a fork each: the window is while they start
        command = [sys.executable, "-m", "booking", "simulate", "--store", str(store), "--buyers", buyers]
        command += ["--think", "2000", "-q"]
        p = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while not _catches(p.pid, signal.SIGHUP) and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)  # waiting for a condition the test cannot be told of otherwise
        time.sleep(rng.uniform(0, 0.4))  # the random moment is the experiment
        os.kill(p.pid, signal.SIGHUP)
        err = p.communicate(timeout=120)[1].decode()
        left = _group_alive(p.pid)
        if p.returncode != 129 or len(err.strip().splitlines()) != 1 or "Traceback" in err or left:
            failures.append((trial, p.returncode, err[-300:], left))
    assert not failures, f"{len(failures)} of {trials} runs lost the signal or left a process: {failures[:3]}"


def _group_alive(pgid: int) -> bool:
    import time

    deadline = time.monotonic() + 5  # buyers die with their parent (a death signal): give them time
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.01)
    return True


class TestExitCodes:
    def test_debug_changes_what_is_said_never_the_code(self, cli: Any, store: Path) -> None:
        """--debug adds the traceback; bad input still exits 2, as without it."""
        plain = cli("simulate", "--store", store, "--buyers", "-1")
        debug = cli("--debug", "simulate", "--store", store, "--buyers", "-1")
        assert plain.code == debug.code == 2
        assert "Traceback" in debug.err and "Traceback" not in plain.err

    def test_a_store_name_no_file_system_takes_is_bad_input(self, cli: Any, tmp_path: Path) -> None:
        """A 300-character file name: one line, exit 2 (the input is wrong, not the environment)."""
        ran = cli("simulate", "--store", tmp_path / ("a" * 300 + ".json"), "-q")
        assert ran.code == 2
        assert len(ran.err.strip().splitlines()) == 1 and "too long" in ran.err


class TestAnotherApplicationsTables:
    def test_never_touched_force_or_not(self, cli: Any, tmp_path: Path) -> None:
        """An application's own `tickets` and `purchases` tables: simulate refuses, and so does the
        init --force its refusal used to recommend; the rows are still there."""
        import sqlite3

        app = tmp_path / "app.db"
        with sqlite3.connect(app) as db:
            db.execute("create table tickets(id integer primary key, title text, price int)")
            db.execute("insert into tickets(title, price) values ('concert', 50)")
            db.execute("create table purchases(x text)")
        for command in (["simulate", "-q"], ["init", "--tickets", "3", "--force"], ["init", "--init-store"]):
            ran = cli(*command, "--store", app)
            assert ran.code == 2, (command, ran.err)
            assert "another application's" in ran.err and "--force" not in ran.err.split("never")[0]
        with sqlite3.connect(app) as db:
            assert db.execute("select title, price from tickets").fetchall() == [("concert", 50)]
            assert db.execute("select count(*) from purchases").fetchone() == (0,)


class TestSignalsNeverLost:
    def test_a_signal_python_wrapped_while_making_a_class_still_ends_the_command_as_a_signal(self) -> None:
        """SIGHUP landing while an import makes a class reaches booking as "RuntimeError: Error calling
        __set_name__": still one line and 128 + the signal, never "unexpected RuntimeError", exit 3."""
        from booking.cli import exits
        from booking.processes import signals

        class Lands:
            def __set_name__(self, owner: type, name: str) -> None:
                raise signals.Interrupted(1)

        def make() -> None:
            class Made:
                field = Lands()

        command = type("Command", (), {"main": lambda self, **kw: make()})()
        assert exits.run_command(command, []) == 129
