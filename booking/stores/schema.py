"""The SQL schema as SQLAlchemy Core tables: what the code expects. Alembic (migrations/) owns the DDL."""

from __future__ import annotations

from sqlalchemy import Column, Double, Index, Integer, MetaData, Table

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
