#!/usr/bin/env python3
"""What one lockstep trial costs through the library, against a bare forked script doing the same job.

The job (what `booking compare` repeats for correctness): 10 buyers, 10 tickets, each buyer starts,
opens the store, waits for the others, looks, is held at its strategy's race window until all are
there, then buys one ticket under the lock; the parent collects every result, checks the stock.

- library: `booking.simulate(RunConfig(store, strategy, buyers=10, tickets=10))` (lockstep), in this
  process: seeding, the start barrier, the window's barrier, reports, the verdict;
- bare: the same with `multiprocessing` (fork), from a minimal parent: a process of its own (this
  script with --bare-worker) that imports the standard library and filelock, never booking, so its
  forks copy a small process as a script's would: a Barrier to start, a Barrier at the window, the
  same lock (a multiprocessing.Lock, a filelock.FileLock, the conditional UPDATE), a Queue for the
  results, the stock read back at the end.

Both are timed end to end, interleaved and alternating which goes first; the ratio is the median of
the per-round ratios. Target (issue 13): at most 1.5x each.

    python scripts/bench_trial.py [--rounds 7] [--buyers 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import filelock  # imported before the forks, as a script would at its top

CASES = [
    ("db.json", "none"),
    ("db.json", "mp-lock"),
    ("db.json", "file-lock"),
    ("t.db", "atomic"),
    ("t.db", "file-lock"),
]
TARGET = 1.5
FIRST = "SELECT id FROM tickets WHERE sold_to IS NULL ORDER BY id LIMIT 1"
LOOK = "SELECT count(*) FROM (SELECT id FROM tickets WHERE sold_to IS NULL LIMIT 100) AS f"


def _json_buy(path: str, lock: Any, window: Any, holds_lock: bool) -> int | None:
    with open(path, "rb") as f:
        json.loads(f.read())  # the look
    if holds_lock:
        window.wait()  # held before the lock: all contend at once
    with lock:
        with open(path, "rb") as f:
            count = json.loads(f.read())["count"]
        if not holds_lock:
            window.wait()  # none: held after the read, the race itself
        if count <= 0:
            return None
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as out:
            out.write(json.dumps({"count": count - 1}).encode())
        os.replace(tmp, path)
        return count


def _sqlite_buy(path: str, lock: Any, window: Any, buyer: int, conditional: bool) -> int | None:
    db = sqlite3.connect(path, isolation_level=None, timeout=60)
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(LOOK).fetchone()
    if not conditional:
        window.wait()
    with lock:
        row = db.execute(FIRST).fetchone()
        if conditional:
            window.wait()  # atomic: held after the read
        while row is not None:
            db.execute("BEGIN")
            took = db.execute(
                "UPDATE tickets SET sold_to = ?, version = version + 1 WHERE id = ? AND sold_to IS NULL",
                (buyer, row[0]),
            ).rowcount
            if took == 1:
                db.execute(
                    "INSERT INTO purchases (ticket_id, buyer, bought_at) VALUES (?, ?, ?)", (row[0], buyer, time.time())
                )
                db.execute("COMMIT")
                return int(row[0])
            db.execute("ROLLBACK")
            row = db.execute(FIRST).fetchone()
    return None


@contextlib.contextmanager
def _polled(lock: Any) -> Any:
    lock.acquire(poll_interval=0.001)
    try:
        yield
    finally:
        lock.release()


def _bare_buyer(args: tuple[Any, ...]) -> None:
    buyer, path, strategy, lock_path, start, window, lock, results = args
    if strategy == "file-lock":
        # As booking does: made in the buyer (filelock refuses an inherited instance), polled every 1 ms.
        file_lock = filelock.FileLock(lock_path, preserve_lock_file=True)
        lock = _polled(file_lock)
    elif lock is None:
        lock = contextlib.nullcontext()
    start.wait()  # the start barrier
    if path.endswith(".json"):
        got = _json_buy(path, lock, window, strategy != "none")
    else:
        got = _sqlite_buy(path, lock, window, buyer, strategy == "atomic")
    results.put((buyer, got))


def bare_trial(path: str, strategy: str, buyers: int) -> float:
    t = time.perf_counter()
    if path.endswith(".json"):
        Path(path).write_text(json.dumps({"count": buyers}))
    else:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN")
        db.execute("DELETE FROM purchases")
        db.execute("DELETE FROM tickets")
        db.executemany("INSERT INTO tickets (id) VALUES (?)", [(i,) for i in range(1, buyers + 1)])
        db.execute("COMMIT")
        db.close()
    ctx = multiprocessing.get_context("fork")
    start, window, results = ctx.Barrier(buyers), ctx.Barrier(buyers), ctx.Queue()
    lock = ctx.Lock() if strategy == "mp-lock" else None
    lock_path = path + ".lock"
    procs = [
        ctx.Process(target=_bare_buyer, args=((b, path, strategy, lock_path, start, window, lock, results),))
        for b in range(1, buyers + 1)
    ]
    for p in procs:
        p.start()
    got = [results.get() for _ in procs]
    for p in procs:
        p.join()
    sold = sum(1 for _, g in got if g is not None)
    if path.endswith(".json"):
        left = json.loads(Path(path).read_text())["count"]
    else:
        db = sqlite3.connect(path)
        left = db.execute("SELECT count(*) FROM tickets WHERE sold_to IS NULL").fetchone()[0]
        db.close()
    elapsed = time.perf_counter() - t
    assert sold == buyers and (left == 0 or strategy == "none"), (strategy, sold, left)
    return elapsed


class Bare:
    """The bare side in a minimal parent: this script as a worker that never imports booking."""

    def __init__(self) -> None:
        cmd = [sys.executable, __file__, "--bare-worker"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def trial(self, path: str, strategy: str, buyers: int) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{path} {strategy} {buyers}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def bare_worker() -> None:
    for line in sys.stdin:
        path, strategy, buyers = line.split()
        print(repr(bare_trial(path, strategy, int(buyers))), flush=True)


def library_trial(store: str, strategy: str, buyers: int) -> float:
    from booking import RunConfig, simulate

    t = time.perf_counter()
    r = simulate(RunConfig(store=store, strategy=strategy, buyers=buyers, tickets=buyers))
    elapsed = time.perf_counter() - t
    assert r.verdict.sold == buyers and (r.verdict.ok or strategy == "none"), r.verdict
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--buyers", type=int, default=10)
    parser.add_argument("--bare-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_worker:
        bare_worker()
        return 0
    from booking import init_store

    worker = Bare()
    work = Path(tempfile.mkdtemp(prefix="bench_trial."))
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    print(f"{args.buyers} buyers, {args.buyers} tickets, lockstep; median of {args.rounds} interleaved rounds\n")
    failed = False
    try:
        for store, strategy in CASES:
            path = str(work / f"{strategy}-{store}")
            spec = path if store.endswith(".json") else f"sqlite:///{path}"
            init_store(spec, args.buyers)  # the schema, for both sides
            library_trial(spec, strategy, args.buyers)  # warm: imports, .pyc, page cache
            worker.trial(path, strategy, args.buyers)
            lib: list[float] = []
            bare: list[float] = []
            for i in range(args.rounds):
                for side in ("library", "bare") if i % 2 == 0 else ("bare", "library"):
                    if side == "library":
                        lib.append(library_trial(spec, strategy, args.buyers))
                    else:
                        bare.append(worker.trial(path, strategy, args.buyers))
            ratios = [a / b for a, b in zip(lib, bare, strict=True)]
            ratio = statistics.median(ratios)
            ok = ratio <= TARGET
            failed |= not ok
            print(
                f"{store:8} {strategy:10} library {statistics.median(lib) * 1000:7.1f} ms  bare "
                f"{statistics.median(bare) * 1000:7.1f} ms  ratio {ratio:5.2f}x  "
                f"(min/max ratio {min(ratios):.2f}/{max(ratios):.2f})  "
                f"{'pass' if ok else 'FAIL'} (target {TARGET}x)  load {os.getloadavg()[0]:.1f}"
            )
    finally:
        worker.close()
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
