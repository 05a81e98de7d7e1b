"""Tickets (one row per ticket, with a version for optimistic writes) and the purchases ledger.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sold_to", sa.Integer, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_tickets_sold_to_id", "tickets", ["sold_to", "id"])
    op.create_table(
        "purchases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("buyer", sa.Integer, nullable=False),
        sa.Column("bought_at", sa.Double, nullable=False),
    )
    op.create_index("ix_purchases_ticket_id", "purchases", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_purchases_ticket_id", table_name="purchases")
    op.drop_table("purchases")
    op.drop_index("ix_tickets_sold_to_id", table_name="tickets")
    op.drop_table("tickets")
