#!/usr/bin/env python3
"""Does db.json itself scale with writers? A bare loop of the notes' write, no booking, 1/4/16 processes.

`booking compare` shows `none` on db.json falling from 4 to 16 buyers. This asks whether the store
or the harness does that: N forked processes read db.json twice (the look and the read), write a
temporary file and os.replace it over db.json, for `--seconds`, started together; the total
writes per second are printed. On ext4 a rename over an existing file waits for the new file's
data (auto_da_alloc), so the store, not the lock or the harness, sets this curve.

    python scripts/bench_counter_scaling.py [--seconds 1] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from typing import Any


def _buyer(path: str, start: Any, until: Any, results: Any) -> None:
    start.wait()
    done = 0
    while time.monotonic() < until.value:
        with open(path, "rb") as src:
            json.loads(src.read())  # the look
        with open(path, "rb") as src:
            count = json.loads(src.read())["count"]
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as out:
            out.write(json.dumps({"count": count - 1}).encode())
        os.replace(tmp, path)
        done += 1
    results.put(done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--dir", default=None, help="where db.json goes (default: a temporary directory)")
    args = parser.parse_args()
    path = os.path.join(args.dir or tempfile.mkdtemp(prefix="bench_counter."), "db.json")
    ctx = multiprocessing.get_context("fork")
    print(f"load average {os.getloadavg()[0]:.2f}; {path}")
    for n in (1, 4, 16):
        with open(path, "w") as out:
            json.dump({"count": 10**7}, out)
        start, until, results = ctx.Barrier(n + 1), ctx.Value("d", 0.0), ctx.Queue()
        procs = [ctx.Process(target=_buyer, args=(path, start, until, results)) for _ in range(n)]
        for p in procs:
            p.start()
        until.value = time.monotonic() + args.seconds
        start.wait()
        total = sum(results.get() for _ in procs)
        for p in procs:
            p.join()
        print(f"{n:3} processes: {total / args.seconds:7,.0f} writes/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
