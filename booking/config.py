"""What a run is: the one definition of its options, frozen plain data that can cross a process boundary.

`RunConfig` is the source the others are derived from: `booking simulate`'s options are built from
its fields (flag, help and metavar live in each field's metadata), the `race` fixture passes its
keyword arguments straight to it, and every buyer gets it whole in its plan.
"""

from __future__ import annotations

import enum
import multiprocessing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from booking.errors import BadInput
from booking.points import IN_CRITICAL, KILL_POINTS

# Absurd sizes are refused with the limit named, not attempted (each buyer is an OS process).
MAX_BUYERS = 2000
MAX_TICKETS = 10_000_000
MAX_ATTEMPTS = 1_000_000
MAX_THINK_MS = 60_000
MAX_DEADLINE_S = 24 * 3600
MAX_SELLERS = 64

STORE_HELP = (
    "The store: a db.json path (as in the notes), a SQLite file (t.db or sqlite:///t.db) or a database URL "
    "(postgresql+psycopg://user:pw@host/db, mysql+pymysql://user:pw@host/db)."
)
LOCK_HELP = (
    "Strategy (`booking strategies` lists them); default: mp-lock for db.json, file-lock for SQLite, "
    "atomic for PostgreSQL and MariaDB."
)


class Schedule(enum.StrEnum):
    """How buyers are timed against each other."""

    LOCKSTEP = "lockstep"  # every buyer reaches the race window at the same instant
    FREE = "free"  # natural timing, for throughput
    RANDOM = "random"  # one buyer at a time, point to point, in a seeded random (PCT-style) order


class StartMethod(enum.StrEnum):
    """How buyer processes are started (multiprocessing's start methods)."""

    FORK = "fork"
    FORKSERVER = "forkserver"
    SPAWN = "spawn"


class Isolation(enum.StrEnum):
    """Transaction isolation for SQL stores (--isolation); unset means the database's default."""

    READ_COMMITTED = "read-committed"
    REPEATABLE_READ = "repeatable-read"
    SERIALIZABLE = "serializable"


def option(help: str, flag: str | None = None, metavar: str | None = None, show_default: bool = True) -> Any:
    """A RunConfig field's command-line face: `booking simulate` builds its options from these."""
    return {"help": help, "flag": flag, "metavar": metavar, "show_default": show_default}


