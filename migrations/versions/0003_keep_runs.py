"""--keep runs that share a server store at once: each one's opening stock and, once it ends, its receipts,
so that they are judged together (booking/stores/claim.py).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "keep_runs",
        sa.Column("run", sa.String(36), primary_key=True),
        sa.Column("initial", sa.Integer, nullable=False),
        sa.Column("buyers", sa.Integer, nullable=False),
        sa.Column("receipts", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("keep_runs")
