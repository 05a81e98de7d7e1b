"""The seckill pipeline's orders: each order a seller wrote, with the request it answers; `once` unique,
set by an idempotent seller in the sale's own transaction (booking/strategies/seckill.py).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request", sa.String(96), nullable=False),
        sa.Column("once", sa.String(96), nullable=True, unique=True),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("buyer", sa.Integer, nullable=False),
    )
    op.create_index("ix_orders_request", "orders", ["request"])


def downgrade() -> None:
    op.drop_index("ix_orders_request", table_name="orders")
    op.drop_table("orders")
