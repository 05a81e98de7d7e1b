"""How close 20 buyers' requests reach `booking serve --workers 4`: the arrival spread at the server
(its Server-Timing arrival times, max - min), median over RUNS runs, for

  last-byte   booking simulate --target (buyer processes, last-byte sync: each hands its socket to the
              parent, which writes every last byte in one loop; the run's --json spread)
  gather      one process, httpx.AsyncClient, asyncio.gather of 20 POSTs (the naive way)
  floor       one process, 20 connections written all but their last byte, then the last bytes in one loop
  floor-fifo  the same, its loop under SCHED_FIFO where this process may, as booking's parent's loop is

python scripts/bench_target_spread.py [--runs 10] [--buyers 20]   (BOOKING_START_METHOD=spawn: spawned buyers)

The load average is printed before and after: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from booking.strategies.target.answer import arrival
from booking.strategies.target.handover import unpreempted
from booking.strategies.target.wire import Wire


def start(store: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "booking",
            "serve",
            "--store",
            store,
            "--lock",
            "atomic",
            "--workers",
            "4",
            "--think",
            "0",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        url = found.group(1) if found else url
        if line.startswith("ready"):
            return proc, url
    raise SystemExit("booking serve did not start")


def last_byte(url: str, store: str, buyers: int, sent: list[float]) -> float:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "booking",
            "simulate",
            "--target",
            url,
            "--store",
            store,
            "--buyers",
            str(buyers),
            "--json",
        ],
        capture_output=True,
        text=True,
    ).stdout
    spread = json.loads(out)["spread"]
    sent.append(float(spread["sent_ms"]))
    return float(spread["arrived_ms"])


async def _gather(url: str, buyers: int) -> float:
    import httpx

    async with httpx.AsyncClient(base_url=url, trust_env=False) as client:
        await asyncio.gather(*(client.get("/health") for _ in range(buyers)))  # connections opened first
        answers = await asyncio.gather(*(client.post("/purchase", json={"buyer": b + 1}) for b in range(buyers)))
    times = [arrival({k.lower(): v for k, v in a.headers.items()}) for a in answers]
    return (max(times) - min(times)) * 1000  # type: ignore[type-var,operator]


def floor(url: str, buyers: int, fifo: bool = False) -> float:
    wires = [Wire(url, 10.0) for _ in range(buyers)]
    for b, wire in enumerate(wires):
        wire.connect()
        body = json.dumps({"buyer": b + 1}).encode()
        wire.hold(wire.encode("POST", "/purchase", [("Content-Type", "application/json")], body))
    with unpreempted() if fifo else contextlib.nullcontext():
        for wire in wires:
            wire.release()
    times = [arrival(wire.read().headers) for wire in wires]
    for wire in wires:
        wire.close()
    return (max(times) - min(times)) * 1000  # type: ignore[type-var,operator]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--buyers", type=int, default=20)
    args = parser.parse_args()
    before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    sent: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = f"sqlite:///{Path(tmp) / 'spread.db'}"
        subprocess.run([sys.executable, "-m", "booking", "init", "--store", store], check=True, capture_output=True)
        proc, url = start(store)
        try:
            figures: dict[str, list[float]] = {"last-byte": [], "gather": [], "floor": [], "floor-fifo": []}
            for _ in range(args.runs):
                figures["last-byte"].append(last_byte(url, store, args.buyers, sent))
                figures["gather"].append(asyncio.run(_gather(url, args.buyers)))
                figures["floor"].append(floor(url, args.buyers))
                figures["floor-fifo"].append(floor(url, args.buyers, fifo=True))
        finally:
            proc.terminate()
            proc.wait(30)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    method = os.environ.get("BOOKING_START_METHOD", "fork")
    print(f"{args.buyers} buyers, booking serve --workers 4 --lock atomic --think 0, {args.runs} runs, {method}")
    print(f"load average before {before}, after {load}")
    for name, values in figures.items():
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"  {name:10} median arrival spread {statistics.median(values):7.2f} ms   ({shown})")
    ratio = statistics.median(figures["last-byte"]) / statistics.median(figures["floor"])
    fifo = statistics.median(figures["last-byte"]) / statistics.median(figures["floor-fifo"])
    print(f"  last-byte / floor: {ratio:.2f}x, / floor-fifo: {fifo:.2f}x; booking's send spread, median ", end="")
    print(f"{statistics.median(sent):.3f} ms ({' '.join(f'{v:.3f}' for v in sent)})")


if __name__ == "__main__":
    main()