@dataclass(frozen=True)
class RunConfig:
    """One simulation: which store, which strategy, how many buyers and how they are timed."""

    buyers: int = field(default=10, metadata=option("Buyer processes (each its own OS process)."))
    tickets: int = field(default=1, metadata=option("Stock to seed the store with before the run."))
    store: str = field(default="db.json", metadata=option(STORE_HELP))
    # None: the store's default (mp-lock for db.json, file-lock for SQLite, atomic on a server)
    strategy: str | None = field(
        default=None, metadata=option(LOCK_HELP, flag="--lock", metavar="STRATEGY", show_default=False)
    )
    attempts: int = field(default=1, metadata=option("Tickets each buyer wants."))
    until_sold_out: bool = field(
        default=False, metadata=option("Every buyer keeps buying until it sees none left.", flag="--until-sold-out")
    )
    schedule: Schedule = field(
        default=Schedule.LOCKSTEP,
        metadata=option(
            "lockstep: all buyers reach the race window at once; free: natural timing; random: one buyer "
            "at a time, point to point, in a seeded random order (see --seed)."
        ),
    )
    seed: int | None = field(
        default=None, metadata=option("The seed of --schedule random's order of points and of --chaos.")
    )
    kill_buyer: int | None = field(
        default=None, metadata=option("Fault injection: SIGKILL buyer K at --kill-at.", metavar="K")
    )
    kill_seller: int | None = field(
        default=None,
        metadata=option("Fault injection, --lock queue: SIGKILL seller S at --kill-at in its first sale.", metavar="S"),
    )
    kill_at: str | None = field(
        default=None,
        metadata=option(
            "Where: after-read, in-critical (default), before-commit or mid-write.", metavar="POINT", show_default=False
        ),
    )
    chaos: float = field(
        default=0.0,
        metadata=option("Fault injection: kill each buyer at a random point with probability P.", metavar="P"),
    )
    durable: bool = field(
        default=False, metadata=option("db.json: fsync the file and its directory on every write.", flag="--durable")
    )
    think_ms: float = field(
        default=0.0, metadata=option("Milliseconds to sleep inside the race window.", flag="--think", metavar="MS")
    )
    keep: bool = field(
        default=False, metadata=option("Continue from the store's stock instead of seeding it.", flag="--keep")
    )
    history: Path | None = field(
        default=None, metadata=option("Also write every attempt as JSON lines to FILE.", metavar="FILE")
    )
    deadline_s: float = field(
        default=60.0,
        metadata=option("Seconds before unfinished buyers are stopped and reported stuck.", flag="--deadline"),
    )
    sellers: int = field(default=1, metadata=option("--lock queue: seller processes consuming the requests."))
    seller_lock: str | None = field(
        default=None,
        metadata=option(
            "--lock queue: the strategy sellers protect their writes with (default none: unprotected).",
            metavar="STRATEGY",
            show_default=False,
        ),
    )
    purchase: str | None = field(
        default=None,
        metadata=option(
            "Your own purchase function, module:function, called in each buyer as function(store, buyer, point) "
            "instead of a strategy.",
            metavar="MODULE:FUNCTION",
            show_default=False,
        ),
    )
    receipts_only: bool = field(
        default=False,
        metadata=option(
            "With --purchase: your function keeps its own tables; judge its receipts only.", flag="--receipts-only"
        ),
    )
    start_method: StartMethod | None = field(
        default=None,
        metadata=option(
            "How buyer processes start: fork (fast; the default for booking's strategies where it exists), "
            "spawn (a fresh interpreter and a fresh import per buyer: the default for --purchase, so a "
            "module-level engine is never shared) or forkserver.",
            show_default=False,
        ),
    )
    isolation: Isolation | None = field(
        default=None,
        metadata=option("SQL stores: the transactions' isolation level (default: the database's).", show_default=False),
    )

    def __post_init__(self) -> None:
        # Plain strings are welcome from Python callers (race(schedule="random")): make them the enums.
        if isinstance(self.schedule, str) and not isinstance(self.schedule, Schedule):
            object.__setattr__(self, "schedule", _enum(Schedule, self.schedule, "--schedule"))
        if isinstance(self.isolation, str) and not isinstance(self.isolation, Isolation):
            object.__setattr__(self, "isolation", _enum(Isolation, self.isolation, "--isolation"))
        if isinstance(self.start_method, str) and not isinstance(self.start_method, StartMethod):
            object.__setattr__(self, "start_method", _enum(StartMethod, self.start_method, "--start-method"))

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
        if self.kill_seller is not None:
            _check_range("--kill-seller", self.kill_seller, 1, self.sellers)
        if self.kill_buyer is not None and self.kill_seller is not None:
            raise BadInput("--kill-buyer and --kill-seller: choose one process to kill")
        if self.kill_at is not None:
            if self.kill_at not in KILL_POINTS:
                raise BadInput(f"--kill-at: unknown point {self.kill_at!r} (choose from: {', '.join(KILL_POINTS)})")
            if self.kill_buyer is None and self.kill_seller is None:
                raise BadInput("--kill-at needs --kill-buyer K (or use --chaos P)")

    @property
    def processes(self) -> str:
        """The start method buyers use: as asked; else a fresh interpreter for your own code (spawn), and
        fork for booking's strategies where the platform has it."""
        if self.start_method is not None:
            return self.start_method.value
        if self.purchase is not None or "fork" not in multiprocessing.get_all_start_methods():
            return StartMethod.SPAWN.value
        return StartMethod.FORK.value

    @property
    def kill_point(self) -> str:
        """Where an injected kill lands (--kill-at, in-critical by default)."""
        return self.kill_at or IN_CRITICAL


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


E = TypeVar("E", Schedule, Isolation, StartMethod)


def _enum(kind: type[E], value: str, option: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise BadInput(f"{option}: unknown value {value!r} (choose from: {', '.join(k.value for k in kind)})") from None
