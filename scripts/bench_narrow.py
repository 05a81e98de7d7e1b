"""The narrow endpoint (tests/endpoints/apps.py, /narrow/...): read, no sleep, write, racy only across
uvicorn's 4 worker processes sharing a PostgreSQL row. Prints, for the racy and the fixed twin:

  window      the endpoint's own read-to-commit time (its `window_ms`): 20 buys one at a time, and the
              sales of RUNS rounds of 20 requests at once (one process, last bytes in one loop)
  lockstep    RUNS runs of `booking simulate --target` (20 buyers), each on a fresh stock: how many were
              flagged (exit 1), with the 95% Wilson interval, for 10 tickets, 5 and 1
  --runs 20   `booking simulate ... --runs 20` with --setup/--stock resetting 5 tickets before each run:
              its odds line as printed

python scripts/bench_narrow.py [--runs 20]     (PostgreSQL from BOOKING_POSTGRES_URL, else postgres@127.0.0.1)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test app and its helpers live in tests/endpoints/

from booking.pytest_plugin import throwaway_database  # noqa: E402
from booking.stats import wilson  # noqa: E402
from tests.endpoints.apps import narrow_table, plain  # noqa: E402
from tests.endpoints.test_endpoints import start_app, stop_app  # noqa: E402

HERE = ROOT / "tests" / "endpoints"


def post(url: str) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10) as answer:
        return bytes(answer.read())


def windows(url: str) -> list[float]:
    post(f"{url}/narrow/reset?n=100")
    return [float(json.loads(post(f"{url}/narrow/buy?user={b}"))["window_ms"]) for b in range(1, 21)]


def raced_windows(url: str, runs: int) -> list[float]:
    """The sales' windows with 20 requests at once (written all but their last byte, then the last bytes
    in one loop from this process), on a stock of 5."""
    from booking.strategies.target.wire import Wire

    took: list[float] = []
    for _ in range(runs):
        post(f"{url}/narrow/reset?n=5")
        wires = [Wire(url, 10.0) for _ in range(20)]
        for b, wire in enumerate(wires, start=1):
            wire.connect()
            wire.hold(wire.encode("POST", f"/narrow/buy?user={b}", [], b""))
        for wire in wires:
            wire.release()
        answers = [json.loads(wire.read().body) for wire in wires]
        took += [float(a["window_ms"]) for a in answers if "window_ms" in a]
        for wire in wires:
            wire.close()
    return took


def lockstep(url: str, tickets: int, runs: int) -> int:
    flagged = 0
    for _ in range(runs):
        post(f"{url}/narrow/reset?n={tickets}")
        args = ["--target", url, "--target-config", "narrow.toml", "--buyers", "20", "--tickets", str(tickets), "-q"]
        done = subprocess.run([sys.executable, "-m", "booking", "simulate", *args], cwd=HERE, capture_output=True)
        flagged += done.returncode == 1
    return flagged


def odds(url: str, store: str, runs: int) -> str:
    hooks = ["--setup", "tests.endpoints.apps:narrow_setup", "--stock", "tests.endpoints.apps:narrow_left"]
    args = ["--target", url, "--target-config", str(HERE / "narrow.toml"), "--store", store, *hooks]
    args += ["--buyers", "20", "--tickets", "5", "--runs", str(runs)]
    done = subprocess.run(
        [sys.executable, "-m", "booking", "simulate", *args], cwd=ROOT, capture_output=True, text=True
    )
    return next((line for line in done.stdout.splitlines() if "P(anomaly)" in line), done.stdout[-300:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print("load average before", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with throwaway_database("postgresql", "booking_narrow") as store:
        narrow_table(plain(store))
        for fixed in (False, True):
            proc, url = start_app(fixed, 4, {"NARROW_DB": plain(store)})
            try:
                took = windows(url)
                print(f"{'fixed' if fixed else 'racy'} twin, uvicorn --workers 4")
                print(f"  window, one at a time: median {statistics.median(took):.3f} ms, max {max(took):.3f} ms")
                raced = raced_windows(url, args.runs)
                print(f"  window, 20 at once: median {statistics.median(raced):.3f} ms, max {max(raced):.3f} ms")
                for tickets in (10, 5, 1):
                    n = lockstep(url, tickets, args.runs)
                    low, high = wilson(n, args.runs)
                    print(f"  {tickets} ticket(s): flagged {n}/{args.runs} lockstep runs, 95% [{low:.0%}, {high:.0%}]")
                print(f"  --runs {args.runs}, 5 tickets: {odds(url, store, args.runs)}")
            finally:
                stop_app(proc)
    print("load average after", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
