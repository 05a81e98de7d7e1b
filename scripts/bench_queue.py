#!/usr/bin/env python3
"""The queue strategy's cost next to the locks: purchases/s and wait percentiles, in one run.

Every strategy sells the same stock to the same buyers on the same store, free schedule, each
buyer buying until sold out. Throughput is counted over the buying window (first attempt's start
to last attempt's end), so process start-up is left out. The wait is what each strategy makes a
purchase wait for: the queue (put to a seller's get) or the lock (ask to acquire); the latency is
a whole attempt, look to receipt, the figure a buyer feels under either. The baseline
is the same read-modify-write in a bare loop, one process, no harness (DESIGN.md section 8).

    scripts/bench_queue.py --buyers 8 --tickets 3000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from booking import RunConfig, Schedule, simulate
from booking.run.result import RunResult
from booking.stats import percentile


@dataclass(frozen=True)
class Variant:
    label: str
    strategy: str
    sellers: int = 1
    seller_lock: str | None = None


VARIANTS = [
    Variant("mp-lock", "mp-lock"),
    Variant("file-lock", "file-lock"),
    Variant("queue (1 seller)", "queue"),
    Variant("queue (4 sellers, file-lock)", "queue", 4, "file-lock"),
]


def bare_loop(store: Path, tickets: int) -> float:
    """Purchases/s of the notes' read-modify-write of db.json in one process: the floor of any harness."""
    store.write_text(json.dumps({"count": tickets}))
    start = time.perf_counter()
    for _ in range(tickets):
        count = json.loads(store.read_bytes())["count"]
        tmp = store.with_name(store.name + ".bench")
        tmp.write_text(json.dumps({"count": count - 1}))
        os.replace(tmp, store)
    return tickets / (time.perf_counter() - start)


def buying_rate(result: RunResult) -> float:
    attempts = result.history.attempts
    window = max(a.t_end for a in attempts) - min(a.t_start for a in attempts)
    return result.verdict.sold / window if window > 0 else float("nan")


def waits_ms(result: RunResult) -> tuple[str, list[float]]:
    attempts = result.history.attempts
    if result.config.strategy == "queue":
        return "queue", sorted(a.queue_wait_s * 1000 for a in attempts if a.queue_wait_s is not None)
    return "lock", sorted(a.lock_wait_s * 1000 for a in attempts if a.t_acquired is not None)


def latencies_ms(result: RunResult) -> list[float]:
    """Each attempt from its start (the look) to its end (the receipt): what a buyer waits in all."""
    return [(a.t_end - a.t_start) * 1000 for a in result.history.attempts]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per strategy; the median rate is shown")
    parser.add_argument("--store", help="a store spec (default: a fresh db.json in a temporary directory)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or str(Path(tmp) / "db.json")
        # The baseline is measured between the runs, not once: this machine's speed drifts.
        bare = [bare_loop(Path(tmp) / "bare.json", args.tickets)]
        rows = []
        print(f"{args.buyers} buyers, {args.tickets} tickets, until sold out, free schedule, store {store}")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, median of {args.repeat} runs per row\n")
        header = f"{'strategy':<34} {'verdict':>7} {'purchases/s':>12} {'x bare':>7}  {'wait':<5} "
        print(header + f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}   latency p50/p99 ms")
        for v in VARIANTS:
            rates, waits, lat, verdicts, kind = [], [], [], set(), ""
            for _ in range(args.repeat):
                config = RunConfig(
                    store=store,
                    strategy=v.strategy,
                    buyers=args.buyers,
                    tickets=args.tickets,
                    until_sold_out=True,
                    schedule=Schedule.FREE,
                    deadline_s=600,
                    sellers=v.sellers,
                    seller_lock=v.seller_lock,
                )
                result = simulate(config)
                bare.append(bare_loop(Path(tmp) / "bare.json", args.tickets))
                rates.append(buying_rate(result))
                kind, ms = waits_ms(result)
                waits.extend(ms)
                lat.extend(latencies_ms(result))
                verdicts.add("OK" if result.ok else "ANOMALY")
            rows.append((v, verdicts, statistics.median(rates), kind, sorted(waits), sorted(lat)))
        base = statistics.median(bare)
        print(f"{'bare loop (1 process, no harness)':<34} {'-':>7} {base:>12.0f} {1.0:>7.2f}")
        for v, verdicts, rate, kind, w, lat in rows:
            p = [percentile(w, q) if w else float("nan") for q in (50, 95, 99)]
            print(
                f"{v.label:<34} {'/'.join(sorted(verdicts)):>7} {rate:>12.0f} {rate / base:>7.2f}  {kind:<5} "
                f"{p[0]:>7.3f} {p[1]:>7.3f} {p[2]:>7.3f}   {percentile(lat, 50):.3f} / {percentile(lat, 99):.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
