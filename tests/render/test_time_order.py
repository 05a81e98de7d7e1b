"""The live lines come in the order of their times, under every strategy, on db.json and on SQLite.

Buyers and sellers stamp each line under the channel's order lock as they send it, and the parent
holds its own lines (a barrier opening, a buyer ended) until nothing stamped earlier can still come:
no printed line's time is earlier than the line above it. One run per strategy and store by default;
the sweep (10 runs each) is marked slow.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from booking.stores.base import StoreKind
from booking.strategies import STRATEGIES

EVENT = re.compile(r"^ +(\d+\.\d) ms  ")  # an event line (a wrapped line's continuation is indented, with no time)

CASES = [
    (kind, name, extra)
    for kind in ("db.json", "sqlite")
    for name, info in STRATEGIES.items()
    if (StoreKind.COUNTER if kind == "db.json" else StoreKind.SQLITE) in info.stores
    and name != "seckill"  # needs a broker and a Redis cache: tests/strategies/test_seckill.py
    for extra in ([(), ("--sellers", "3")] if name == "queue" else [()])
]
IDS = [f"{kind}-{name}{'-3-sellers' if extra else ''}" for kind, name, extra in CASES]


def times(command: Any, tmp_path: Path, kind: str, name: str, extra: tuple[str, ...], run: int) -> list[float]:
    """The event times of one run's live lines, as the command prints them into a pipe (in this process:
    the `command` fixture reads its file descriptors, the buyers' lines included)."""
    store = tmp_path / (f"db{run}.json" if kind == "db.json" else f"t{run}.db")
    ran = command("simulate", "--buyers", 10, "--lock", name, "--store", store, *extra)
    assert ran.code in (0, 1), ran.out + ran.err
    found = [float(m.group(1)) for line in ran.out.splitlines() if (m := EVENT.match(line))]
    assert len(found) >= 12, ran.out  # the start barrier, a look per buyer, the sale: the lines are there
    return found


def in_order(found: list[float]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(found))


@pytest.mark.parametrize(("kind", "name", "extra"), CASES, ids=IDS)
def test_lines_are_printed_in_time_order(
    command: Any, tmp_path: Path, kind: str, name: str, extra: tuple[str, ...]
) -> None:
    found = times(command, tmp_path, kind, name, extra, 0)
    assert in_order(found), found


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "name", "extra"), CASES, ids=IDS)
def test_lines_are_printed_in_time_order_run_after_run(
    command: Any, tmp_path: Path, kind: str, name: str, extra: tuple[str, ...]
) -> None:
    for run in range(10):
        found = times(command, tmp_path, kind, name, extra, run)
        assert in_order(found), (run, found)
