"""A run whose buyers span several hosts, coordinated and judged through PostgreSQL (`--run NAME --hosts N`).

Each host runs `booking simulate --store URL --run NAME --hosts N` with its own buyers. The database
holds the run: the first host to join creates it and seeds the stock; every host takes its block of
buyer numbers; the start barrier opens on every host only when every host's buyers are warm, and a
lockstep window only when every host still buying is at it (hosts/peers.py); each host records its
attempts in the run's table when it is done, waits for the others (or sees them gone), and prints
the verdict over everyone's attempts. `booking verify --store URL --run NAME` gives it again.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from booking.errors import BadInput
from booking.history import History
from booking.hosts import registry
from booking.hosts.peers import Peers
from booking.i18n.lang import _
from booking.kit.hooks import name_of
from booking.options.config import RunConfig
from booking.options.store_url import StoreURL
from booking.stores import open_store
from booking.stores.base import FinalState, StoreKind
from booking.stores.sql import SqlStore
from booking.verdict.verify import Verdict, verify

GRACE_S = 5.0  # after this host's deadline: how long it waits for the others to record their part


def grace_s() -> float:
    """GRACE_S, or $BOOKING_HOST_GRACE_S: a test that kills a host while the others wait for it sets it
    long enough that a loaded machine cannot end their wait before the kill does."""
    return float(os.environ.get("BOOKING_HOST_GRACE_S") or GRACE_S)


@dataclass
class HostRun:
    """This host's side of a run across hosts."""

    config: RunConfig
    strategy: str  # the strategy's label: every host must run the same
    store: Any  # the SqlStore of the run (PostgreSQL)
    host: str = ""
    member: registry.Membership | None = None
    peers: Peers | None = None
    missing: list[str] = field(default_factory=list)  # hosts that did not take part, or did not finish

    def __post_init__(self) -> None:
        if self.store.kind is not StoreKind.POSTGRESQL:
            raise BadInput(
                _(
                    "--run needs a PostgreSQL store: its barrier is LISTEN/NOTIFY and its verdict reads "
                    "every host's attempts from the database"
                )
            )
        self.host = self.config.host or f"{socket.gethostname()}-{os.getpid()}"

    def join(self) -> int:
        """Join (or create and seed) the run; returns its starting stock."""
        c = self.config
        shared = {
            "tickets": c.tickets,
            "strategy": self.strategy,
            "schedule": c.schedule.value,
            "hosts": c.hosts,
            "isolation": None if c.isolation is None else c.isolation.value,
            "purchase": None if c.purchase is None else name_of(c.purchase),
            "think_ms": c.think_ms,
        }
        self.member = registry.join(self.store, c.run or "", self.host, c.buyers, shared, self.store.prepare)
        if not self.member.created:
            self.store.check()  # the run's store, as the first host made it
        self.peers = Peers(self.store.spec, self.member)
        registry.mark(self.store, self.member, status="running")
        return self.member.tickets

    def finish(self, history: History, t0_epoch: float, signal_name: str | None = None) -> History:
        """Record this host's part, wait for the others (unless --no-wait, or a signal stopped this host),
        and return the run's whole history (or this host's part, numbered as the store knows its buyers)."""
        assert self.member is not None and self.peers is not None
        status = "done" if signal_name is None else f"stopped {signal_name}"  # fits run_hosts.status
        registry.record(self.store, self.member, history, t0_epoch - self.member.created_at, status)
        self.peers.finished()
        alone = self.config.no_wait or signal_name is not None
        if not alone:
            self.peers.wait_done(time.monotonic() + grace_s())
        with self.store.admin() as conn:
            whole = registry.load(conn, self.member.run, self.peers.dead)
        if alone:
            mine = [a for a in whole.history.attempts if a.host == self.host]
            first, last = self.member.buyer_base, self.member.buyer_base + self.config.buyers
            ends = [e for e in whole.history.ends if e.who != "buyer" or first < e.buyer <= last]
            why = "--no-wait" if signal_name is None else status
            self.missing = [
                _("this host's part only ({why}): {len} of {hosts} hosts joined").format(
                    why=why, len=len(whole.joined), hosts=whole.hosts
                )
            ]
            return History(mine, ends, whole.history.gates, whole.history.missed, history.runs)
        self.missing = whole.missing
        whole.history.runs = history.runs
        return whole.history

    def keep(self, final: FinalState | None) -> None:
        """The store as this host read it at the end, kept with the run for `booking verify --run`."""
        if self.member is not None:
            registry.keep_final(self.store, self.member.run, final)

    def extras(self) -> dict[str, Any]:
        """What --json adds: the run, its hosts, and who is missing."""
        if self.member is None:
            return {}
        return {"run": self.member.run, "host": self.host, "hosts": self.member.hosts, "missing": self.missing}

    def close(self) -> None:
        if self.peers is not None:
            self.peers.close()


class Judged(NamedTuple):
    """A run across hosts, judged from the database alone (booking/run/past.py makes it a VerifyResult)."""

    store: str  # display form (secrets masked)
    verdict: Verdict
    missing: list[str]  # its hosts that did not take part or finish


def verify_run(store: StoreURL | str, name: str, deadline_s: float = 60.0) -> Judged:
    """`booking verify --store URL --run NAME`: the whole run's verdict, from the database alone."""
    opened = open_store(store, timeout_s=deadline_s)
    try:
        if not isinstance(opened, SqlStore) or opened.kind is not StoreKind.POSTGRESQL:
            raise BadInput(_("--run: runs across hosts live in a PostgreSQL store; this one is not"))
        opened.check()
        with opened.admin() as conn:
            whole = registry.load(conn, name)
        # The store as the run left it: another run may have reseeded it since. A run no host ended
        # (every host died) left none: the store as it is now is all there is.
        final = whole.final if whole.ended else opened.final()
    finally:
        opened.close()
    return Judged(opened.display, verify(whole.tickets, final, whole.history, opened.kind), whole.missing)
