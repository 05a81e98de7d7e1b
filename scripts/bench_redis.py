#!/usr/bin/env python3
"""The Redis `lua` strategy's throughput next to a bare forked redis-py loop running the same script.

Both sides sell the same stock from the same Redis database with the same seckill script (EVALSHA),
with 1 and with 8 processes, in interleaved rounds (booking, bare, booking, bare, ...), so drift hits
both alike (DESIGN.md section 8). Throughput is sales per second over the buying window: from the
first attempt's start to the last attempt's end, after every process is started, connected and
waiting behind a start barrier (booking's start barrier; the bare loop's multiprocessing.Barrier).

- booking: `simulate(store=redis://.../N, strategy="lua", until_sold_out, schedule free)`: each
  attempt is the script alone (lua does not look first: the script checks the stock), recorded
  (an Attempt with its times) and reported to the parent, which judges the run after it.
- bare: N forked processes, each with its own redis-py client, calling the script until sold out.
- bare + look: the same, with a GET before each script call (what booking's lua buyer did before it
  stopped looking; kept as a reference for a client that reads first).

    scripts/bench_redis.py --store redis://127.0.0.1:6379/15 --tickets 20000 --rounds 5

Prints each figure with its 95% interval, the ratios booking / bare (goal >= 0.8x) and the load average.
The database must be empty or booking's own: it is seeded, and flushed at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from typing import Any

import redis

from booking import RunConfig, Schedule, simulate
from booking.stats import mean_ci, ratio_ci
from booking.stores import init_store
from booking.stores.redis import keys


def bare_buyer(url: str, barrier: Any, look: bool, out: Any) -> None:
    client = redis.Redis.from_url(url)
    script = client.register_script(keys.SECKILL)
    me, n = os.getpid(), 0
    client.ping()  # connected before the barrier
    barrier.wait()
    start = time.monotonic()
    while True:
        if look:
            client.get(keys.STOCK)
        if script(keys=[keys.STOCK, keys.LEDGER, keys.BUYERS], args=[f"{me}:{n}", me]) <= 0:
            break
        n += 1
    out.put((start, time.monotonic(), n))


def bare(url: str, buyers: int, tickets: int, look: bool) -> float:
    """Sales per second of `buyers` forked bare loops selling `tickets`."""
    init_store(url, tickets)
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(buyers), ctx.Queue()
    procs = [ctx.Process(target=bare_buyer, args=(url, barrier, look, out)) for _ in range(buyers)]
    for p in procs:
        p.start()
    ends = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    sold = sum(n for _s, _e, n in ends)
    assert sold == tickets, (sold, tickets)
    return sold / (max(e for _s, e, _n in ends) - min(s for s, _e, _n in ends))


def booking(url: str, buyers: int, tickets: int) -> float:
    config = RunConfig(
        store=url, strategy="lua", buyers=buyers, tickets=tickets, until_sold_out=True, schedule=Schedule.FREE
    )
    result = simulate(config)
    assert not result.verdict.anomalies and result.verdict.sold == tickets, result.to_json()
    attempts = result.history.attempts
    return result.verdict.sold / (max(a.t_end for a in attempts) - min(a.t_start for a in attempts))


def figure(values: list[float]) -> str:
    mean, ci = mean_ci(values)
    low, high = ci if ci is not None else (float("nan"), float("nan"))
    return f"{mean or 0:>9.0f}/s  [{low:.0f}, {high:.0f}]"


def ratio(a: list[float], b: list[float]) -> str:
    found = ratio_ci(a, b)
    if found is None:
        return "n/a"
    r, (low, high) = found
    return f"{r:.2f}x [{low:.2f}, {high:.2f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--buyers", default="1,8")
    args = parser.parse_args()
    print(f"redis lua throughput: {args.tickets} tickets, {args.rounds} interleaved rounds, store {args.store}")
    print(f"{'buyers':>6}  {'side':<12} {'sales per second, 95% interval':<34} ratio booking / side")
    for buyers in (int(b) for b in args.buyers.split(",")):
        runs: dict[str, list[float]] = {"booking": [], "bare": [], "bare + look": []}
        for _ in range(args.rounds):
            runs["booking"].append(booking(args.store, buyers, args.tickets))
            runs["bare"].append(bare(args.store, buyers, args.tickets, look=False))
            runs["bare + look"].append(bare(args.store, buyers, args.tickets, look=True))
        for side, values in runs.items():
            against = "" if side == "booking" else ratio(runs["booking"], values)
            print(f"{buyers:>6}  {side:<12} {figure(values):<34} {against}")
        print(
            f"{'':>6}  median booking/bare {statistics.median(runs['booking']) / statistics.median(runs['bare']):.2f}x"
        )
    print(
        "load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f"; {os.cpu_count()} cores"
    )
    redis.Redis.from_url(args.store).flushdb()  # booking's: seeded above
    return 0


if __name__ == "__main__":
    sys.exit(main())
