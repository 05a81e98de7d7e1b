"""The steady-state window of a cost run: what a lock costs once every buyer is started and warm.

A cost run (`--duration S`) holds every buyer at the start barrier until all have started, imported,
opened the store and run their setup; the window opens at the release, so process start-up is never
counted as purchases per second (pgbench's "excluding connection establishment"). It ends S seconds
later, or earlier when any buyer sees the stock sold out (the crowd thins out from there: no longer
a steady state). The window is cut into equal batches, and each batch's rate is one sample: the
batch-means method gives an interval from one warm crowd.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field

from booking.history import Outcome
from booking.run.result import RunResult
from booking.stats import jain


@dataclass
class Steady:
    """One cost run's window and what happened inside it. Times are seconds since the run started."""

    start: float  # the release of the start barrier
    end: float
    last_ready: float | None  # when the parent heard the last buyer say it was ready
    first_attempt: float | None  # the earliest attempt's start
    rates: list[float] = field(default_factory=list)  # receipts/s in each batch
    purchases: int = 0  # receipts inside the window
    # Latencies are arrays of doubles, not lists of floats: a comparison keeps every window's for its whole
    # length (thousands a run), and a smaller parent forks its buyers faster.
    latencies: array[float] = field(default_factory=lambda: array("d"))  # seconds, each purchase inside the window
    lock_wait_share: float | None = None
    fairness: float | None = None
    real: float = 1.0  # the store's own count of tickets gone over the receipts: below 1 when tickets were oversold
    sold_out: bool = False  # the window ended early because the stock ran out

    first_latencies: array[float] = field(default_factory=lambda: array("d"))  # seconds, each buyer's first attempt
    later_latencies: array[float] = field(default_factory=lambda: array("d"))  # seconds, every other attempt

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def rate(self) -> float:
        """Receipts per second over the whole window: this repetition's one figure."""
        return self.purchases / self.seconds if self.seconds > 0 else 0.0

    @property
    def after_ready(self) -> bool:
        """The window opened after the last buyer was ready, and no attempt started before it."""
        ready_ok = self.last_ready is None or self.start >= self.last_ready
        return ready_ok and (self.first_attempt is None or self.first_attempt >= self.start)


def steady(result: RunResult, batches: int) -> Steady | None:
    """The window of a `--duration` run, cut into `batches`; None when the run has no start barrier or no time."""
    history, duration = result.history, result.config.duration_s
    start = history.started
    if start is None or duration is None or not history.attempts:
        return None
    attempts = history.attempts
    refused = [a.t_start for a in attempts if a.outcome is Outcome.SOLD_OUT]
    end = min(start + duration, max(a.t_end for a in attempts), *refused)
    out = Steady(start, end, history.last_ready, min(a.t_start for a in attempts), sold_out=bool(refused))
    if end <= start:
        return out
    v = result.verdict
    sold = v.sold
    if v.remaining is not None and sold > 0:
        out.real = min(1.0, (v.initial - v.remaining) / sold)
    inside = [a for a in attempts if start <= a.t_end <= end]
    receipts = [a for a in inside if a.outcome is Outcome.OK]
    out.purchases = len(receipts)
    width = (end - start) / batches
    per_batch = Counter(min(int((a.t_end - start) / width), batches - 1) for a in receipts)
    out.rates = [per_batch.get(i, 0) / width for i in range(batches)]
    out.latencies = array("d", (a.t_end - a.t_start for a in receipts))
    busy = sum(a.t_end - a.t_start for a in inside)
    out.lock_wait_share = sum(a.lock_wait_s for a in inside) / busy if busy > 0 else None
    firsts = {a.buyer: a for a in sorted(inside, key=lambda a: a.t_start, reverse=True)}  # the earliest wins
    out.first_latencies = array("d", (a.t_end - a.t_start for a in firsts.values()))
    chosen = {id(a) for a in firsts.values()}
    out.later_latencies = array("d", (a.t_end - a.t_start for a in inside if id(a) not in chosen))
    per_buyer = Counter(a.buyer for a in receipts)
    out.fairness = jain([per_buyer.get(b, 0) for b in range(1, result.config.buyers + 1)])
    return out
