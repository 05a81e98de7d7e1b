"""One identity per store: the one-run-per-store guard holds what the store is, not how it was named.

A second name for the same store (a link to db.json, a `file:` URI for a SQLite file) meets the claim
the first name took; a claim that cannot be taken refuses the run (exit 3, one line) instead of
letting it run unguarded; and a schema change waits for no run: it is refused while one holds the store.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

import booking
from booking.options.store_url import StoreURL
from booking.stores import open_store
from booking.stores.claim import claim
from tests.helpers import digest, held_elsewhere, run_command

IN_USE = "is in use by another booking run"


class TestSecondNames:
    def test_a_link_to_db_json_is_the_same_store(self, tmp_path: Path) -> None:
        store = tmp_path / "db.json"
        booking.init_store(str(store), 5)
        link = tmp_path / "other-name.json"
        link.symlink_to(store)
        with claim(str(store), exclusive=True):
            ran = run_command("simulate", "--store", link, "-q")
            assert ran.code == 3 and IN_USE in ran.err and len(ran.err.splitlines()) == 1, ran.err
        with claim(str(link), exclusive=False):  # and the other way round: a --keep run through the link
            ran = run_command("simulate", "--store", store, "-q")
            assert ran.code == 3 and IN_USE in ran.err, ran.err
        assert digest(store) is not None and booking.simulate(booking.RunConfig(store=str(link), buyers=2)).ok

    def test_a_linked_directory_is_the_same_store(self, tmp_path: Path) -> None:
        (tmp_path / "real").mkdir()
        (tmp_path / "alias").symlink_to(tmp_path / "real")
        store = tmp_path / "real" / "t.db"
        booking.init_store(str(store), 5)
        with claim(str(store), exclusive=True):
            ran = run_command("simulate", "--store", tmp_path / "alias" / "t.db", "-q")
            assert ran.code == 3 and IN_USE in ran.err, ran.err

    @pytest.mark.parametrize("form", ["sqlite:///file:{path}?uri=true", "sqlite:///{path}", "{path}"])
    def test_every_url_form_of_a_sqlite_file_is_the_same_store(self, form: str, tmp_path: Path) -> None:
        store = tmp_path / "t.db"
        booking.init_store(str(store), 5)
        with claim(str(store), exclusive=True):
            ran = run_command("simulate", "--store", form.format(path=store), "-q")
            assert ran.code == 3 and IN_USE in ran.err, ran.err
        with claim(f"sqlite:///file:{store}?uri=true", exclusive=True):
            ran = run_command("simulate", "--store", store, "--keep", "-q")
            assert ran.code == 3 and IN_USE in ran.err, ran.err


class TestNeverSkipped:
    def test_a_directory_at_the_claim_path_refuses_the_run(self, tmp_path: Path) -> None:
        store = tmp_path / "db.json"
        booking.init_store(str(store), 5)
        before = digest(store)
        (tmp_path / "db.json.in-use").mkdir()
        for args in (["simulate"], ["simulate", "--keep"], ["init", "--tickets", "3"]):
            ran = run_command(*args, "--store", store)
            assert ran.code == 3, (args, ran.err)
            assert "cannot claim it" in ran.err and "db.json.in-use" in ran.err and len(ran.err.splitlines()) == 1
        assert digest(store) == before

    def test_a_link_at_the_claim_path_refuses_the_run(self, tmp_path: Path) -> None:
        store = tmp_path / "t.db"
        booking.init_store(str(store), 5)
        (tmp_path / "t.db.in-use").symlink_to(tmp_path / "nowhere")
        ran = run_command("simulate", "--store", store, "-q")
        assert ran.code == 3 and "cannot claim it" in ran.err, ran.err
        assert not (tmp_path / "nowhere").exists()


class TestSchemaChanges:
    @pytest.mark.parametrize("kind", ["sqlite", "postgresql", pytest.param("mysql", marks=pytest.mark.slow)])
    def test_db_downgrade_and_upgrade_are_refused_while_a_run_holds_the_store(
        self, kind: str, store_url: Callable[[str], str], cli: Any
    ) -> None:
        url = store_url(kind)
        booking.init_store(url, 5)
        for exclusive in (True, False):  # a run that seeded the store, or a --keep run
            with held_elsewhere(url, exclusive):  # a claim is per process: the run holds it in another
                ran = cli("db", "downgrade", "--store", url, "base", "--yes")
                assert ran.code == 3 and IN_USE in ran.err and len(ran.err.splitlines()) == 1, ran.err
                assert cli("db", "upgrade", "--store", url).code == 3
            assert booking.schema_state(url).at_head  # the tables are still there
        ran = cli("db", "downgrade", "--store", url, "base", "--yes")
        assert ran.code == 0, ran.err  # free again


# -- --keep runs at once: judged together from the journal their claim keeps, in both directions.
#
# Two real invocations (two runs at once is the point). Their overlap is made, not hoped for: run A is
# started and, once it says it began (its first line), stopped whole (SIGSTOP to its process group);
# run B then runs from start to end while A is stopped, so B's sales fall inside A's run; then A goes on.


def _start(store: str, strategy: str, *extra: str) -> subprocess.Popen[str]:
    args = ["--store", store, "--keep", "--lock", strategy, "--buyers", "2", "--attempts", "1"]
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "booking", "simulate", *args, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: stopped and continued with its buyers
    )


def _wait_for(proc: subprocess.Popen[str], words: str) -> None:
    """Read the run's live output until a line holds `words`."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if words in line:
            return
    raise AssertionError(f"the run ended before saying {words!r}: exit {proc.wait()}")


