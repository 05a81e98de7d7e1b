"""The small Protocol every store implements, the plain data it returns, and which kind a spec names."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from booking.errors import BadInput
from booking.i18n.lang import _

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


class StoreKind(enum.StrEnum):
    COUNTER = "counter"  # db.json: {"count": N}, as in the notes
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"
    MYSQL = "mysql"  # MariaDB


# How each kind is named to people (`booking strategies`, reports).
KIND_NAMES = {
    StoreKind.COUNTER: "db.json",
    StoreKind.SQLITE: "sqlite",
    StoreKind.POSTGRESQL: "postgresql",
    StoreKind.MYSQL: "mariadb",
}
_SCHEMES = {
    "sqlite": StoreKind.SQLITE,
    "postgresql": StoreKind.POSTGRESQL,
    "postgres": StoreKind.POSTGRESQL,
    "mysql": StoreKind.MYSQL,
    "mariadb": StoreKind.MYSQL,
}


def store_kind(spec: str) -> StoreKind:
    """Which kind of store a --store value names, without opening it (and without importing SQLAlchemy)."""
    if "://" in spec:
        scheme = spec.split("://", 1)[0].split("+", 1)[0].lower()
        if scheme not in _SCHEMES:
            raise BadInput(
                _(
                    "unknown store URL scheme {scheme!r} (use a db.json path, sqlite://, "
                    "postgresql+psycopg:// or mysql+pymysql://)"
                ).format(scheme=scheme)
            )
        return _SCHEMES[scheme]
    if spec.lower().endswith(SQLITE_SUFFIXES):
        return StoreKind.SQLITE
    return StoreKind.COUNTER


def local_file(spec: str) -> Path | None:
    """The file a db.json or SQLite spec names (`t.db`, `sqlite:///t.db`, `sqlite:///file:t.db?uri=true`);
    None for a server."""
    if "://" not in spec:
        return Path(spec)
    scheme, _sep, rest = spec.partition("://")
    if scheme.split("+", 1)[0].lower() != "sqlite" or not rest.startswith("/"):
        return None
    path, _sep, query = rest[1:].partition("?")
    if path.startswith("file:") and ("uri=true" in query or "uri=1" in query):
        path = path.removeprefix("file:")
    return Path(path) if path else None


def store_files(spec: str) -> list[Path]:
    """Every file a store is made of, resolved (the data, its lock, SQLite's journals): what no output may be."""
    path = local_file(spec) if spec else None  # no spec: a service raced without --store
    if path is None:
        return []
    path = Path(os.path.realpath(path))
    suffixes = [".lock", ".in-use"] + (["-wal", "-shm", "-journal"] if store_kind(spec) is StoreKind.SQLITE else [])
    return [path, *(path.with_name(path.name + s) for s in suffixes)]


@dataclass(frozen=True)
class Seen:
    """What a buyer's read inside the race window saw."""

    value: int  # counter store: the count; SQL stores: the free ticket id seen (0 if none)
    ticket: int | None  # the ticket this buyer would take, None when sold out


@dataclass(frozen=True)
class FinalState:
    """The store after a run, as the verifier needs it."""

    remaining: int
    # SQL stores: ticket id -> buyers recorded for it (ticket row and ledger); None for db.json
    owners: dict[int, list[int]] | None = field(default=None)


class Store(Protocol):
    """One store, opened in the process that uses it."""

    kind: StoreKind
    display: str  # what people see: a path, or a URL with its secrets masked

    def check(self) -> int:
        """Validate the existing store without changing it; return its remaining stock."""

    def prepare(self, seed: int | None, force: bool = False, beside: bool = False) -> int:
        """Make the store ready and return its stock: reset it to `seed` tickets, or keep it (None).

        Refuses (BadInput/CannotRun) and changes nothing if the existing store is not valid,
        unless `force` lets a reset replace it; a SQL database holding other tables only with `beside`.
        """

    def remaining(self) -> int:
        """The look (the notes' search): how many tickets are left."""

    def read(self) -> Seen:
        """The read inside the race window."""

    def write(self, seen: Seen, buyer: int) -> int:
        """The naive write after the read; returns what was written."""

    def final(self) -> FinalState: ...

    def lock_path(self) -> Path:
        """Where `file-lock` keeps its lock file for this store (never the data file)."""

    def tidy(self) -> None:
        """After a run: remove what writers that died left behind (never the store)."""

    def close(self) -> None: ...
