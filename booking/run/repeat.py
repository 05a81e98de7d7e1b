"""A run repeated: `--runs N` and `race(..., runs=N)`. How likely is a failure, and which run showed it?

Runs go on until one fails (an anomaly, or a run that could not be carried out); that run is kept
whole, with the seed that gives it again. The probability of an anomaly comes with its 95% Wilson
interval: 0 anomalies in 20 runs is not "never", it is "below 16%, with 95% confidence".
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from booking.i18n.lang import _
from booking.options.config import RunConfig, Schedule
from booking.processes import signals
from booking.processes.schedule import next_prefix
from booking.run.result import INCONCLUSIVE, RunResult
from booking.run.search import searching
from booking.run.simulate import simulate
from booking.stats import wilson

EXHAUSTIVE_LIMIT = 2000  # --schedule exhaustive without --runs: try at most this many orders


@dataclass
class Runs:
    """Every run made, up to and including the first that failed."""

    config: RunConfig
    results: list[RunResult]
    exhaustive: bool = False  # --schedule exhaustive: each run a different order of the buyers' points
    complete: bool = False  # ... and every order was tried
    elapsed_s: float = 0.0  # wall time of all the runs, start-up included
    warm: bool = False  # the runs shared their buyers, started once (booking/run/search.py)

    @property
    def per_second(self) -> float | None:
        """Runs (schedules) made per second of wall time, start-up included (None: not timed)."""
        return len(self.results) / self.elapsed_s if self.elapsed_s > 0 else None

    @property
    def searched(self) -> bool:
        """Each run was a schedule the search chose (exhaustive, or random with its seed): its rate is said."""
        return self.exhaustive or self.config.schedule is Schedule.RANDOM

    def __iter__(self) -> Iterator[RunResult]:
        """Every run made, in order (for run in outcome.runs)."""
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> RunResult | None:
        return next((r for r in self.results if r.exit_code in (1, 3)), None)

    @property
    def anomaly_runs(self) -> int:
        return sum(bool(r.verdict.anomalies) for r in self.results)

    @property
    def inconclusive_runs(self) -> int:
        return sum(r.exit_code == INCONCLUSIVE for r in self.results)

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of P(anomaly) over the runs made."""
        return wilson(self.anomaly_runs, len(self.results))

    @property
    def exit_code(self) -> int:
        if self.failed is not None:
            return self.failed.exit_code
        return INCONCLUSIVE if self.inconclusive_runs == len(self.results) else 0

    def to_json(self) -> dict[str, Any]:
        low, high = self.interval
        failed = self.failed
        return {
            "runs": self.config.runs,
            "tried": len(self.results),
            "anomaly_runs": self.anomaly_runs,
            "inconclusive_runs": self.inconclusive_runs,
            "p_anomaly": self.anomaly_runs / len(self.results),
            "p_anomaly_ci95": [low, high],
            "first_failure": None if failed is None else failed.to_json(),
            "seed": None if failed is None else failed.seed,
            **({"schedules_tried": len(self.results), "every_order": self.complete} if self.exhaustive else {}),
            **({"schedules_per_s": self.per_second, "warm_buyers": self.warm} if self.searched else {}),
            "ok": self.exit_code == 0,
        }


def simulate_runs(config: RunConfig, on_run: Callable[[RunResult], None] | None = None) -> Runs:
    """Run `config` up to `config.runs` times, each with its own seed (or, with --schedule exhaustive, each
    with the next order of buyers, depth first, until every order was tried); stop at the first failure."""
    base = config.seed if config.seed is not None else random.randrange(1_000_000)
    exhaustive = config.schedule is Schedule.EXHAUSTIVE
    limit = config.runs if config.runs > 1 or not exhaustive else EXHAUSTIVE_LIMIT
    runs = Runs(config, [], exhaustive=exhaustive)
    prefix: str | None = config.replay
    began = time.monotonic()
    with searching(config) as search, signals.deferred() if search is not None else contextlib.nullcontext():
        for n in range(limit):
            # A search's parent works between schedules (resets the store, keeps the buyers): a signal
            # then is recorded, not raised inside that work, and ends the search here, in one line.
            if search is not None and (signum := signals.pending()) is not None:
                said = _("{signal}; between two schedules of a search ({n} tried)")
                raise signals.interrupted(signum, said.format(signal=signals.interrupted(signum), n=n))
            result = simulate(replace(config, seed=base + n, runs=1, replay=prefix), search=search)
            result.seed = base + n
            runs.results.append(result)
            runs.elapsed_s = time.monotonic() - began
            if on_run is not None:
                on_run(result)
            if result.exit_code in (1, 3):
                break
            if exhaustive:
                following = next_prefix(result.decisions or [])
                if following is None:
                    runs.complete = True
                    break
                prefix = ",".join(map(str, following))
    runs.warm = search is not None
    return runs
