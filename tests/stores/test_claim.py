"""The store-in-use guard: a run that would reseed a store another run is using is refused (exit 3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import booking
from booking.stores.claim import claim
from tests.helpers import digest, held_elsewhere

STORES = ["db.json", "sqlite", "postgresql", "mysql"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path, store_url: Callable[[str], str]) -> str:
    if request.param == "db.json":
        return str(tmp_path / "db.json")
    return store_url(request.param)


class TestHeldAlone:
    def test_a_seeding_run_is_refused_while_another_run_seeds_it(self, cli: Any, store: str) -> None:
        booking.init_store(store, 5)
        with held_elsewhere(store, exclusive=True):  # another run that seeded the store, still running
            for args in (["simulate", "-q"], ["simulate", "--keep", "-q"]):
                ran = cli(*args, "--store", store)
                assert ran.code == 3, (args, ran.err)
                assert "is in use by another booking run" in ran.err and len(ran.err.splitlines()) == 1
        assert booking.simulate(booking.RunConfig(store=store, buyers=2)).ok  # free again

    def test_keep_runs_share_but_never_with_a_seeding_run(self, cli: Any, store: str) -> None:
        booking.init_store(store, 5)
        with held_elsewhere(store, exclusive=False):  # a --keep run, still running
            assert cli("simulate", "--store", store, "--keep", "--buyers", "2", "-q").code == 0
            ran = cli("simulate", "--store", store, "-q")
            assert ran.code == 3 and "seeding it now would change the stock" in ran.err
        assert booking.simulate(booking.RunConfig(store=store, buyers=2)).ok


class TestLockFile:
    def test_the_refused_run_leaves_the_store_as_it_was(self, cli: Any, tmp_path: Path) -> None:
        store = tmp_path / "db.json"
        booking.init_store(str(store), 7)
        before = digest(store)
        with held_elsewhere(str(store), exclusive=True):
            assert cli("simulate", "--store", store, "--tickets", "1", "-q").code == 3
            assert cli("init", "--store", store, "--tickets", "1").code == 3
            assert digest(store) == before

    def test_no_file_is_left_behind_and_a_stale_one_does_not_block(self, cli: Any, tmp_path: Path) -> None:
        store = tmp_path / "db.json"
        (tmp_path / "db.json.in-use").write_text("")  # left by a run that was SIGKILLed: nobody holds it
        assert cli("simulate", "--store", store, "-q").code == 0
        assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json"]

    def test_a_process_may_claim_again_what_it_holds(self, tmp_path: Path) -> None:
        """compare holds its stores for the whole matrix, and each of its runs claims them again."""
        store = str(tmp_path / "t.db")
        with claim(store, exclusive=True), claim(store, exclusive=True):
            assert booking.simulate(booking.RunConfig(store=store, buyers=2)).ok
        with held_elsewhere(store, exclusive=True):  # released: another process can have it
            pass


class TestKeepRunsStartingTogether:
    """A --keep run holds the claim file alone a moment before it shares it (the first of them empties the
    journal). Another --keep run meeting that moment tries again before taking it for a seeding run: two
    --keep invocations started together refused one another on a loaded machine."""

    def test_a_moment_alone_is_waited_out(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        import fcntl
        import os

        from booking.stores import claim as claims

        store = tmp_path / "db.json"
        other = os.open(tmp_path / "db.json.in-use", os.O_RDWR | os.O_CREAT)  # another run's own descriptor
        fcntl.flock(other, fcntl.LOCK_EX)  # its moment alone
        waits: list[float] = []

        def its_moment_ends(seconds: float) -> None:  # the first wait: the other run now shares it
            waits.append(seconds)
            fcntl.flock(other, fcntl.LOCK_SH)

        monkeypatch.setattr(claims.time, "sleep", its_moment_ends)
        try:
            with claim(str(store), exclusive=False) as journal:
                assert journal is not None and len(waits) == 1
        finally:
            os.close(other)

    def test_a_seeding_run_still_refuses_a_keep_run(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from booking.errors import CannotRun
        from booking.stores import claim as claims

        monkeypatch.setattr(claims.time, "sleep", lambda seconds: None)
        store = str(tmp_path / "db.json")
        refused = pytest.raises(CannotRun, match="that run seeded it")
        with held_elsewhere(store, exclusive=True), refused, claim(store, exclusive=False):
            pass
