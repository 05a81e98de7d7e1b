"""The SQL schema as SQLAlchemy Core tables (Alembic, in migrations/, owns the DDL) and the statements on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
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

# The seckill pipeline's orders: one row per order a seller wrote, with the request it answers. `once`
# is the request again when the seller is idempotent (unique: a request redelivered is answered from its
# row), NULL when it is not (databases let NULLs repeat), so a request sold twice shows as two rows.
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request", String(96), nullable=False),
    Column("once", String(96), nullable=True, unique=True),
    Column("ticket_id", Integer, nullable=False),
    Column("buyer", Integer, nullable=False),
    Index("ix_orders_request", "request"),
)

# A run that spans several hosts (--run NAME): the run, who joined it, and every attempt, so that no
# host has to collect the others' files and one verdict judges them all (booking/hosts/).
runs = Table(
    "runs",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("hosts", Integer, nullable=False),  # how many hosts take part
    Column("tickets", Integer, nullable=False),  # the stock the first host seeded
    Column("settings", Text, nullable=False),  # JSON: the options every host must share
    Column("created_at", Double, nullable=False),  # time.time()
    # JSON: the store when the run ended (free tickets, each ticket's buyers), so the run can be judged
    # again after the store was reseeded by another
    Column("final", Text, nullable=True),
)
run_hosts = Table(
    "run_hosts",
    metadata,
    Column("run", String(63), primary_key=True),
    Column("host", String(128), primary_key=True),
    Column("seq", Integer, nullable=False),  # join order, from 1
    Column("buyers", Integer, nullable=False),
    Column("buyer_base", Integer, nullable=False),  # its buyers are buyer_base + 1 ... in the store and verdict
    Column("backend_pid", Integer, nullable=True),  # the session it coordinates on: gone when the host is
    Column("joined_at", Double, nullable=False),
    Column("t0", Double, nullable=True),  # time.time() at its run's start: attempts' times are from here
    Column("status", String(16), nullable=False),  # joined, running, done, failed
    Column("history", Text, nullable=True),  # its history's other lines (ends, gates, missed) as JSON lines
)
run_attempts = Table(
    "run_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run", String(63), nullable=False),
    Column("host", String(128), nullable=False),
    Column("buyer", Integer, nullable=False),  # as the store knows it (buyer_base + the host's own number)
    Column("outcome", String(16), nullable=False),
    Column("ticket", Integer, nullable=True),
    Column("record", Text, nullable=False),  # the attempt as a history line (JSON), times from the run's start
    Index("ix_run_attempts_run", "run"),
)
RUN_TABLES = ("runs", "run_hosts", "run_attempts")
# --keep runs sharing the store at once (stores/claim.py): emptied by the first of them, so it holds
# only the runs that overlap; each one's stock when it began and, once it ended, its receipts (JSON).
keep_runs = Table(
    "keep_runs",
    metadata,
    Column("run", String(36), primary_key=True),
    Column("initial", Integer, nullable=False),
    Column("buyers", Integer, nullable=False),
    Column("receipts", Text, nullable=True),
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
