"""The small Protocol every store implements, and the plain data it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from booking.options.store_url import StoreKind as StoreKind  # re-exported: stores name their kind here

# How each kind is named to people (`booking strategies`, reports).
KIND_NAMES = {
    StoreKind.COUNTER: "db.json",
    StoreKind.SQLITE: "sqlite",
    StoreKind.POSTGRESQL: "postgresql",
    StoreKind.MYSQL: "mariadb",
    StoreKind.REDIS: "redis",
}


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

    def warm(self) -> None:
        """A buyer's start-up, behind the start barrier: connect, and pay every first-time cost now (the
        driver, the statements, SQLite's new WAL), so that none of it lands in the first attempt."""

    def read(self) -> Seen:
        """The read inside the race window."""

    def write(self, seen: Seen, buyer: int) -> int:
        """The naive write after the read; returns what was written."""

    def final(self) -> FinalState: ...

    def lock_path(self) -> Path:
        """Where `file-lock` keeps its lock file for this store (never the data file)."""

    def tidy(self) -> None:
        """After a run: remove what writers that died left behind (never the store)."""

    def footprint(self) -> dict[str, int]:
        """The store's size now, as plain figures: `bytes`, and `dead_rows` where the database keeps them."""

    def close(self) -> None: ...
