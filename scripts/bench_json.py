#!/usr/bin/env python3
"""Benchmark: `booking simulate --buyers N --no-lock` against a bare baseline doing the same job.

Issue 2 asks that booking spend little more than a bare script on start-up imports, rendering and
process management. Both sides run as separate commands started the same way (this interpreter),
timed end to end, interleaved, and the medians are compared in the same run (DESIGN.md §8):

- bare: `python bare_buyers.py N` -- N buyers forked with the `fork` start method; each looks at
  db.json, reads it, waits at a barrier (every buyer reads before any writes, as in booking's
  lockstep schedule), writes count-1 (temporary file then os.replace, as booking does) and reports
  through a multiprocessing Queue; the parent collects N reports, joins the children and prints
  how many were sold. No CLI, no verifier, no rendering.
- booking: `booking simulate --buyers N --no-lock`, exactly, run in a temporary directory so that its
  default store ./db.json is a scratch file; its output goes to a pipe.

Usage: python scripts/bench_json.py [--buyers 10,1000] [--runs N] [--quick]
Exit status: 0 if every ratio meets its target, 1 if one misses, 2 on bad usage, 3 if a command failed.
Standard library only (plus the installed `booking` command).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Targets from issue 2: the ratio booking / bare must not exceed these.
TARGETS = {10: 1.5, 1000: 1.3}
LARGE = 100  # buyer counts above this use the large-run defaults (fewer repetitions, the 1.3x target)
RUNS_SMALL, RUNS_LARGE = 7, 3
QUICK_RUNS_SMALL, QUICK_RUNS_LARGE = 3, 1
TIMEOUT_S = 900.0  # one command; booking's own default deadline is 60 s

BARE_SCRIPT = '''\
"""Bare baseline: N forked buyers, a barrier after the read, a JSON read-modify-write, a Queue."""
import json
import multiprocessing
import os
import sys
import tempfile

PATH = "db.json"


def buyer(number, barrier, queue):
    with open(PATH, "rb") as src:
        looked = json.loads(src.read())["count"]  # the notes' search(): a look
    with open(PATH, "rb") as src:
        count = json.loads(src.read())["count"]  # get(): read ...
    barrier.wait()  # lockstep: every buyer has read before any writes
    wrote = None
    if count > 0:  # ... check, write: count - 1, atomically as booking does
        fd, tmp = tempfile.mkstemp(prefix=".db.json.", suffix=".tmp", dir=".")
        with os.fdopen(fd, "wb") as out:
            out.write(json.dumps({"count": count - 1}).encode())
        os.replace(tmp, PATH)
        wrote = count - 1
    queue.put((number, looked, count, wrote))


def main():
    buyers = int(sys.argv[1])
    with open(PATH, "w") as out:
        json.dump({"count": 1}, out)
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(buyers)
    queue = ctx.Queue()
    procs = [ctx.Process(target=buyer, args=(n, barrier, queue)) for n in range(1, buyers + 1)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    sold = sum(1 for r in results if r[3] is not None)
    print(f"sold {sold} remaining {json.load(open(PATH))['count']}")


if __name__ == "__main__":
    main()
'''


@dataclass
class Row:
    buyers: int
    runs: int
    bare: list[float]
    booking: list[float]
    target: float

    @property
    def bare_median(self) -> float:
        return statistics.median(self.bare)

    @property
    def booking_median(self) -> float:
        return statistics.median(self.booking)

    @property
    def ratio(self) -> float:
        return self.booking_median / self.bare_median

    @property
    def passed(self) -> bool:
        return self.ratio <= self.target


class CommandFailed(Exception):
    """A timed command did not do the job (wrong exit code or output)."""


def target_for(buyers: int) -> float:
    return TARGETS.get(buyers, TARGETS[10] if buyers <= LARGE else TARGETS[1000])


def default_runs(buyers: int, quick: bool) -> int:
    if quick:
        return QUICK_RUNS_SMALL if buyers <= LARGE else QUICK_RUNS_LARGE
    return RUNS_SMALL if buyers <= LARGE else RUNS_LARGE


def find_booking() -> str:
    """The `booking` console script installed beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name("booking")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("booking")
    if found is None:
        raise SystemExit("bench_json: no `booking` command beside this python or on PATH (pip install -e .)")
    return found


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall time of one command, start-up included; its exit code and stdout."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - start
    if proc.stderr:
        sys.stderr.write(proc.stderr.decode(errors="replace"))
    return elapsed, proc.returncode, proc.stdout.decode(errors="replace")


def run_bare(buyers: int, script: Path, cwd: Path) -> float:
    elapsed, code, out = timed([sys.executable, str(script), str(buyers)], cwd)
    if code != 0 or f"sold {buyers} " not in out:
        raise CommandFailed(f"bare baseline, {buyers} buyers: exit {code}, output {out.strip()[-200:]!r}")
    return elapsed


def run_booking(buyers: int, booking: str, cwd: Path, *extra: str) -> float:
    elapsed, code, out = timed([booking, "simulate", "--buyers", str(buyers), "--no-lock", *extra], cwd)
    # Unprotected lockstep with one ticket: every buyer reads count=1, so all sell and it exits 1.
    if code != 1 or f"sold {buyers} " not in out:
        raise CommandFailed(f"booking, {buyers} buyers: exit {code}, output {out.strip()[-200:]!r}")
    return elapsed


