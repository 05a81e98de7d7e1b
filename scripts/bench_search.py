#!/usr/bin/env python3
"""How fast a search goes: schedules per second with warm buyers, against a fresh crowd per schedule.

- the issue's command: `--schedule exhaustive` on `optimistic:lying_buy`, 4 buyers, 4 tickets, a new
  SQLite store: the wall time to the anomaly and the schedules tried (through the CLI, as a user runs it);
- a fixed number of exhaustive schedules of the same purchase (`--runs N`), once with warm buyers
  (`simulate_runs`, the search) and once with a fresh crowd per schedule (`simulate` called per
  schedule with the next order, as the search did before): schedules per second of each, and the ratio.

Both sides walk the same orders from the same start; they alternate which goes first each round. The
load average is printed with every figure (the machine is shared).

    python scripts/bench_search.py [--rounds 3] [--schedules 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from booking import RunConfig, Schedule, simulate, simulate_runs
from booking.processes.schedule import next_prefix

LYING = "booking.examples.optimistic:lying_buy"


def _load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def issue_command(directory: Path) -> None:
    store = directory / "issue.db"
    args = ["simulate", "--purchase", LYING, "--buyers", "4", "--tickets", "4", "--schedule", "exhaustive"]
    began = time.monotonic()
    ran = subprocess.run(
        [sys.executable, "-m", "booking", *args, "--store", str(store), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.monotonic() - began
    out = json.loads(ran.stdout)
    print(
        f"issue command: exit {ran.returncode}, {out['schedules_tried']} schedule(s), "
        f"{took:.2f} s wall, {out['schedules_per_s']:.1f} schedules/s ({_load()})"
    )


def warm(config: RunConfig, schedules: int) -> float:
    began = time.monotonic()
    runs = simulate_runs(replace(config, runs=schedules))
    assert runs.warm and len(runs) == schedules, (runs.warm, len(runs))
    return schedules / (time.monotonic() - began)


def fresh(config: RunConfig, schedules: int) -> float:
    """The search as it was: a fresh crowd (start-up, claim, your code checked) for every schedule."""
    began, prefix = time.monotonic(), None
    for _ in range(schedules):
        result = simulate(replace(config, runs=1, replay=prefix))
        following = next_prefix(result.decisions or [])
        assert following is not None
        prefix = ",".join(map(str, following))
    return schedules / (time.monotonic() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--schedules", type=int, default=40)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        issue_command(directory)
        ratios = []
        for r in range(a.rounds):
            # the safe twin: every schedule runs to its end, none stops the search early
            config = RunConfig(store=str(directory / f"r{r}.db"), purchase=LYING.replace("lying", "honest"),
                               buyers=4, tickets=4, schedule=Schedule.EXHAUSTIVE)  # fmt: skip
            sides = [("warm", warm), ("fresh", fresh)]
            rates = dict((name, side(config, a.schedules)) for name, side in (sides if r % 2 == 0 else sides[::-1]))
            ratios.append(rates["warm"] / rates["fresh"])
            print(
                f"round {r + 1}: {a.schedules} schedules, warm {rates['warm']:.1f}/s, fresh {rates['fresh']:.1f}/s, "
                f"{ratios[-1]:.1f}x ({_load()})"
            )
        print(f"median ratio warm/fresh: {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
