"""Every run of a comparison starts from the same store.

A file store (db.json, SQLite) gets a fresh file for every run, in a private directory beside the
store named (the same file system, so the same disk), removed when the run is done: nothing a run
left behind (SQLite's free pages and WAL, a bigger db.json) reaches the next. A SQLite file is a
copy of an empty store made once (its schema migrated, WAL set), so a run pays for its seeding
only, not for Alembic. The file named is never touched. A server store is reset by the run itself:
TRUNCATE, then VACUUM or ANALYZE (stores/setup.py), so no run wades through the dead rows of the
ones before.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from booking.options.store_url import StoreKind, StoreURL
from booking.stores import open_store

PREFIX = ".booking-compare-"


class FreshStores:
    """Fresh files for a comparison's runs; every one of them removed at the end, interrupted or not."""

    def __init__(self) -> None:
        self._dirs: dict[StoreURL, Path] = {}
        self._count = 0

    def __enter__(self) -> FreshStores:
        return self

    def __exit__(self, *exc: object) -> None:
        for directory in self._dirs.values():
            shutil.rmtree(directory, ignore_errors=True)
        self._dirs.clear()

    @contextlib.contextmanager
    def run(self, store: StoreURL) -> Iterator[StoreURL]:
        """The store one run uses: a new file for a file store (removed after the run), else `store`."""
        base = self._base(store)
        if base is None:
            yield store
            return
        self._count += 1
        where = base / str(self._count)
        where.mkdir()
        path = where / Path(store.path or "store").name
        try:
            template = self._template(store, base)
            if template is not None:
                shutil.copyfile(template, path)
            yield StoreURL.parse(_respelled(store, path))
        finally:
            shutil.rmtree(where, ignore_errors=True)

    def _base(self, store: StoreURL) -> Path | None:
        """The private directory beside a file store; None for a server, or a SQLite URI (reset in place)."""
        if not store.is_file or store.path is None or "uri=" in store.address:
            return None
        if store not in self._dirs:
            parent = Path(store.path).resolve().parent
            try:
                self._dirs[store] = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
            except OSError:
                return None  # a directory nobody may write in: the run says so itself, on the store named
        return self._dirs[store]

    def _template(self, store: StoreURL, base: Path) -> Path | None:
        """SQLite: an empty store at this booking's schema, made once per comparison (None for db.json)."""
        if store.kind is not StoreKind.SQLITE:
            return None
        path = base / "template" / Path(store.path or "store").name
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            made = open_store(_respelled(store, path))
            try:
                made.prepare(0)
            finally:
                made.close()  # the last connection gone, the WAL is checkpointed into the file
        return path


def _respelled(store: StoreURL, path: Path) -> str:
    """`store` spelled for another file: a path stays a path, a sqlite:/// URL keeps its scheme and query."""
    if store.scheme is None:
        return str(path)
    query = store.address.partition("?")[2]
    return f"{store.scheme}:///{path}" + (f"?{query}" if query else "")