def measure(buyers: int, runs: int, warmup: int, booking: str, work: Path, script: Path) -> Row:
    bare_dir, booking_dir = work / f"bare-{buyers}", work / f"booking-{buyers}"
    bare_dir.mkdir()
    booking_dir.mkdir()
    for _ in range(warmup):  # page cache, .pyc files: not counted
        run_bare(buyers, script, bare_dir)
        run_booking(buyers, booking, booking_dir)
    row = Row(buyers, runs, [], [], target_for(buyers))
    for i in range(runs):
        # Interleaved, alternating which goes first, so drift and ordering hit both sides alike.
        if i % 2 == 0:
            row.bare.append(run_bare(buyers, script, bare_dir))
            row.booking.append(run_booking(buyers, booking, booking_dir))
        else:
            row.booking.append(run_booking(buyers, booking, booking_dir))
            row.bare.append(run_bare(buyers, script, bare_dir))
        print(
            f"  {buyers} buyers, run {i + 1}/{runs}: bare {row.bare[-1]:.3f} s, booking {row.booking[-1]:.3f} s",
            file=sys.stderr,
            flush=True,
        )
    return row


def measure_durable(runs: int, booking: str, work: Path) -> tuple[list[float], list[float]]:
    """The cost of --durable (fsync of db.json and its directory on every write), 10 buyers, interleaved."""
    plain_dir, durable_dir = work / "plain", work / "durable"
    plain_dir.mkdir()
    durable_dir.mkdir()
    plain: list[float] = []
    durable: list[float] = []
    for i in range(runs):
        first, second = (plain, durable) if i % 2 == 0 else (durable, plain)
        for times in (first, second):
            if times is plain:
                plain.append(run_booking(10, booking, plain_dir))
            else:
                durable.append(run_booking(10, booking, durable_dir, "--durable"))
    return plain, durable


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def booking_version(booking: str) -> str:
    try:
        from importlib.metadata import version

        return version("booking")
    except Exception:
        return f"? ({booking})"


def load_average() -> tuple[float, str]:
    """The 1-minute load average (0 if unknown) and a display of the 1- and 5-minute ones."""
    try:
        one, five, _ = os.getloadavg()
    except (OSError, AttributeError):
        return 0.0, "unknown"
    return one, f"{one:.2f} (1 min), {five:.2f} (5 min)"


def print_report(rows: list[Row], booking: str, script: Path, load_before: str) -> None:
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) {sys.executable}\n"
        f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs: {cpu_model()}\n"
        f"booking {booking_version(booking)}: {booking}\n"
        f"bare:    {Path(sys.executable).name} {script.name} N   (fork, barrier after read, JSON RMW, Queue)\n"
        f"booking: booking simulate --buyers N --no-lock   (lockstep, fork)\n"
        "times: median wall time of the whole command, start-up included; runs interleaved\n"
        f"load average: before {load_before}; after {load_average()[1]}\n"
    )
    header = f"{'buyers':>7}  {'runs':>4}  {'bare s':>8}  {'booking s':>9}  {'ratio':>7}  {'target':>7}  result"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.buyers:>7}  {r.runs:>4}  {r.bare_median:>8.3f}  {r.booking_median:>9.3f}  "
            f"{r.ratio:>6.3f}x  {'<= ' + format(r.target, '.1f') + 'x':>7}  {'pass' if r.passed else 'FAIL'}"
        )
    print()
    for r in rows:
        print(
            f"{r.buyers} buyers  bare min/max {min(r.bare):.3f}/{max(r.bare):.3f} s, "
            f"booking min/max {min(r.booking):.3f}/{max(r.booking):.3f} s, "
            f"ratio of minimums {min(r.booking) / min(r.bare):.2f}x, "
            f"median of paired ratios {statistics.median(b / a for a, b in zip(r.bare, r.booking, strict=True)):.2f}x"
        )


def parse_buyers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of whole numbers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected buyer counts of at least 1, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--buyers", type=parse_buyers, default=[10, 1000], help="comma-separated buyer counts (default 10,1000)"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help=f"timed repetitions of each command (default {RUNS_SMALL}; {RUNS_LARGE} above {LARGE} buyers)",
    )
    parser.add_argument("--warmup", type=int, default=None, help="untimed runs of each command first (default 1)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_RUNS_SMALL} runs ({QUICK_RUNS_LARGE} above {LARGE} buyers), no warm-up, unless given",
    )
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    warmup = args.warmup if args.warmup is not None else (0 if args.quick else 1)
    if warmup < 0:
        parser.error("--warmup must not be negative")

    booking = find_booking()
    load, load_before = load_average()
    cpus = os.cpu_count() or 1
    if load > cpus:
        print(f"bench_json: warning: load average {load_before} on {cpus} CPUs; figures will be noisy", file=sys.stderr)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench_json.") as tmp:
        work = Path(tmp)
        script = work / "bare_buyers.py"
        script.write_text(BARE_SCRIPT, encoding="utf-8")
        try:
            for buyers in args.buyers:
                runs = args.runs if args.runs is not None else default_runs(buyers, args.quick)
                rows.append(measure(buyers, runs, warmup, booking, work, script))
            plain, durable = measure_durable(args.runs or RUNS_SMALL, booking, work)
        except (CommandFailed, subprocess.TimeoutExpired) as exc:
            print(f"bench_json: {exc}", file=sys.stderr)
            return 3
        print_report(rows, booking, script, load_before)
        p, d = statistics.median(plain), statistics.median(durable)
        print(
            f"\n--durable (fsync db.json and its directory on every write), 10 buyers: median {d:.3f} s "
            f"against {p:.3f} s without, {d / p:.2f}x ({(d - p) * 1000:+.1f} ms)"
        )
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
