"""One identity per store: the one-run-per-store guard holds what the store is, not how it was named.

A second name for the same store (a link to db.json, a `file:` URI for a SQLite file) meets the claim
the first name took; a claim that cannot be taken refuses the run (exit 3, one line) instead of
letting it run unguarded; and a schema change waits for no run: it is refused while one holds the store.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import booking
from booking.stores.claim import claim
from tests.helpers import digest, run_command

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
    @pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mysql"])
    def test_db_downgrade_and_upgrade_are_refused_while_a_run_holds_the_store(
        self, kind: str, store_url: Callable[[str], str]
    ) -> None:
        url = store_url(kind)
        booking.init_store(url, 5)
        for exclusive in (True, False):  # a run that seeded the store, or a --keep run
            with claim(url, exclusive=exclusive):
                ran = run_command("db", "downgrade", "--store", url, "base", "--yes")
                assert ran.code == 3 and IN_USE in ran.err and len(ran.err.splitlines()) == 1, ran.err
                assert run_command("db", "upgrade", "--store", url).code == 3
            assert booking.schema_state(url).at_head  # the tables are still there
        ran = run_command("db", "downgrade", "--store", url, "base", "--yes")
        assert ran.code == 0, ran.err  # free again
