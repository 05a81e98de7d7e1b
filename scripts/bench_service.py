#!/usr/bin/env python3
"""booking serve's purchase endpoint per strategy: requests/s and latency percentiles, in one run.

Each strategy is served by `booking serve --workers W --think 0` over its own SQLite file (or the
--store URL, reseeded before each round); the baseline is the same framework answering a constant
(a Starlette app, POST /purchase -> {"ticket": 1}, in uvicorn with the same workers): the ceiling
of this harness on this machine. The load is booking's own HTTP buyers (simulate --target), free
schedule, each sending --attempts purchases one after another; rates are counted over the buying
window (first request to last answer), after every buyer has started and opened its connection.
Latency is a whole request as the buyer sees it. Rounds alternate the order; medians, with the range.

    scripts/bench_service.py --buyers 16 --attempts 100 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from booking import RunConfig, init_store, simulate
from booking.stats import percentile

STRATEGIES = ["none", "mp-lock", "file-lock", "atomic", "db-lock"]
BASELINE = "constant"


async def _constant(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"ticket": 1})


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


constant_app = Starlette(routes=[Route("/purchase", _constant, methods=["POST"]), Route("/health", _health)])


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    """Start a server in a session of its own; return it and its URL once every worker is up."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:
        if "listening on " in line:
            url = line.rsplit("listening on ", 1)[1].strip()
        if line.startswith("ready"):
            return proc, url
    raise SystemExit(f"{' '.join(cmd)} did not start")


def make_constant_app() -> Starlette:
    return constant_app


def serve_constant(workers: int) -> None:
    """The baseline server: booking serve's own socket and supervisor, with the constant app in the workers."""
    import uvicorn

    from booking.service.run import listen, supervisor

    sock = listen("127.0.0.1", 0)
    config = uvicorn.Config(make_constant_app, factory=True, workers=workers, log_level="warning", access_log=False)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    supervisor(config, sock, lambda: print("ready", flush=True)).run()


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def load(url: str, store: str, buyers: int, attempts: int) -> tuple[float, list[float], int]:
    """(requests/s, latencies in ms, failed attempts) for one round of HTTP buyers against `url`."""
    result = simulate(
        RunConfig(target=url, store=store, buyers=buyers, attempts=attempts, tickets=buyers * attempts, schedule="free")
    )
    done = result.history.attempts
    window = max(a.t_end for a in done) - min(a.t_start for a in done)
    latencies = [(a.t_end - a.t_start) * 1000 for a in done]
    return len(done) / window, latencies, sum(a.outcome.value == "error" for a in done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=16)
    parser.add_argument("--attempts", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--store", help="a database URL (one service at a time uses it); default SQLite files")
    parser.add_argument("--serve-constant", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_constant:
        return serve_constant(args.workers)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    stock = args.buyers * args.attempts
    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    servers: dict[str, tuple[subprocess.Popen[str], str, str]] = {}
    try:
        proc, url = start([sys.executable, __file__, "--serve-constant", "--workers", str(args.workers)])
        servers[BASELINE] = (proc, url, "")
        for name in args.strategies.split(","):
            store = args.store or f"sqlite:///{tmp / (name + '.db')}"
            cmd = [sys.executable, "-m", "booking", "serve", "--store", store, "--lock", name, "--port", "0"]
            cmd += ["--workers", str(args.workers), "--think", "0", "--tickets", str(stock)]
            if args.store:  # one database: serve one strategy at a time, started when its turn comes
                servers[name] = (None, "", store)  # type: ignore[assignment]
                continue
            proc, url = start(cmd)
            servers[name] = (proc, url, store)
        rates: dict[str, list[float]] = {k: [] for k in servers}
        lat: dict[str, list[float]] = {k: [] for k in servers}
        errors = dict.fromkeys(servers, 0)
        for n in range(args.rounds):
            order = list(servers)
            random.Random(n).shuffle(order)
            for name in order:
                proc, url, store = servers[name]
                if store:
                    init_store(store, stock)
                if proc is None:
                    cmd = [sys.executable, "-m", "booking", "serve", "--store", store, "--lock", name, "--port", "0"]
                    proc, url = start([*cmd, "--workers", str(args.workers), "--think", "0", "--keep"])
                rate, ms, failed = load(url, store, args.buyers, args.attempts)
                rates[name].append(rate)
                lat[name] += ms
                errors[name] += failed
                if servers[name][0] is None:
                    stop(proc)
        base = statistics.median(rates[BASELINE])
        print(f"{args.buyers} HTTP buyers x {args.attempts} purchases, {args.workers} workers, {args.rounds} rounds")
        head = f"{'endpoint':<10} {'req/s':>7} {'range':>13} {'vs constant':>11}"
        print(f"{head} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} errors")
        for name in servers:
            r = rates[name]
            p = [percentile(lat[name], q) or 0.0 for q in (50, 95, 99)]
            print(
                f"{name:<10} {statistics.median(r):7.0f} {min(r):6.0f}-{max(r):<6.0f} "
                f"{statistics.median(r) / base:10.2f}x {p[0]:7.1f} {p[1]:7.1f} {p[2]:7.1f} {errors[name]}"
            )
    finally:
        for proc, _, _ in servers.values():
            if proc is not None:
                stop(proc)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
