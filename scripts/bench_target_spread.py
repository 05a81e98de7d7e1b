"""How close 20 buyers' requests reach `booking serve --workers 4`: the arrival spread at the server
(its Server-Timing arrival times, max - min), median over RUNS runs, for

HTTP/1.1, against booking serve (uvicorn):
  last-byte   booking simulate --target (buyer processes, last-byte sync: each hands its socket to the
              parent, which writes every last byte in one loop; the run's --json spread)
  gather      one process, httpx.AsyncClient, asyncio.gather of 20 POSTs (the naive way)
  floor       one process, 20 connections written all but their last byte, then the last bytes in one loop
  floor-fifo  the same, its loop under SCHED_FIFO where this process may, as booking's parent's loop is

HTTP/2, against booking serve --http2 (Hypercorn, h2c):
  h2-batch    booking simulate --target --http2 (buyer processes hand their requests to the parent,
              whose one connection writes every stream's final frame in one write; the run's --json spread)
  h2-gather   one process, httpx.AsyncClient(http2=True), asyncio.gather of 20 POSTs on one connection
  h2-floor    one process, one connection, 20 streams sent all but their final frame, then the final
              frames in one write (the same requests, no buyer processes)
  h1-on-h2    booking simulate --target (HTTP/1.1 last-byte sync) against the same Hypercorn service

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
import time
from pathlib import Path

from booking.strategies.target.answer import arrival
from booking.strategies.target.handover import unpreempted
from booking.strategies.target.streams import Streams
from booking.strategies.target.wire import Wire


def start(store: str, http2: bool = False) -> tuple[subprocess.Popen[str], str]:
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
            *(["--http2"] if http2 else []),
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


def last_byte(url: str, store: str, buyers: int, sent: list[float], *more: str) -> float:
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
            *more,
        ],
        capture_output=True,
        text=True,
    ).stdout
    spread = json.loads(out)["spread"]
    sent.append(float(spread["sent_ms"]))
    return float(spread["arrived_ms"])


async def _gather(url: str, buyers: int, http2: bool = False) -> float:
    import httpx

    async with httpx.AsyncClient(base_url=url, trust_env=False, http1=not http2, http2=http2) as client:
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


def h2_floor(url: str, buyers: int) -> float:
    streams = Streams(url, 10.0)
    streams.connect()
    body = [json.dumps({"buyer": b + 1}).encode() for b in range(buyers)]
    ids = [streams.open("POST", "/purchase", [("content-type", "application/json")], b) for b in body]
    time.sleep(0.02)  # every stream's head is in at the server, as the buyers' are before the window
    streams.write(streams.finals(ids))
    times = [arrival(streams.answer(i, time.monotonic() + 10).headers) for i in ids]
    streams.close()
    return (max(times) - min(times)) * 1000  # type: ignore[type-var,operator]


def round_h1(url: str, store: str, buyers: int, figures: dict[str, list[float]], sent: list[float]) -> None:
    figures["last-byte"].append(last_byte(url, store, buyers, sent))
    figures["gather"].append(asyncio.run(_gather(url, buyers)))
    figures["floor"].append(floor(url, buyers))
    figures["floor-fifo"].append(floor(url, buyers, fifo=True))


def round_h2(url: str, store: str, buyers: int, figures: dict[str, list[float]], sent: list[float]) -> None:
    figures["h2-batch"].append(last_byte(url, store, buyers, sent, "--http2"))
    figures["h2-gather"].append(asyncio.run(_gather(url, buyers, http2=True)))
    figures["h2-floor"].append(h2_floor(url, buyers))
    figures["h1-on-h2"].append(last_byte(url, store, buyers, []))


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
        names = ["last-byte", "gather", "floor", "floor-fifo", "h2-batch", "h2-gather", "h2-floor", "h1-on-h2"]
        figures: dict[str, list[float]] = {name: [] for name in names}
        sent2: list[float] = []
        for http2, one_round, said in ((False, round_h1, sent), (True, round_h2, sent2)):
            proc, url = start(store, http2)
            try:
                for _ in range(args.runs):
                    one_round(url, store, args.buyers, figures, said)
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
    ratio = statistics.median(figures["h2-batch"]) / statistics.median(figures["h2-floor"])
    print(f"  h2-batch / h2-floor: {ratio:.2f}x; booking's send spread over HTTP/2, median ", end="")
    print(f"{statistics.median(sent2):.3f} ms")


if __name__ == "__main__":
    main()
