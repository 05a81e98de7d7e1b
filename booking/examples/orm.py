"""A FastAPI-style shop on the SQLAlchemy ORM, with its own tables (seats, orders): racy, "fixed", fixed.

The way web code is written: a module-level engine and a session per request; read the seat, then
update it. `racy_buy` is the bug. `locked_buy` is the fix people reach for, `with_for_update()`: right
on PostgreSQL and MariaDB, but SQLAlchemy renders nothing for it on SQLite, so there it still
oversells (booking catches it). `fixed_buy` makes the write itself conditional, right everywhere.

The shop keeps its own tables, so booking is told how to seed and count them:

    booking simulate --store sqlite:///shop.db --purchase booking.examples.orm:racy_buy \\
        --setup booking.examples.orm:setup --stock booking.examples.orm:stock --prepare booking.examples.orm:prepare
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ForeignKey, create_engine, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

_engines: dict[str, Engine] = {}  # one engine per database, made at first use in each process


class Base(DeclarativeBase):
    pass


class Seat(Base):
    __tablename__ = "seats"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sold_to: Mapped[int | None]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("seats.id"))
    buyer: Mapped[int]


def engine(store: str) -> Engine:
    if store not in _engines:
        _engines[store] = create_engine(store, connect_args={"timeout": 30} if store.startswith("sqlite") else {})
    return _engines[store]


def setup(store: str, tickets: int) -> None:
    """booking's --setup: the shop's tables with `tickets` free seats."""
    Base.metadata.drop_all(engine(store))
    Base.metadata.create_all(engine(store))
    with Session(engine(store)) as session, session.begin():
        session.add_all(Seat(id=i) for i in range(1, tickets + 1))


def stock(store: str) -> int:
    """booking's --stock: free seats left."""
    with Session(engine(store)) as session:
        return int(session.scalar(select(func.count()).select_from(Seat).where(Seat.sold_to.is_(None))) or 0)


def prepare(store: str) -> None:
    """booking's --prepare: connect and run a first query before the race (the ORM's first query is slow)."""
    stock(store)


def racy_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    with Session(engine(store)) as session:
        seat = session.scalars(select(Seat).where(Seat.sold_to.is_(None)).order_by(Seat.id).limit(1)).first()
        point("after-read")
        if seat is None:
            return None
        seat.sold_to = buyer
        session.add(Order(seat_id=seat.id, buyer=buyer))
        session.commit()
        return seat.id


def locked_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """The usual fix: lock the row while reading it. A no-op on SQLite, where SQLAlchemy renders no FOR UPDATE."""
    with Session(engine(store)) as session:
        query = select(Seat).where(Seat.sold_to.is_(None)).order_by(Seat.id).limit(1).with_for_update()
        seat = session.scalars(query).first()
        point("after-read")
        if seat is None:
            session.commit()
            return None
        seat.sold_to = buyer
        session.add(Order(seat_id=seat.id, buyer=buyer))
        session.commit()
        return seat.id


def fixed_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    """Read, then take the seat only if it is still free (the row count says who won); else look again."""
    with Session(engine(store)) as session:
        while True:
            seat_id = session.scalar(select(Seat.id).where(Seat.sold_to.is_(None)).order_by(Seat.id).limit(1))
            point("after-read")
            if seat_id is None:
                session.commit()
                return None
            result: Any = session.execute(
                update(Seat).where(Seat.id == seat_id, Seat.sold_to.is_(None)).values(sold_to=buyer)
            )
            taken = result.rowcount
            if taken == 1:
                session.add(Order(seat_id=seat_id, buyer=buyer))
                point("before-commit")
                session.commit()
                return seat_id
            session.rollback()  # someone else took it between our read and our write
