"""What a run is: frozen, plain data that can cross a process boundary."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from booking.errors import BadInput

# Absurd sizes are refused with the limit named, not attempted (each buyer is an OS process).
MAX_BUYERS = 2000
MAX_TICKETS = 10_000_000
MAX_ATTEMPTS = 1_000_000
MAX_THINK_MS = 60_000
MAX_DEADLINE_S = 24 * 3600
MAX_SELLERS = 64


class Schedule(enum.StrEnum):
    """How buyers are timed against each other."""

    LOCKSTEP = "lockstep"  # every buyer reaches the race window at the same instant
    FREE = "free"  # natural timing, for throughput
    RANDOM = "random"  # one buyer at a time, point to point, in a seeded random (PCT-style) order


class Isolation(enum.StrEnum):
    """Transaction isolation for SQL stores (--isolation); unset means the database's default."""

    READ_COMMITTED = "read-committed"
    REPEATABLE_READ = "repeatable-read"
    SERIALIZABLE = "serializable"


@dataclass(frozen=True)
class RunConfig:
    """One simulation: which store, which strategy, how many buyers and how they are timed."""

    store: str = "db.json"
    strategy: str | None = None  # None: the store's default (mp-lock for db.json, file-lock for SQLite, ...)
    buyers: int = 10
    tickets: int = 1
    attempts: int = 1
    until_sold_out: bool = False
    schedule: Schedule = Schedule.LOCKSTEP
    think_ms: float = 0.0
    keep: bool = False
    history: Path | None = None
    deadline_s: float = 60.0
    purchase: str | None = None  # module:function, your own purchase code in place of a strategy
    receipts_only: bool = False  # with purchase: the function keeps its own tables; judge its receipts
    seed: int | None = None  # --schedule random: the seed of the order of points (None: pick one)
    sellers: int = 1  # --lock queue: seller processes consuming the request queue
    seller_lock: str | None = None  # --lock queue: the strategy sellers protect their writes with
    isolation: Isolation | None = None  # SQL stores only
    kill_buyer: int | None = None  # fault injection: SIGKILL this buyer ...
    kill_at: str | None = None  # ... at this point (after-read, in-critical, before-commit, mid-write)
    chaos: float = 0.0  # fault injection: each buyer is killed at a random point with this probability
    durable: bool = False  # db.json: fsync the file and its directory on every write

    def validate(self) -> None:
        """Raise BadInput naming the first option out of range."""
        _check_range("--buyers", self.buyers, 1, MAX_BUYERS)
        _check_range("--tickets", self.tickets, 0, MAX_TICKETS)
        _check_range("--attempts", self.attempts, 1, MAX_ATTEMPTS)
        _check_range("--think", self.think_ms, 0, MAX_THINK_MS)
        _check_range("--deadline", self.deadline_s, 0.1, MAX_DEADLINE_S)
        _check_range("--sellers", self.sellers, 1, MAX_SELLERS)
        _check_range("--chaos", self.chaos, 0, 1)
        if self.kill_buyer is not None:
            _check_range("--kill-buyer", self.kill_buyer, 1, self.buyers)
        if self.kill_at is not None:
            from booking.faults import KILL_POINTS

            if self.kill_at not in KILL_POINTS:
                raise BadInput(f"--kill-at: unknown point {self.kill_at!r} (choose from: {', '.join(KILL_POINTS)})")
            if self.kill_buyer is None:
                raise BadInput("--kill-at needs --kill-buyer K (or use --chaos P)")


def _check_range(option: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{option} must be a number, got {value!r}")
    if value != value:  # NaN compares false both ways
        raise BadInput(f"{option} must be a number, got nan")
    if value < low:
        raise BadInput(f"{option} must be at least {_num(low)}, got {_num(value)}")
    if value > high:
        raise BadInput(f"{option} must be at most {_num(high)} (the limit of this lab), got {_num(value)}")


def _num(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15) else f"{value:g}"