def _verdicts(
    store: str, strategy: str, held: Callable[[], Any], a_until: str, *extra: str, think: str = "3000"
) -> tuple[Any, str, int]:
    """Run A, stopped once it says `a_until`; run B whole meanwhile; then A's end. B's JSON, A's words and
    exit code (A's live output is the signal that it began). A's buyers think `think` ms inside the window:
    the time the stop has to land when `a_until` is said inside it."""
    with held():
        a = _start(store, strategy, "--think", think, *extra)
        try:
            _wait_for(a, a_until)
            os.killpg(a.pid, signal.SIGSTOP)
        except BaseException:
            a.kill()
            raise
    try:
        b = subprocess.run(
            [sys.executable, "-m", "booking", "simulate", "--store", store, "--keep", "--lock", strategy,
             "--buyers", "2", "--attempts", "1", "--json", *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        os.killpg(a.pid, signal.SIGCONT)
    out, err = a.communicate(timeout=120)
    assert a.returncode in (0, 1) and b.returncode in (0, 1), (a.returncode, out, err, b.returncode, b.stderr)
    return json.loads(b.stdout), " ".join(out.split()), a.returncode


# Each kind of store keeps the --keep journal its own way (the claim file, a table on the server); the default
# suite judges one run pair per way, the other kinds run under -m slow.
class TestKeepRunsTogether:
    @pytest.mark.parametrize("kind", ["sqlite", pytest.param("db.json", marks=pytest.mark.slow), "postgresql"])
    def test_a_safe_strategy_is_not_unsafe_for_the_other_run_s_sales(
        self, kind: str, tmp_path: Path, store_url: Callable[[str], str]
    ) -> None:
        store = str(tmp_path / "db.json") if kind == "db.json" else store_url(kind)
        booking.init_store(store, 10)
        opened = open_store(StoreURL.parse(store))
        # A is stopped once its buyers have looked and go for this lock (not before: a buyer stopped while
        # it warms its connection could hold the database), so none holds it then.
        lock = FileLock(str(opened.lock_path()))
        opened.close()
        b, a_said, a_exit = _verdicts(store, "file-lock", lambda: lock, "buyers have looked", think="0")
        assert a_exit == 0 and "verdict: OK" in a_said, a_said  # B's sales are B's, not unreceipted
        assert "sold 4 remaining 6" in a_said  # both runs' receipts, the whole store
        assert b["ok"], b["anomalies"]
        assert (b["runs_still_selling"], b["unreceipted"]) == (1, None)  # A still sells: A judges those sales

    @pytest.mark.parametrize("kind", ["db.json", pytest.param("sqlite", marks=pytest.mark.slow)])
    def test_a_double_sale_across_runs_is_never_ok_in_every_run(
        self, kind: str, tmp_path: Path, store_url: Callable[[str], str]
    ) -> None:
        """mp-lock protects one invocation: A's buyer read the stock and is stopped inside the window; B
        sells the same tickets; A's buyers then sell them again. B cannot know (A still sells), A can."""
        store = str(tmp_path / "db.json") if kind == "db.json" else store_url(kind)
        booking.init_store(store, 10)
        reads = "reads count=10" if kind == "db.json" else "reads ticket"
        b, a_said, a_exit = _verdicts(store, "mp-lock", contextlib.nullcontext, reads)
        assert (b["ok"], a_exit) != (True, 0), a_said
        assert a_exit == 1 and "double_sold 0" not in a_said and "UNSAFE" in a_said, a_said
