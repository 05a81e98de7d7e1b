"""The seckill pipeline's orders in a SQL store: the statements a seller runs inside its sale's own
transaction, and the orders read back after a run (stores/schema.py's `orders` table).

An idempotent seller writes the request id into `once`, a unique column: a request sold once cannot be
sold again in another transaction, whoever delivers it. A seller that is not idempotent leaves `once`
NULL (NULLs may repeat), so a request sold twice is two rows the verifier can count.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.sql import ClauseElement

from booking.stores.schema import Prepared, orders

if TYPE_CHECKING:
    from booking.stores.sql import SqlStore

_COMPILED: dict[str, dict[str, Prepared]] = {}


def _statements() -> dict[str, ClauseElement]:
    return {
        "held": select(orders.c.ticket_id).where(orders.c.once == bindparam("request")),
        "place": insert(orders).values(
            request=bindparam("request"), once=bindparam("once"), ticket_id=bindparam("tid"), buyer=bindparam("who")
        ),
    }


def _q(store: SqlStore, name: str) -> Prepared:
    dialect = store.engine.dialect
    key = f"{dialect.name}+{dialect.driver}"
    if key not in _COMPILED:
        _COMPILED[key] = {n: Prepared(stmt, dialect) for n, stmt in _statements().items()}
    return _COMPILED[key][name]


def held(store: SqlStore, request: str) -> int | None:
    """The ticket an idempotent seller already sold for `request` (inside the open transaction), or None."""
    row = store.execute(_q(store, "held"), {"request": request}).fetchone()
    return None if row is None else int(row[0])


def place(store: SqlStore, request: str, ticket: int, buyer: int, once: bool) -> None:
    """The order row for `request`; `once`: the request id unique (an idempotent seller's)."""
    params = {"request": request, "once": request if once else None, "tid": ticket, "who": buyer}
    store.execute(_q(store, "place"), params)


def is_duplicate(exc: BaseException) -> bool:
    """A unique constraint refused the row (sqlite3, psycopg and PyMySQL all name it IntegrityError)."""
    return any(c.__name__ == "IntegrityError" for c in type(exc).__mro__)


def by_request(store: Any) -> dict[str, list[int]]:
    """After a run, on the parent's own connection: every request's tickets, in the order they were written."""
    found: dict[str, list[int]] = defaultdict(list)
    with store.admin() as conn:
        for request, ticket in conn.execute(select(orders.c.request, orders.c.ticket_id).order_by(orders.c.id)):
            found[str(request)].append(int(ticket))
    return dict(found)
