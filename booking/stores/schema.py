"""The SQL schema as SQLAlchemy Core tables (Alembic, in migrations/, owns the DDL) and the statements on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Column, Double, Index, Integer, MetaData, Table, bindparam, func, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

metadata = MetaData()

# One row per ticket: the card's "SQLite rows". sold_to is the buyer, NULL while the ticket is free;
# version is bumped by every write, for the optimistic compare-and-swap.
tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("sold_to", Integer, nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
    # "the first free ticket" (WHERE sold_to IS NULL ORDER BY id) is an index range, not a scan.
    Index("ix_tickets_sold_to_id", "sold_to", "id"),
)

# The ledger: one row per write a buyer made, append-only and without a foreign key, so it records
# what the naive path really did (two rows for one ticket is a double sale).
purchases = Table(
    "purchases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, nullable=False),
    Column("buyer", Integer, nullable=False),
    Column("bought_at", Double, nullable=False),  # time.time() of the write
    Index("ix_purchases_ticket_id", "ticket_id"),
)


# -- the purchase path's statements, compiled once per dialect before buyers fork

# The look (the notes' search) counts free tickets up to this many. Counting them all is a scan of
# every free row on every attempt: selling out N tickets would cost O(N^2) (100k tickets: minutes).
LOOK_CAP = 100


class Prepared:
    """A Core statement compiled once for a dialect: SQL text and how to lay out its parameters."""

    __slots__ = ("defaults", "names", "positional", "sql", "static")

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}
        self.positional = dialect.positional
        self.names = list(getattr(compiled, "positiontup", None) or ())
        # A statement whose parameters are all fixed (the look's LIMIT) is laid out once, not per call.
        fixed = all(n in self.defaults for n in self.names)
        self.static: Any = self._layout(self.defaults) if fixed else None

    def args(self, params: Mapping[str, Any]) -> Any:
        if not params and self.static is not None:
            return self.static
        return self._layout({**self.defaults, **params} if self.defaults else params)

    def _layout(self, merged: Mapping[str, Any]) -> Any:
        if self.positional:
            return tuple([merged[n] for n in self.names])
        return merged


def _statements() -> dict[str, ClauseElement]:
    free = tickets.c.sold_to.is_(None)
    first = select(tickets.c.id).where(free).order_by(tickets.c.id).limit(1)
    take = update(tickets).values(sold_to=bindparam("who"), version=tickets.c.version + 1)
    is_ticket = tickets.c.id == bindparam("tid")
    return {
        "look": select(func.count()).select_from(select(tickets.c.id).where(free).limit(LOOK_CAP).subquery()),
        "first": first,
        "first_for_update": first.with_for_update(),
        "first_skip_locked": first.with_for_update(skip_locked=True),
        "first_versioned": select(tickets.c.id, tickets.c.version).where(free).order_by(tickets.c.id).limit(1),
        "take": take.where(is_ticket),
        "take_if_free": take.where(is_ticket, free),
        "take_if_version": take.where(is_ticket, tickets.c.version == bindparam("seen")),
        "record": insert(purchases).values(
            ticket_id=bindparam("tid"), buyer=bindparam("who"), bought_at=bindparam("at")
        ),
        "advisory": select(func.pg_advisory_xact_lock(bindparam("key"))),
    }


_COMPILED: dict[str, dict[str, Prepared]] = {}  # dialect name -> statements; filled before buyers fork


def compiled(dialect: Dialect) -> dict[str, Prepared]:
    key = f"{dialect.name}+{dialect.driver}"
    if key not in _COMPILED:
        _COMPILED[key] = {name: Prepared(stmt, dialect) for name, stmt in _statements().items()}
    return _COMPILED[key]
