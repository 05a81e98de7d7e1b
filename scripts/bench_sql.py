#!/usr/bin/env python3
"""How much does booking's SQL purchase path cost? Ratios against bare baselines, measured in one run.

Fair: the same statements, the same window, the order rotated every round.

SQLite: one buyer with `atomic` (a `booking simulate --duration W` run: a forked buyer, its look,
the purchase, an Attempt record sent to the parent), counted over its steady-state window (from the
start barrier's release, as `booking compare` counts it), against bare `sqlite3` loops run for the
same W seconds on the same schema (WAL, the same synchronous setting): booking's own statements
(the look, the first free ticket, BEGIN, the conditional UPDATE, the ledger INSERT, COMMIT), and
just the UPDATE and INSERT in their transaction. Targets (issue 13): >= 0.9x and >= 0.7x. The
harness share is 1 - booking / bare (booking's statements).

PostgreSQL: 8 buyers with `atomic` for W seconds against `pgbench -c 8 -M prepared -T W` running
the same round trips against the same server (booking's buyers use prepared statements too: psycopg
prepares a statement after its fifth use). Target: >= 0.9x. Purchases per second are counted from
the purchases ledger for pgbench, and over the steady-state window for booking.

    python scripts/bench_sql.py [--seconds 1] [--rounds 5] [--postgres ADMIN_URL] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from booking import RunConfig, Schedule, init_store, simulate
from booking.compare.steady import steady
from booking.stores.connect import SQLITE_SYNCHRONOUS
from booking.stores.schema import LOOK_CAP

LOOK = f"SELECT count(*) FROM (SELECT id FROM tickets WHERE sold_to IS NULL LIMIT {LOOK_CAP}) AS f"  # booking's look
FIRST = "SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"
TAKE = "UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ? AND sold_to IS NULL"
RECORD = "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (?, ?, ?)"


def booking_rate(url: str, buyers: int, seconds: float, stock: int) -> tuple[float, int]:
    """Purchases/s over the steady-state window of a --duration run, and its conflicts."""
    r = simulate(
        RunConfig(
            store=url,
            strategy="atomic",
            buyers=buyers,
            tickets=stock,
            duration_s=seconds,
            schedule=Schedule.FREE,
            deadline_s=3600,
        )
    )
    assert not r.verdict.anomalies and not r.verdict.errors, r.verdict
    window = steady(r, 1)
    assert window is not None and window.after_ready and not window.sold_out, "stock too small for the window"
    return window.purchases / window.seconds, r.verdict.conflicts


def bare_sqlite_rate(path: Path, seconds: float, stock: int, statements: str) -> float:
    """The same purchase as `atomic`, written by hand, for `seconds`: no harness, no SQLAlchemy, one process.

    statements: "booking" (look, first free, BEGIN, UPDATE, INSERT, COMMIT) or "write" (the same without
    the look: the first free ticket, then just the conditional UPDATE and the ledger INSERT in their
    transaction, as the issue's baseline measured it).
    """
    init_store(f"sqlite:///{path}", stock)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cur = conn.cursor()
    sold = 0
    t0 = time.perf_counter()
    until = t0 + seconds
    while time.perf_counter() < until:
        if statements == "booking":
            cur.execute(LOOK).fetchone()
        ticket = cur.execute(FIRST).fetchone()[0]
        cur.execute("BEGIN")
        cur.execute(TAKE, (1, ticket))
        if cur.rowcount == 1:
            cur.execute(RECORD, (ticket, 1, time.time()))
            sold += 1
        cur.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return sold / elapsed


PGBENCH_SCRIPT = f"""\
\\set buyer random(1, 8)
{LOOK};
SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1 \\gset
BEGIN;
WITH t AS (UPDATE tickets SET sold_to = :buyer, version = version + 1 WHERE id = :id AND sold_to IS NULL RETURNING 1) \
SELECT count(*) AS won FROM t \\gset
\\if :won
INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (:id, :buyer, extract(epoch FROM clock_timestamp()));
\\endif
COMMIT;
"""


def pgbench_rate(url: sa.engine.URL, clients: int, seconds: float, mode: str, workdir: Path) -> float:
    """pgbench running the same statements for `seconds`; rate = ledger rows written / that time."""
    script = workdir / "purchase.sql"
    script.write_text(PGBENCH_SCRIPT)
    count = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with count.connect() as conn:
        before = conn.exec_driver_sql("SELECT count(*) FROM purchases").scalar_one()
    cmd = ["pgbench", "-n", "-M", mode, "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1))]
    cmd += ["-T", str(max(1, round(seconds))), "-f", str(script), "-h", url.host or "127.0.0.1"]
    cmd += ["-p", str(url.port or 5432), "-U", url.username or "postgres", str(url.database)]
    env = {**os.environ, "PGPASSWORD": str(url.password or "")}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed: {done.stderr.strip()}")
    with count.connect() as conn:
        after = conn.exec_driver_sql("SELECT count(*) FROM purchases").scalar_one()
    count.dispose()
    return (after - before) / max(1, round(seconds))  # -T: pgbench's own window, connections excluded


def bench_sqlite(seconds: float, rounds: int) -> None:
    """Each round runs the three sides for the same window, in an order rotated round by round."""
    workdir = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    stock = int(seconds * 60_000)
    sides = ["booking", "bare", "write"]
    rows: list[dict[str, float]] = []
    try:
        for i in range(rounds):
            rates: dict[str, float] = {}
            for side in sides[i % 3 :] + sides[: i % 3]:
                if side == "booking":
                    rates[side] = booking_rate(f"sqlite:///{workdir / 'harness.db'}", 1, seconds, stock)[0]
                else:
                    rates[side] = bare_sqlite_rate(
                        workdir / f"{side}.db", seconds, stock, "booking" if side == "bare" else side
                    )
            rows.append(rates)
    finally:
        shutil.rmtree(workdir)
    print(f"SQLite (WAL, synchronous={SQLITE_SYNCHRONOUS}), one buyer, {seconds:g} s windows, {rounds} rounds:")
    for i, r in enumerate(rows, 1):
        print(
            f"  round {i}: booking atomic {r['booking']:7.0f}/s | bare, booking's statements {r['bare']:7.0f}/s "
            f"ratio {r['booking'] / r['bare']:.2f}x | bare, without the look {r['write']:7.0f}/s "
            f"ratio {r['booking'] / r['write']:.2f}x"
        )
    med = statistics.median
    full = med(r["booking"] / r["bare"] for r in rows)
    print(
        f"  median ratio: {full:.2f}x vs booking's statements (target 0.9x; harness share {1 - full:.0%}), "
        f"{med(r['booking'] / r['write'] for r in rows):.2f}x vs the UPDATE and INSERT without the look (target 0.7x)"
    )


def _vacuum(url: sa.engine.URL) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE tickets, purchases")
    engine.dispose()


def bench_postgres(admin: str, seconds: float, clients: int, rounds: int) -> None:
    """Rounds alternate which goes first; each side runs `seconds` on freshly seeded, vacuumed tables."""
    if shutil.which("pgbench") is None:
        print("PostgreSQL: pgbench not found, skipped")
        return
    admin_url = sa.engine.make_url(admin)
    name = f"booking_bench_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = admin_url.set(database=name)
    workdir = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    rows: list[tuple[float, int, float]] = []
    stock = int(seconds * 20_000)
    try:
        spec = url.render_as_string(hide_password=False)
        for i in range(rounds):
            got: dict[str, Any] = {}
            for side in ("booking", "pgbench") if i % 2 == 0 else ("pgbench", "booking"):
                init_store(spec, stock)
                _vacuum(url)
                if side == "booking":
                    got[side] = booking_rate(spec, clients, seconds, stock)
                else:
                    got[side] = pgbench_rate(url, clients, seconds, "prepared", workdir)
            rows.append((got["booking"][0], got["booking"][1], got["pgbench"]))
    finally:
        shutil.rmtree(workdir)
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        engine.dispose()
    print(f"PostgreSQL {admin_url.host}:{admin_url.port}, {clients} clients, {seconds:g} s windows, {rounds} rounds:")
    for i, (harness, conflicts, prepared) in enumerate(rows, 1):
        print(
            f"  round {i}: booking atomic --buyers {clients} {harness:5.0f}/s ({conflicts} conflicts) | "
            f"pgbench -c {clients} -M prepared -T {max(1, round(seconds))} {prepared:5.0f}/s "
            f"ratio {harness / prepared:.2f}x"
        )
    print(f"  median ratio: {statistics.median(r[0] / r[2] for r in rows):.2f}x vs pgbench -M prepared (target 0.9x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="each side's window")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="rounds, the order rotated in each")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    if not args.skip_sqlite:
        bench_sqlite(args.seconds, args.rounds)
    if not args.skip_postgres:
        bench_postgres(args.postgres, args.seconds, args.clients, args.rounds)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
