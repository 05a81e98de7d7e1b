"""The values a run's options take: the lab's limits (a value outside one is refused in one line, exit 2),
the enumerations (schedule, isolation, start method), and an option's command-line face."""

from __future__ import annotations

import enum
import multiprocessing
import os
from typing import Any, TypeVar

from booking.errors import BadInput
from booking.i18n.lang import _

# Absurd sizes are refused with the limit named, not attempted (each buyer is an OS process).
MAX_BUYERS = 2000
MAX_TICKETS = 10_000_000
MAX_ATTEMPTS = 1_000_000
MAX_THINK_MS = 60_000
MAX_DEADLINE_S = 24 * 3600
MAX_SELLERS = 64
MAX_RUNS = 100_000
MAX_DEPTH = 10
MAX_EXHAUSTIVE_BUYERS = 4
MAX_HOSTS = 64


class Schedule(enum.StrEnum):
    """How buyers are timed against each other."""

    LOCKSTEP = "lockstep"  # every buyer reaches the race window at the same instant
    FREE = "free"  # natural timing, for throughput
    RANDOM = "random"  # one buyer at a time, point to point, in a seeded random (PCT-style) order
    EXHAUSTIVE = "exhaustive"  # one buyer at a time, every order in turn (2 to 4 buyers)

    @property
    def one_at_a_time(self) -> bool:
        """Buyers go one at a time, point to point, in an order the schedule chooses."""
        return self in (Schedule.RANDOM, Schedule.EXHAUSTIVE)


class StartMethod(enum.StrEnum):
    """How buyer processes are started (multiprocessing's start methods)."""

    FORK = "fork"
    FORKSERVER = "forkserver"
    SPAWN = "spawn"


START_METHOD_ENV = "BOOKING_START_METHOD"  # the default start method when --start-method is not given (CI: spawn)


def default_start_method(own_code: bool) -> str:
    """The start method when none is asked for: $BOOKING_START_METHOD if set; else a fresh interpreter
    for your own code (spawn), and fork for booking's strategies where the platform has it."""
    chosen = os.environ.get(START_METHOD_ENV, "").strip()
    if chosen:
        method = to_enum(StartMethod, chosen, START_METHOD_ENV).value
        if method not in multiprocessing.get_all_start_methods():
            raise BadInput(
                _("{START_METHOD_ENV}={method}: this platform has no {method} start method").format(
                    START_METHOD_ENV=START_METHOD_ENV, method=method
                )
            )
        return method
    if own_code or "fork" not in multiprocessing.get_all_start_methods():
        return StartMethod.SPAWN.value
    return StartMethod.FORK.value


class Isolation(enum.StrEnum):
    """Transaction isolation for SQL stores (--isolation); unset means the database's default."""

    READ_COMMITTED = "read-committed"
    REPEATABLE_READ = "repeatable-read"
    SERIALIZABLE = "serializable"


DURATION_HELP = (
    "A steady-state cost run (pgbench -T): after the start barrier every buyer keeps buying for S seconds, "
    "or until the stock (--tickets: make it large) runs out."
)


def check_times(deadline_s: float, duration_s: float | None) -> None:
    """--deadline, and --duration: a positive time shorter than the deadline."""
    check_range("--deadline", deadline_s, 0.1, MAX_DEADLINE_S)
    if duration_s is None:
        return
    check_range("--duration", duration_s, 0.01, MAX_DEADLINE_S)
    if duration_s >= deadline_s:
        raise BadInput(
            _("--duration {duration_s:g} must be shorter than --deadline {deadline_s:g}").format(
                duration_s=duration_s, deadline_s=deadline_s
            )
        )


def check_range(option: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(_("{option} must be a number, got {value!r}").format(option=option, value=value))
    if value != value:  # NaN compares false both ways
        raise BadInput(_("{option} must be a number, got nan").format(option=option))
    if value < low:
        raise BadInput(
            _("{option} must be at least {least}, got {value}").format(
                option=option, least=_num(low), value=_num(value)
            )
        )
    if value > high:
        raise BadInput(
            _("{option} must be at most {most} (the limit of this lab), got {value}").format(
                option=option, most=_num(high), value=_num(value)
            )
        )


def _num(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15) else f"{value:g}"


STORE_HELP = (
    "The store: a db.json path (as in the notes), a SQLite file (t.db or sqlite:///t.db) or a database URL "
    "(postgresql://user:pw@host/db, mysql://user:pw@host/db)."
)
LOCK_HELP = (
    "Strategy (`booking strategies` lists them); default: mp-lock for db.json, file-lock for SQLite, "
    "atomic for PostgreSQL and MariaDB."
)


def option(
    help: str, flag: str | None = None, metavar: str | None = None, show_default: bool = True, cli: Any = None
) -> Any:
    """A RunConfig field's command-line face: `booking simulate` builds its options from these.
    `cli`: the type on the command line when the field takes more from Python (a function, or its name)."""
    return {"help": help, "flag": flag, "metavar": metavar, "show_default": show_default, "cli": cli}


E = TypeVar("E", bound=enum.Enum)


def to_enum(kind: type[E], value: str, option: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise BadInput(
            _("{option}: unknown value {value!r} (choose from: {value2})").format(
                option=option, value=value, value2=", ".join(k.value for k in kind)
            )
        ) from None


AUTO_POINTS_HELP = (
    "With --purchase: hold your SQLAlchemy engines' statements as points too (their before_cursor_execute "
    "event), as booking.connect's connections always are."
)
INIT_STORE_HELP = (
    "A SQL database that holds other applications' tables: add booking's tables beside them (refused otherwise)."
)
BROKER_HELP = (
    "--lock queue: send the requests through this RabbitMQ broker (amqp://user:pw@host:5672/vhost"
    "?queue=NAME) to sellers here or in `booking seller` anywhere; --sellers 0 starts none here."
)
COMPARE_BROKER_HELP = "With --cache: seckill joins the SQL stores' rows, its orders through this RabbitMQ broker."
COMPARE_CACHE_HELP = "With --broker: seckill joins the SQL stores' rows, its stock pre-deducted in this Redis database."
HTTP2_HELP = (
    "With --target: send the buys over HTTP/2 (h2c with prior knowledge, or h2 by ALPN over https), all on one "
    'connection as one single-packet batch; the target config\'s http = "2" says the same.'
)
NO_WAIT_HELP = "With --run: judge this host's part now, not the whole run."
CACHE_HELP = (
    "--lock seckill: the Redis database (redis://host:6379/N, booking's own) the stock is pre-deducted in "
    "before each order goes through --broker to a seller that writes it in --store."
)
IDEMPOTENT_HELP = (
    "--lock queue --broker: sellers record each request id with its sale and answer a redelivered "
    "request from the record instead of selling it again."
)


def file_url(path: str) -> str | None:
    """The `url` a --target-config file names (None: it names none, or cannot be read: checked later, in one line)."""
    import tomllib

    try:
        with open(path, "rb") as f:
            url = tomllib.load(f).get("url")
    except (OSError, ValueError):
        return None
    return url if isinstance(url, str) else None


TARGET_CONFIG_HELP = (
    "With --target (or the file's url): the endpoint as it is published, from a TOML file: its request (method, "
    "path and body templates, headers, a login step) and how its answers are read (docs/endpoints.md)."
)
BUYERS_FROM_HELP = (
    "With --target-config: a CSV file with a header line, one row of template values per buyer (user ids, tokens, "
    "cookies)."
)
