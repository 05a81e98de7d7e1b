#!/usr/bin/env python3
"""Is SQLite's cost per connection constant as connections grow? No booking code: N forked processes,
each with its own `sqlite3` connection to one WAL file, all open before any buys (as booking's buyers
are), then each sells one ticket (BEGIN IMMEDIATE, the look, the conditional UPDATE, COMMIT).

Prints the start-up and race wall time and the children's user and system CPU. Every WAL connection
holds a POSIX lock on the -shm file while it is open, and Linux checks each fcntl lock against the
file's whole list, so system time grows faster than N: this is the floor under `bench_scale.py`'s
SQLite figure (issue 13).

    python scripts/bench_sqlite_connections.py [--buyers 1000,2000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path


def trial(n: int, path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, sold_to INTEGER)")
    setup.executemany("INSERT INTO tickets (sold_to) VALUES (?)", [(None,)] * 1000)
    setup.commit()
    setup.close()
    start_r, start_w = os.pipe()
    ready_r, ready_w = os.pipe()
    before = os.times()
    t0 = time.monotonic()
    pids = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:
            os.close(start_w)
            conn = sqlite3.connect(path, timeout=120, isolation_level=None)
            conn.execute("SELECT count(*) FROM tickets").fetchone()
            os.write(ready_w, b"x")
            os.read(start_r, 1)  # returns when the parent closes its end: everyone starts at once
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT id FROM tickets WHERE sold_to IS NULL LIMIT 1").fetchone()
            if row:
                conn.execute("UPDATE tickets SET sold_to = ? WHERE id = ? AND sold_to IS NULL", (i, row[0]))
            conn.execute("COMMIT")
            os._exit(0)
        pids.append(pid)
    ready = 0
    while ready < n:
        ready += len(os.read(ready_r, 4096))
    t1 = time.monotonic()
    os.close(start_w)
    for pid in pids:
        os.waitpid(pid, 0)
    t2 = time.monotonic()
    os.close(start_r), os.close(ready_r), os.close(ready_w)
    after = os.times()
    user, system = after.children_user - before.children_user, after.children_system - before.children_system
    times = f"start {t1 - t0:6.2f} s, race {t2 - t1:6.2f} s"
    return f"{n:5d} connections: {times}, children user {user:5.1f} s, system {system:5.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", default="1000,2000")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for n in (int(b) for b in args.buyers.split(",")):
                print(trial(n, Path(tmp) / "t.db"), flush=True)


if __name__ == "__main__":
    main()
