#!/usr/bin/env python3
"""How much does booking's SQL purchase path cost? Ratios against bare baselines, measured in one run.

SQLite: one buyer with `atomic` (a `booking simulate` run: a forked buyer process, its look, the
purchase, an Attempt record sent to the parent) against a bare `sqlite3` loop doing the same
statements on the same schema (WAL, the same synchronous setting). Target: >= 0.5x.

PostgreSQL: 8 buyers with `atomic` against `pgbench -c 8` running the same statements against the
same server. Target: >= 0.7x. Purchases per second are counted from the purchases ledger.

    python scripts/bench_sql.py [--tickets 10000] [--pg-tickets 2000] [--rounds 5] [--postgres ADMIN_URL]
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

import sqlalchemy as sa

from booking import RunConfig, Schedule, init_store, simulate
from booking.stores.connect import SQLITE_SYNCHRONOUS
from booking.stores.schema import LOOK_CAP

LOOK = f"SELECT count(*) FROM (SELECT id FROM tickets WHERE sold_to IS NULL LIMIT {LOOK_CAP}) AS f"  # booking's look
FIRST = "SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"
TAKE = "UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ? AND sold_to IS NULL"
RECORD = "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (?, ?, ?)"


def booking_rate(url: str, buyers: int, tickets: int, keep: bool = False) -> tuple[float, int, float]:
    r = simulate(
        RunConfig(
            store=url,
            strategy="atomic",
            buyers=buyers,
            tickets=tickets,
            keep=keep,
            until_sold_out=True,
            schedule=Schedule.FREE,
            deadline_s=3600,
        )
    )
    assert r.verdict.ok, r.verdict.anomalies
    return r.verdict.sold / r.elapsed_s, r.verdict.conflicts, r.elapsed_s


def bare_sqlite_rate(path: Path, tickets: int, look: bool) -> float:
    """The same purchase as `atomic`, written by hand: no harness, no SQLAlchemy, no processes."""
    init_store(f"sqlite:///{path}", tickets)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cur = conn.cursor()
    sold = 0
    t0 = time.perf_counter()
    while True:
        if look:
            cur.execute(LOOK).fetchone()
        row = cur.execute(FIRST).fetchone()
        if row is None:
            break
        cur.execute("BEGIN")
        cur.execute(TAKE, (1, row[0]))
        if cur.rowcount == 1:
            cur.execute(RECORD, (row[0], 1, time.time()))
            sold += 1
        cur.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    assert sold == tickets
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


def pgbench_rate(url: sa.engine.URL, clients: int, seconds: int, mode: str, workdir: Path) -> float:
    """pgbench running the same statements; rate = ledger rows written / pgbench's own run time."""
    script = workdir / "purchase.sql"
    script.write_text(PGBENCH_SCRIPT)
    count = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with count.connect() as conn:
        before = conn.exec_driver_sql("SELECT count(*) FROM purchases").scalar_one()
    cmd = ["pgbench", "-n", "-M", mode, "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1))]
    cmd += ["-T", str(seconds), "-f", str(script), "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    cmd += ["-U", url.username or "postgres", str(url.database)]
    env = {**os.environ, "PGPASSWORD": str(url.password or "")}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed: {done.stderr.strip()}")
    elapsed = time.perf_counter() - t0
    with count.connect() as conn:
        after = conn.exec_driver_sql("SELECT count(*) FROM purchases").scalar_one()
    count.dispose()
    return (after - before) / elapsed


def bench_sqlite(tickets: int, rounds: int) -> None:
    """Rounds alternate harness and baselines, so machine noise hits both; the ratio is per round."""
    workdir = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    rows: list[tuple[float, float, float]] = []
    try:
        for _ in range(rounds):
            harness, _, _ = booking_rate(f"sqlite:///{workdir / 'harness.db'}", 1, tickets)
            bare_look = bare_sqlite_rate(workdir / "bare.db", tickets, look=True)
            bare_txn = bare_sqlite_rate(workdir / "bare2.db", tickets, look=False)
            rows.append((harness, bare_look, bare_txn))
    finally:
        shutil.rmtree(workdir)
    print(f"SQLite (WAL, synchronous={SQLITE_SYNCHRONOUS}), {tickets} tickets, one buyer, {rounds} rounds:")
    for i, (harness, bare_look, bare_txn) in enumerate(rows, 1):
        print(
            f"  round {i}: booking atomic {harness:7.0f}/s | bare look+txn {bare_look:7.0f}/s "
            f"ratio {harness / bare_look:.2f}x | bare txn only {bare_txn:7.0f}/s ratio {harness / bare_txn:.2f}x"
        )
    med = statistics.median
    print(
        f"  median ratio: {med(h / b for h, b, _ in rows):.2f}x vs look+transaction, "
        f"{med(h / t for h, _, t in rows):.2f}x vs transaction only (target 0.5x)"
    )


def _vacuum(url: sa.engine.URL) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE tickets, purchases")
    engine.dispose()


def bench_postgres(admin: str, tickets: int, clients: int, rounds: int) -> None:
    """Rounds alternate: booking sells `tickets`, then pgbench runs for as long as booking took."""
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
    rows: list[tuple[float, int, int, float, float]] = []
    try:
        spec = url.render_as_string(hide_password=False)
        for _ in range(rounds):
            # Each run starts from freshly seeded, vacuumed tables (no dead rows left by the one before).
            init_store(spec, tickets)
            _vacuum(url)
            harness, conflicts, elapsed = booking_rate(spec, clients, tickets, keep=True)
            seconds = max(1, round(elapsed))
            rates = []
            for mode in ("simple", "prepared"):
                init_store(spec, tickets * 10)  # pgbench runs for a time, not a count: stock to spare
                _vacuum(url)
                rates.append(pgbench_rate(url, clients, seconds, mode, workdir))
            rows.append((harness, conflicts, seconds, rates[0], rates[1]))
    finally:
        shutil.rmtree(workdir)
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        engine.dispose()
    print(f"PostgreSQL {admin_url.host}:{admin_url.port}, {clients} clients, {tickets} tickets, {rounds} rounds:")
    for i, (harness, conflicts, seconds, simple, prepared) in enumerate(rows, 1):
        print(
            f"  round {i}: booking atomic --buyers {clients} {harness:5.0f}/s ({conflicts} conflicts) | "
            f"pgbench -c {clients} -T {seconds} simple {simple:5.0f}/s ratio {harness / simple:.2f}x | "
            f"prepared {prepared:5.0f}/s ratio {harness / prepared:.2f}x"
        )
    med = statistics.median
    print(
        f"  median ratio: {med(r[0] / r[3] for r in rows):.2f}x vs pgbench simple, "
        f"{med(r[0] / r[4] for r in rows):.2f}x vs pgbench prepared (target 0.7x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10000, help="SQLite stock (one buyer sells it all)")
    parser.add_argument("--pg-tickets", type=int, default=2000, help="PostgreSQL stock for each booking run")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (booking, then baseline)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        bench_sqlite(args.tickets, args.rounds)
    if not args.skip_postgres:
        bench_postgres(args.postgres, args.pg_tickets, args.clients, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
