"""The library behind `booking db` and `booking strategies`: schema revisions and what applies where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from booking.errors import BadInput
from booking.stores import store_kind
from booking.stores.base import StoreKind
from booking.strategies import DEFAULT_STRATEGY, STRATEGIES

if TYPE_CHECKING:
    from booking.stores.sql import SqlStore

STORE_NAMES = {
    StoreKind.COUNTER: "db.json",
    StoreKind.SQLITE: "sqlite",
    StoreKind.POSTGRESQL: "postgresql",
    StoreKind.MYSQL: "mariadb",
}


@dataclass(frozen=True)
class SchemaState:
    """A SQL store's schema revision and the newest one this booking knows."""

    store: str  # display form, password masked
    revision: str | None  # None: no schema yet
    head: str

    known: bool = True  # False: a revision this booking does not know (a newer booking made it)

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "revision": self.revision,
            "head": self.head,
            "at_head": self.at_head,
            "known": self.known,
        }


def _open(spec: str) -> SqlStore:
    if store_kind(spec) is StoreKind.COUNTER:
        raise BadInput(f"store {spec}: `booking db` works on SQL stores; a db.json counter has no schema")
    from booking.stores.sql import open_sql_store

    return open_sql_store(spec)


def current(spec: str) -> SchemaState:
    from booking.stores import migrate

    store = _open(spec)
    try:
        revision = store.schema_current()
        known = revision is None or revision in migrate.known_revisions()
        return SchemaState(store.display, revision, migrate.head(), known)
    finally:
        store.close()


def upgrade(spec: str, revision: str = "head") -> SchemaState:
    store = _open(spec)
    try:
        store.schema_move(True, revision)
    finally:
        store.close()
    return current(spec)


def downgrade(spec: str, revision: str = "-1") -> SchemaState:
    store = _open(spec)
    try:
        store.schema_move(False, revision)
    finally:
        store.close()
    return current(spec)


def strategy_rows(spec: str | None = None) -> list[dict[str, Any]]:
    """Every strategy (or those that apply to `spec`'s store): name, description, stores, scope, default."""
    kind = store_kind(spec) if spec is not None else None
    rows = []
    for s in STRATEGIES.values():
        if kind is not None and kind not in s.stores:
            continue
        rows.append(
            {
                "name": s.name,
                "description": s.description,
                "stores": [STORE_NAMES[k] for k in StoreKind if k in s.stores],
                "scope": s.scope,
                "default_for": [STORE_NAMES[k] for k, name in DEFAULT_STRATEGY.items() if name == s.name],
                "safe": s.safe,
            }
        )
    return rows
