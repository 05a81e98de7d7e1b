"""A run that spans hosts, as the database keeps it: who joined, with how many buyers, and every attempt.

Joining is one transaction under a transaction-level advisory lock on the run's name, so hosts that
start at the same moment join one at a time: the first creates the run and seeds the stock, the
others check that they run the same race (stock, strategy, schedule, number of hosts) and take the
next block of buyer numbers, so a buyer's number is the same in the store and in the verdict.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.engine import Connection

from booking.errors import BadInput
from booking.history import BuyerEnd, BuyerStatus, History, Opened
from booking.history.file import parse
from booking.i18n.lang import _
from booking.stores.base import FinalState
from booking.stores.connect import Database
from booking.stores.schema import run_attempts, run_hosts, runs

SHARED = ("tickets", "strategy", "schedule", "hosts", "isolation", "purchase", "think_ms")  # every host the same


def run_key(name: str) -> int:
    """The run's advisory-lock key: a signed 64-bit number from its name."""
    return int.from_bytes(hashlib.sha256(f"booking-run:{name}".encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class Membership:
    """This host's place in the run."""

    run: str
    host: str
    seq: int  # join order, from 1
    buyer_base: int  # this host's buyer k is buyer buyer_base + k in the store and the verdict
    created: bool  # this host created the run (and seeded its stock)
    tickets: int  # the run's starting stock
    hosts: int  # how many hosts take part
    created_at: float  # time.time() when the run was created: every host's times are measured from it


def join(db: Database, name: str, host: str, buyers: int, shared: dict[str, Any], seed: Any) -> Membership:
    """Join run `name` (creating it, and seeding its stock through `seed(tickets)`, when it is new).

    One host joins at a time (a session advisory lock on the run's name): the first creates the run
    after `seed` has made booking's tables and the stock; the others find it."""
    with _one_at_a_time(db, run_key(name)):
        with db.admin() as conn:
            row, joined = _read(conn, name)
        created = row is None
        if row is None:
            seed(shared["tickets"])  # booking's schema and the stock, in a transaction of its own
            values = {"hosts": shared["hosts"], "tickets": shared["tickets"], "settings": json.dumps(shared)}
            row = {**values, "created_at": time.time()}
        _refuse(name, host, row, joined, shared)
        with db.admin() as conn:
            if created:
                conn.execute(insert(runs).values(name=name, **row))
            base = sum(int(h["buyers"]) for h in joined)
            member = {"seq": len(joined) + 1, "buyers": buyers, "buyer_base": base, "status": "joined"}
            conn.execute(insert(run_hosts).values(run=name, host=host, joined_at=time.time(), **member))
    return Membership(
        name, host, len(joined) + 1, base, created, int(row["tickets"]), int(row["hosts"]), float(row["created_at"])
    )


@contextlib.contextmanager
def _one_at_a_time(db: Database, key: int) -> Iterator[None]:
    with db.engine.connect() as conn:
        conn.execute(select(func.pg_advisory_lock(key))).all()
        conn.commit()
        try:
            yield
        finally:
            conn.execute(select(func.pg_advisory_unlock(key))).all()
            conn.commit()


def _read(conn: Connection, name: str) -> tuple[Any, list[Any]]:
    """The run's row and the hosts that joined it; (None, []) in a store with no runs yet."""
    if "runs" not in inspect(conn).get_table_names():
        return None, []
    row = conn.execute(select(runs).where(runs.c.name == name)).mappings().first()
    return row, list(conn.execute(select(run_hosts).where(run_hosts.c.run == name)).mappings().all())


def _refuse(name: str, host: str, row: Any, joined: list[Any], shared: dict[str, Any]) -> None:
    """A run name used by mistake: another race, a run that already has its hosts, a host that already joined."""
    names = [str(h["host"]) for h in joined]
    if host in names:
        raise BadInput(
            _("--run {name}: host {host!r} already joined it (give each host its own --host name)").format(
                name=name, host=host
            )
        )
    if len(joined) >= int(row["hosts"]):
        raise BadInput(
            _("--run {name} already has its {row} hosts ({value}): choose a new --run name").format(
                name=name, row=row["hosts"], value=", ".join(names)
            )
        )
    if ended := [str(h["host"]) for h in joined if h["history"] is not None]:
        raise BadInput(
            _("--run {name} is over (host {value} ended it): choose a new --run name").format(
                name=name, value=", ".join(ended)
            )
        )

    settings = json.loads(row["settings"])
    for key in SHARED:
        if settings.get(key) != shared.get(key):
            raise BadInput(
                _(
                    "--run {name} already exists with {key} {get!r}, not {get2!r}: join it with the same "
                    "options, or choose a new --run name"
                ).format(name=name, key=key, get=settings.get(key), get2=shared.get(key))
            )


def mark(db: Database, member: Membership, **values: Any) -> None:
    with db.admin() as conn:
        conn.execute(
            update(run_hosts).where(run_hosts.c.run == member.run, run_hosts.c.host == member.host).values(**values)
        )


def record(db: Database, member: Membership, history: History, shift: float, status: str = "done") -> None:
    """This host's part of the run: every attempt (buyers numbered as the store knows them, times from the
    run's creation), and its other history lines (ends, gates, faults not injected)."""
    rows = []
    for a in history.attempts:
        data = a.to_json()
        data.update(buyer=a.buyer + member.buyer_base, host=member.host)
        for name in ("t_start", "t_acquired", "t_window", "t_read", "t_write", "t_end"):
            if data[name] is not None:
                data[name] = data[name] + shift
        key = {"run": member.run, "host": member.host, "buyer": data["buyer"], "outcome": data["outcome"]}
        rows.append({**key, "ticket": a.ticket, "record": json.dumps(data)})
    others = History(ends=history.ends, gates=[_shifted(g, shift) for g in history.gates], missed=history.missed)
    lines = "\n".join(json.dumps(r) for r in others.records())
    with db.admin() as conn:
        if rows:
            conn.execute(insert(run_attempts), rows)
        conn.execute(
            update(run_hosts)
            .where(run_hosts.c.run == member.run, run_hosts.c.host == member.host)
            .values(status=status, history=lines)
        )


def _shifted(g: Opened, shift: float) -> Opened:
    last = None if g.last_ready is None else g.last_ready + shift
    return Opened(g.t + shift, g.point, g.buyers, g.why, last)


@dataclass
class WholeRun:
    """The run as the database holds it, for one verdict over every host."""

    name: str
    hosts: int  # how many were to take part
    tickets: int
    joined: list[dict[str, Any]]  # every host that joined: host, seq, buyers, buyer_base, status
    history: History  # every host's attempts and ends, buyers numbered as the store knows them
    final: FinalState | None  # the store when the run ended, as its last host read it (None: your own tables)
    ended: bool  # a host ended the run and kept the store's final state

    @property
    def missing(self) -> list[str]:
        """What did not take part, or did not finish, in words."""
        out = [
            _("host {h} did not finish (last said: {h2})").format(h=h["host"], h2=h["status"])
            for h in self.joined
            if h["status"] != "done"
        ]
        if len(self.joined) < self.hosts:
            out.append(f"{self.hosts - len(self.joined)} of {self.hosts} hosts never joined")
        return out


def load(conn: Connection, name: str, dead: set[str] | None = None) -> WholeRun:
    """Every host's part of run `name`; a host that did not finish leaves its buyers stuck, by name."""
    row = conn.execute(select(runs).where(runs.c.name == name)).mappings().first()
    if row is None:
        raise BadInput(_("--run {name}: no such run in this store").format(name=name))
    joined = [
        dict(h) for h in conn.execute(select(run_hosts).where(run_hosts.c.run == name).order_by("seq")).mappings()
    ]
    records = conn.execute(select(run_attempts.c.record).where(run_attempts.c.run == name).order_by("id")).scalars()
    history = parse((line for line in records), f"run {name}")
    for h in joined:
        base = int(h["buyer_base"])
        if h["history"] is not None:  # its part is recorded: done, or stopped by a signal
            part = parse(str(h["history"]).splitlines(), f"run {name}, host {h['host']}")
            history.ends += [
                BuyerEnd(e.buyer + (base if e.who == "buyer" else 0), e.status, f"{e.reason} (host {h['host']})", e.who)
                for e in part.ends
            ]
            history.gates += part.gates
            history.missed += [f"host {h['host']}: {m}" for m in part.missed]
            continue
        why = "died" if dead and h["host"] in dead else "did not finish"
        history.ends += [
            BuyerEnd(base + b, BuyerStatus.STUCK, _("host {h} {why}").format(h=h["host"], why=why))
            for b in range(1, int(h["buyers"]) + 1)
        ]
    kept = json.loads(row["final"]) if row["final"] else None
    final = None if kept is None else FinalState(kept["remaining"], {int(t): bs for t, bs in kept["owners"].items()})
    return WholeRun(name, int(row["hosts"]), int(row["tickets"]), joined, history, final, row["final"] is not None)


def keep_final(db: Database, name: str, final: FinalState | None) -> None:
    """The store as this host read it at the end: the last host to end leaves the run's final state
    ('null': your own purchase code's tables, which booking does not read)."""
    kept = json.dumps(None if final is None else {"remaining": final.remaining, "owners": final.owners or {}})
    with db.admin() as conn:
        conn.execute(update(runs).where(runs.c.name == name).values(final=kept))
