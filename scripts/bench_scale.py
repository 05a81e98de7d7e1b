#!/usr/bin/env python3
"""Does a run's cost grow linearly with buyers, up to the documented 2,000? And what does a buyer cost in memory?

For db.json with mp-lock and SQLite with atomic: `simulate(buyers=N, tickets=1000)` (lockstep, as
`booking simulate --buyers N --tickets 1000` runs it) at 1,000 and 2,000 buyers, interleaved, wall
time end to end. Target (issue 13): OK verdicts, and the 2,000-buyer run at most 2.2x the 1,000-buyer one.

Memory per buyer: while each run is going, a thread samples the buyers' private memory (Private_Clean
+ Private_Dirty from /proc/PID/smaps_rollup: what a buyer does not share with the parent) for up to
40 buyers, and the machine's MemAvailable; it reports the mean private MB per buyer at its peak and
the drop in MemAvailable per buyer (noisy on a shared machine: other programs allocate too).

    python scripts/bench_scale.py [--rounds 2] [--buyers 1000,2000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from booking import RunConfig, simulate

SAMPLED = 40
TARGET = 2.2


def _meminfo(field: str) -> int:
    with open("/proc/meminfo", encoding="ascii") as info:
        for line in info:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _children() -> list[int]:
    found: list[int] = []
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):  # a thread that just ended
            found += [int(p) for p in Path(f"/proc/self/task/{task}/children").read_text().split()]
    return found


def _private(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    total = 0
    for line in text.splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1]) * 1024
    return total


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak: dict[int, int] = {}
        self.available_before = _meminfo("MemAvailable")
        self.available_min = self.available_before

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.available_min = min(self.available_min, _meminfo("MemAvailable"))
            for pid in _children()[:SAMPLED]:
                size = _private(pid)
                if size is not None:
                    self.peak[pid] = max(self.peak.get(pid, 0), size)


def one(store: str, strategy: str, buyers: int) -> tuple[float, float, float]:
    sampler = Sampler()
    sampler.start()
    t = time.perf_counter()
    r = simulate(RunConfig(store=store, strategy=strategy, buyers=buyers, tickets=1000))
    wall = time.perf_counter() - t
    sampler.stop.set()
    sampler.join()
    if not r.verdict.ok:
        raise SystemExit(f"{strategy} on {store}, {buyers} buyers: verdict {r.verdict.word} {r.verdict}")
    private = statistics.fmean(sampler.peak.values()) / 2**20 if sampler.peak else float("nan")
    drop = (sampler.available_before - sampler.available_min) / buyers / 2**20
    return wall, private, drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--buyers", default="1000,2000")
    args = parser.parse_args()
    counts = [int(b) for b in args.buyers.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench_scale."))
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    failed = False
    for store, strategy in ((str(work / "db.json"), "mp-lock"), (f"sqlite:///{work / 't.db'}", "atomic")):
        walls: dict[int, list[float]] = {b: [] for b in counts}
        for i in range(args.rounds):
            for buyers in counts if i % 2 == 0 else counts[::-1]:
                wall, private, drop = one(store, strategy, buyers)
                walls[buyers].append(wall)
                print(
                    f"  {strategy:7} {Path(store).name:9} {buyers:5} buyers: {wall:6.2f} s, verdict OK, "
                    f"{private:5.2f} MB private per buyer (peak, {SAMPLED} sampled), "
                    f"MemAvailable -{drop:5.2f} MB per buyer",
                    flush=True,
                )
        low, high = min(counts), max(counts)
        ratio = statistics.median(walls[high]) / statistics.median(walls[low])
        ok = ratio <= TARGET * high / low / 2
        failed |= not ok
        print(
            f"{strategy} on {Path(store).name}: {high} buyers {statistics.median(walls[high]):.2f} s against "
            f"{low} buyers {statistics.median(walls[low]):.2f} s: {ratio:.2f}x ({'pass' if ok else 'FAIL'}, "
            f"target {TARGET * high / low / 2:.1f}x)"
        )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
