"""What a run is: the one definition of its options, frozen plain data that can cross a process boundary.

`RunConfig` is the source the others are derived from: `booking simulate`'s options are built from
its fields (flag, help and metavar live in each field's metadata), the `race` fixture passes its
keyword arguments straight to it, and every buyer gets it whole in its plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from booking.kit.points import IN_CRITICAL
from booking.options import choices
from booking.options.choices import (
    LOCK_HELP,
    STORE_HELP,
    Isolation,
    Schedule,
    StartMethod,
    option,
    to_enum,
)
from booking.options.store_url import StoreURL, url_secrets
from booking.types import Hook

__all__ = ["LOCK_HELP", "STORE_HELP", "Hook", "Isolation", "RunConfig", "Schedule", "StartMethod", "option"]


@dataclass(frozen=True)
class RunConfig:
    """One simulation: which store, which strategy, how many buyers and how they are timed."""

    buyers: int = field(default=10, metadata=option("Buyer processes (each its own OS process)."))
    tickets: int = field(default=1, metadata=option("Stock to seed the store with before the run."))
    # Given as text or a StoreURL, parsed once here (store_url reads the result). "" with --target: the
    # service's store is not read (receipts alone are judged); else db.json.
    store: StoreURL | str | None = field(
        default="",
        metadata=option(STORE_HELP + " [default: db.json; none with --target]", show_default=False, cli=str),
    )
    # None: the store's default (mp-lock for db.json, file-lock for SQLite, atomic on a server)
    strategy: str | None = field(
        default=None, metadata=option(LOCK_HELP, flag="--lock", metavar="STRATEGY", show_default=False)
    )
    attempts: int = field(default=1, metadata=option("Tickets each buyer wants."))
    until_sold_out: bool = field(
        default=False, metadata=option("Every buyer keeps buying until it sees none left.", flag="--until-sold-out")
    )
    duration_s: float | None = field(default=None, metadata=option(choices.DURATION_HELP, "--duration", "S"))
    schedule: Schedule = field(
        default=Schedule.LOCKSTEP,
        metadata=option(
            "lockstep: all buyers reach the race window at once; free: natural timing; random: one buyer "
            "at a time, point to point, in a seeded random order (see --seed, --depth); exhaustive: every such "
            "order in turn, for 2 to 4 buyers (see --runs, --replay)."
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
            "Where: after-read, in-critical (default), before-commit, mid-write, after-sale.",
            metavar="POINT",
            show_default=False,
        ),
    )
    pause_buyer: int | None = field(
        default=None,
        metadata=option("Fault injection: stop buyer K (SIGSTOP) at --pause-at, for --pause-ms.", metavar="K"),
    )
    pause_at: str | None = field(
        default=None,
        metadata=option("Where: as --kill-at (in-critical by default).", metavar="POINT", show_default=False),
    )
    pause_ms: float = field(default=1000.0, metadata=option("How long the paused buyer stays stopped.", metavar="MS"))
    lock_ttl_ms: float | None = field(
        default=None,
        metadata=option(
            "redis-lock, fenced: the lease's time to live [default: 10000].", flag="--lock-ttl", metavar="MS"
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
    broker: str | None = field(default=None, metadata=option(choices.BROKER_HELP, metavar="URL", show_default=False))
    idempotent: bool = field(default=False, metadata=option(choices.IDEMPOTENT_HELP, flag="--idempotent"))
    cache: str | None = field(default=None, metadata=option(choices.CACHE_HELP, metavar="URL", show_default=False))
    purchase: Hook | None = field(
        default=None,
        metadata=option(
            "Your own purchase function, module:function, called in each buyer as function(store, buyer, point) "
            "instead of a strategy; it returns a ticket id, None (sold out) or booking.DECLINED.",
            metavar="MODULE:FUNCTION",
            show_default=False,
            cli=str | None,
        ),
    )
    prepare: Hook | None = field(
        default=None,
        metadata=option(
            "With --purchase: prepare(store), called once in each buyer before the start barrier (connect, warm "
            "up); its cost never counts as the race.",
            metavar="MODULE:FUNCTION",
            show_default=False,
            cli=str | None,
        ),
    )
    setup: Hook | None = field(
        default=None,
        metadata=option(
            "With --purchase or --target: setup(store, tickets) seeds your own tables before the run (your tables, not "
            "booking's: implies --receipts-only).",
            metavar="MODULE:FUNCTION",
            show_default=False,
            cli=str | None,
        ),
    )
    stock: Hook | None = field(
        default=None,
        metadata=option(
            "With --purchase or --target: stock(store) -> int counts the tickets left in your own tables after the "
            "run, so remaining and lost_updates are measured (implies --receipts-only).",
            metavar="MODULE:FUNCTION",
            show_default=False,
            cli=str | None,
        ),
    )
    auto_points: bool = field(default=False, metadata=option(choices.AUTO_POINTS_HELP, flag="--auto-points"))
    receipts_only: bool = field(
        default=False,
        metadata=option(
            "With --purchase: your function keeps its own tables; judge its receipts only.", flag="--receipts-only"
        ),
    )
    init_store: bool = field(
        default=False, metadata=option(choices.INIT_STORE_HELP, flag="--init-store", show_default=False)
    )
    runs: int = field(
        default=1,
        metadata=option("Run it N times; stop at the first run that fails, and say how likely a failure is."),
    )
    depth: int = field(
        default=3,
        metadata=option("--schedule random: the PCT bug depth the order of points is chosen to find.", metavar="D"),
    )
    replay: str | None = field(
        default=None,
        metadata=option(
            "--schedule exhaustive: start from this order of buyers (as printed for a failing schedule, e.g. 1,2,2,1).",
            metavar="ORDER",
            show_default=False,
        ),
    )
    traceback: bool = False  # record the traceback of every failed attempt (--debug)
    no_lock: bool = False  # --no-lock: the same as --lock none, refused beside another --lock
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
    target: str | None = field(
        default=None,
        metadata=option(
            "Send the buyers' purchases to this service (booking serve, or yours) as HTTP requests, all at once "
            "in lockstep; with --store the verifier reads the service's store, else receipts alone are judged.",
            metavar="URL",
            show_default=False,
        ),
    )
    target_map: str | None = field(
        default=None,
        metadata=option(
            "With --target: where the service differs from booking's contract, as key=value pairs: method, path, "
            "buyer, ticket, sold-out, declined, worker, health (e.g. path=/api/book,ticket=seat.id,sold-out=422).",
            metavar="SPEC",
            show_default=False,
        ),
    )
    target_config: str | None = field(default=None, metadata=option(choices.TARGET_CONFIG_HELP, None, "FILE", False))
    buyers_from: str | None = field(default=None, metadata=option(choices.BUYERS_FROM_HELP, None, "CSV", False))
    http2: bool = field(default=False, metadata=option(choices.HTTP2_HELP, flag="--http2"))
    run: str | None = field(
        default=None,
        metadata=option(
            "PostgreSQL: name a run that spans several hosts; each host runs `booking simulate --run NAME "
            "--hosts N` with its own buyers, and the database holds the run, its barrier and one verdict.",
            metavar="NAME",
            show_default=False,
        ),
    )
    hosts: int = field(default=1, metadata=option("With --run: how many hosts take part (each one invocation)."))
    host: str | None = field(
        default=None,
        metadata=option("With --run: this host's name in the run [default: hostname-pid].", show_default=False),
    )
    no_wait: bool = field(default=False, metadata=option(choices.NO_WAIT_HELP, flag="--no-wait"))
    buyer_base: int = 0  # with --run: this host's first buyer is buyer_base + 1 in the store and the verdict

    def __post_init__(self) -> None:
        if self.target is None and self.target_config is not None:  # the file may name the endpoint's address
            object.__setattr__(self, "target", choices.file_url(self.target_config))
        if not self.store:  # the notes' store; with --target, none unless given
            object.__setattr__(self, "store", "db.json" if self.target is None else None)
        if isinstance(self.store, str):
            object.__setattr__(self, "store", StoreURL.parse(self.store))
        # Plain strings are welcome from Python callers (race(schedule="random")): make them the enums.
        if isinstance(self.schedule, str) and not isinstance(self.schedule, Schedule):
            object.__setattr__(self, "schedule", to_enum(Schedule, self.schedule, "--schedule"))
        if isinstance(self.isolation, str) and not isinstance(self.isolation, Isolation):
            object.__setattr__(self, "isolation", to_enum(Isolation, self.isolation, "--isolation"))
        if isinstance(self.start_method, str) and not isinstance(self.start_method, StartMethod):
            object.__setattr__(self, "start_method", to_enum(StartMethod, self.start_method, "--start-method"))

    def validate(self) -> None:
        """Raise BadInput naming the first option out of range, or two options that do not go together."""
        from booking.options.validate import check  # the rules, apart: this module is every field's definition

        check(self)

    @property
    def store_url(self) -> StoreURL | None:
        """The run's store, parsed (None: a service raced without --store)."""
        return None if isinstance(self.store, str) else self.store  # never text after __post_init__

    @property
    def secrets(self) -> frozenset[str]:
        """Every secret the run's URLs carry (the store's, the target's): what no output may show."""
        store = self.store_url.secrets if self.store_url is not None else frozenset()
        return store | url_secrets(self.target or "") | url_secrets(self.broker or "") | url_secrets(self.cache or "")

    @property
    def processes(self) -> str:
        """The start method buyers use: as asked; else $BOOKING_START_METHOD; else spawn for your own code
        and fork for booking's strategies where the platform has it (choices.default_start_method)."""
        if self.start_method is not None:
            return self.start_method.value
        return choices.default_start_method(own_code=self.purchase is not None)

    @property
    def own_tables(self) -> bool:
        """The store is your purchase function's own: booking neither seeds nor reads booking's tables in it."""
        return self.receipts_only or self.setup is not None or self.stock is not None

    @property
    def lease_ms(self) -> float:  # a lease's time to live (--lock-ttl, 10 s by default)
        return self.lock_ttl_ms if self.lock_ttl_ms is not None else 10_000.0

    @property
    def pause_point(self) -> str:  # where an injected pause lands (--pause-at, in-critical by default)
        return self.pause_at or IN_CRITICAL

    @property
    def kill_point(self) -> str:  # where an injected kill lands (--kill-at, in-critical by default)
        return self.kill_at or IN_CRITICAL
