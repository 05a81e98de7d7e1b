"""Runs that span several hosts: the run, the hosts that joined it, and every attempt (booking/hosts/).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("hosts", sa.Integer, nullable=False),
        sa.Column("tickets", sa.Integer, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("final", sa.Text, nullable=True),
    )
    op.create_table(
        "run_hosts",
        sa.Column("run", sa.String(63), primary_key=True),
        sa.Column("host", sa.String(128), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("buyers", sa.Integer, nullable=False),
        sa.Column("buyer_base", sa.Integer, nullable=False),
        sa.Column("backend_pid", sa.Integer, nullable=True),
        sa.Column("joined_at", sa.Double, nullable=False),
        sa.Column("t0", sa.Double, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("history", sa.Text, nullable=True),
    )
    op.create_table(
        "run_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run", sa.String(63), nullable=False),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("buyer", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("ticket", sa.Integer, nullable=True),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_run_attempts_run", "run_attempts", ["run"])


def downgrade() -> None:
    op.drop_index("ix_run_attempts_run", table_name="run_attempts")
    op.drop_table("run_attempts")
    op.drop_table("run_hosts")
    op.drop_table("runs")
