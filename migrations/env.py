"""Alembic environment, used programmatically by booking.stores.migrate (no alembic.ini).

The caller passes an open SQLAlchemy Connection in config.attributes["connection"].
"""

from __future__ import annotations

from alembic import context

from booking.stores.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - booking always passes a connection
    raise RuntimeError("booking's migrations run through `booking db`, which passes a connection")

context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
