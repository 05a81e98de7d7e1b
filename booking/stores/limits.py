"""Every wait bounded: the connect, each statement, each lock wait, and the parent's whole round trip.

Server side, PostgreSQL's statement_timeout and lock_timeout and MariaDB's lock_wait_timeout and
innodb_lock_wait_timeout end a wait with an error the run can report. A server that stops answering
(paused, or its host gone) says nothing at all: the parent's work is also cut off by a watchdog.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from booking.stores.base import StoreKind

CONNECT_TIMEOUT_S = 5  # an unreachable server is an error within seconds, not a hang
SQLITE_BUSY_TIMEOUT_S = 10.0  # override with ?timeout=SECONDS in the URL


def connect_args(kind: StoreKind, query: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
    """Every wait bounded: the connect, each statement and each lock wait (server side too)."""
    args: dict[str, Any] = {}
    if kind is StoreKind.SQLITE:
        if "timeout" not in query:
            # The busy timeout: wait this long for the write lock. A crowd of 2,000 buyers queues longer
            # than 10 s, and a safe strategy must not be failed by the harness: wait up to the run's deadline.
            args["timeout"] = max(SQLITE_BUSY_TIMEOUT_S, timeout_s)
        return args
    if "connect_timeout" not in query:
        args["connect_timeout"] = CONNECT_TIMEOUT_S
    limit_ms = max(int(timeout_s * 1000), 1)
    if kind is StoreKind.POSTGRESQL:
        # A lock wait ends a little before the statement would: its error says what was waited for.
        own = f"-c statement_timeout={limit_ms} -c lock_timeout={max(limit_ms * 9 // 10, 1)}"
        args["options"] = f"{own} {query['options']}" if "options" in query else own
    else:
        # PyMySQL's connect_timeout covers the TCP connect only; read_timeout bounds every read after it
        # (the handshake too) and write_timeout every write: a server that accepts and never answers
        # (paused, or behind a proxy that stopped forwarding) is given up on at the deadline, as
        # PostgreSQL's statement_timeout would. A lock wait ends a little before, with MariaDB's own
        # error (1205), as PostgreSQL's lock_timeout does.
        if "connect_timeout" not in query:
            args["connect_timeout"] = min(CONNECT_TIMEOUT_S, timeout_s)
        for name in ("read_timeout", "write_timeout"):
            if name not in query:
                args[name] = timeout_s
        wait_s = max(int(timeout_s * 9 / 10), 1)
        args["init_command"] = f"SET SESSION lock_wait_timeout={wait_s}, innodb_lock_wait_timeout={wait_s}"
    return args


WATCHDOG_GRACE_S = 2.0  # the server's own timeouts fire first, with their precise error


@contextlib.contextmanager
def watchdog(conn: Connection, limit_s: float) -> Iterator[None]:
    """Cut a server connection off a little after `limit_s`: its socket is shut down, so a read waiting
    on a server that never answers (paused, or behind a lock no timeout covers) fails at once."""
    driver: Any = conn.connection.driver_connection
    sock = getattr(driver, "_sock", None)  # PyMySQL
    fd = sock.fileno() if sock is not None else getattr(driver, "fileno", lambda: -1)()
    if fd < 0:  # SQLite: nothing to cut; its busy timeout bounds every wait
        yield
        return
    cut = threading.Event()

    def fire() -> None:
        cut.set()
        with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as dup:
            dup.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(limit_s + WATCHDOG_GRACE_S, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as exc:
        if cut.is_set():
            exc.booking_cut = True  # type: ignore[attr-defined]
        raise
    finally:
        timer.cancel()
