"""The other hosts of a run, as this host's parent sees them: PostgreSQL's LISTEN/NOTIFY, one channel a run.

Each host's parent says, on the run's channel, when its buyers are all warm (`ready`), when they are all
at the race window of round r (`arrive`), when they have all finished (`leave`), and when its part is
recorded (`done`). The start barrier opens on a host when every host of the run is ready; a lockstep
window opens when every host still buying has arrived at that round. A host that dies is seen by the
session it coordinated on: its backend is gone from pg_stat_activity. Nobody waits past the deadline.
"""

from __future__ import annotations

import contextlib
import selectors
import time
from typing import Any

from booking.hosts.registry import Membership, run_key
from booking.i18n.lang import _
from booking.options.store_url import StoreURL
from booking.stores.dbapi import connect

DEAD_CHECK_S = 0.5  # while waiting on other hosts: how often to look for one whose session is gone


class Peers:
    """This host's view of the run's hosts; its connection's socket is one more event in the crowd's selector."""

    def __init__(self, store: StoreURL, member: Membership) -> None:
        self.member = member
        self._conn: Any = connect(store)
        self._channel = f"booking_run_{run_key(member.run) & 0xFFFFFFFFFFFF:x}"
        self._conn.execute(f"LISTEN {self._channel}")
        # This session lives as long as this host takes part: the others see it gone when the host is.
        self._conn.execute(
            "UPDATE run_hosts SET backend_pid = pg_backend_pid() WHERE run = %s AND host = %s",
            (member.run, member.host),
        )
        self.joined: dict[str, int] = {}  # host -> its coordinating session's backend pid
        self.ready_hosts: set[str] = set()
        self.arrived: dict[int, set[str]] = {}
        self.left: set[str] = set()
        self.done: set[str] = set()
        self.dead: set[str] = set()
        self._said: set[str] = set()
        self._next_check = 0.0
        self.refresh()
        self._say("join")

    def fileno(self) -> int:
        return int(self._conn.fileno())

    # -- what this host says
    def ready(self) -> None:
        if "ready" not in self._said:  # kept in the table too: a host that starts listening later reads it there
            self._conn.execute(
                "UPDATE run_hosts SET status = 'ready' WHERE run = %s AND host = %s",
                (self.member.run, self.member.host),
            )
        self._say("ready")

    def agree(self, round_: int) -> bool:
        """Every host still buying is at the window of `round_` (this one says it is): open it."""
        self._say(f"arrive|{round_}")
        waiting_for = set(self.joined) - self.left - self.dead - self.arrived.get(round_, set())
        return not waiting_for

    def leave(self) -> None:
        self._say("leave")

    def finished(self) -> None:
        self._say("done")

    def _say(self, what: str) -> None:
        if what in self._said:
            return
        self._said.add(what)
        self._conn.execute("SELECT pg_notify(%s, %s)", (self._channel, f"{what}|{self.member.host}"))
        self._take(f"{what}|{self.member.host}")
        # A notification that came in while the statement ran is queued inside the driver, not on the
        # socket any more: take it now, or the selector would not wake for it.
        self.receive()

    # -- what the others said
    def receive(self) -> None:
        # Collected first: psycopg holds the connection while notifies() runs, and _take may query it.
        for payload in [note.payload for note in self._conn.notifies(timeout=0)]:
            self._take(payload)

    def _take(self, payload: str) -> None:
        parts = payload.split("|")
        what, host = parts[0], parts[-1]
        if what == "join" and host not in self.joined:
            self.refresh()
        elif what == "ready":
            self.ready_hosts.add(host)
        elif what == "arrive":
            self.arrived.setdefault(int(parts[1]), set()).add(host)
        elif what == "leave":
            self.left.add(host)
        elif what == "done":
            self.done.add(host)
            self.left.add(host)

    def refresh(self) -> None:
        """Who joined (and their sessions), from the run's table: joins before this host listened too."""
        cur = self._conn.execute("SELECT host, backend_pid, status FROM run_hosts WHERE run = %s", (self.member.run,))
        for host, pid, status in cur.fetchall():
            self.joined[host] = int(pid or 0)
            if status == "ready":
                self.ready_hosts.add(host)
            if status == "done":
                self.done.add(host)
                self.left.add(host)

    @property
    def all_ready(self) -> bool:
        return len(self.joined) >= self.member.hosts and set(self.joined) <= self.ready_hosts | self.dead

    # -- hosts that are gone
    def next_check(self) -> float:
        return self._next_check

    def check(self, now: float) -> None:
        """Look for hosts whose coordinating session is gone: they died (or lost the database)."""
        if now < self._next_check:
            return
        self._next_check = now + DEAD_CHECK_S
        self.refresh()
        alive = {int(p) for (p,) in self._conn.execute("SELECT pid FROM pg_stat_activity").fetchall()}
        for host, pid in self.joined.items():
            if host != self.member.host and host not in self.done and pid and pid not in alive:
                self.dead.add(host)
        self.receive()  # what came in while the queries ran

    def problem(self) -> str | None:
        """Why this host cannot go on waiting (a host died before the start)."""
        gone = sorted(self.dead - self.ready_hosts)
        return (
            _("host {value} died before the start of run {run}").format(value=", ".join(gone), run=self.member.run)
            if gone
            else None
        )

    def missing(self) -> str:
        """Who the run is still waiting for, in words."""
        count = self.member.hosts - len(self.joined)
        unjoined = [f"{count} of {self.member.hosts} hosts never joined"] if count > 0 else []
        late = sorted(set(self.joined) - self.ready_hosts - self.dead)
        return "; ".join(unjoined + ([f"not ready: {', '.join(late)}"] if late else []))

    def wait_done(self, until: float) -> None:
        """After this host recorded its part: wait until every host that joined has, or is gone, or
        `until` (a host that never joined never started: nobody waits for it)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.fileno(), selectors.EVENT_READ)
            while not set(self.joined) <= self.done | self.dead and (now := time.monotonic()) < until:
                selector.select(max(min(until, now + DEAD_CHECK_S) - now, 0.0))
                self.receive()
                self.check(time.monotonic())

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a lost connection has nothing to close
            self._conn.close()
