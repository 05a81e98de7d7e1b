"""What a service is: `booking serve`'s options, frozen plain data each worker process gets whole.

As RunConfig does for `booking simulate`, each field carries its command-line face (booking.options.config.option):
`booking serve`'s options are built from these fields.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.options.choices import MAX_THINK_MS, MAX_TICKETS, Isolation, check_range, to_enum
from booking.options.config import LOCK_HELP, STORE_HELP, option
from booking.options.store_url import StoreURL

MAX_WORKERS = 64
MAX_THREADS = 64
LOOPBACK = "127.0.0.1"
THINK_MS = 0.0  # the bare purchase by default; widen the race window with --think (see `think_ms`)


@dataclass(frozen=True)
class ServeConfig:
    """One service: a store, the strategy every purchase runs under, and how many worker processes serve it."""

    store: StoreURL | str = field(default="db.json", metadata=option(STORE_HELP, cli=str))  # parsed once: store_url
    # None: the store's default, as for simulate
    strategy: str | None = field(
        default=None, metadata=option(LOCK_HELP, flag="--lock", metavar="STRATEGY", show_default=False)
    )
    workers: int = field(
        default=4, metadata=option("Worker processes (uvicorn's), each with its own connections and its own locks.")
    )
    threads: int = field(default=8, metadata=option("Purchases one worker runs at once (its store connections)."))
    host: str = field(default=LOOPBACK, metadata=option("The address to listen on."))
    port: int = field(default=8000, metadata=option("The port to listen on (0: any free port; the output says which)."))
    tickets: int = field(default=1, metadata=option("Stock to seed the store with before the workers start."))
    keep: bool = field(default=False, metadata=option("Serve the store's stock as it is.", flag="--keep"))
    # Lockstep cannot hold a purchase inside a service at its window the way it holds a buyer process: --think
    # widens the window so that requests that arrive together are inside it together. By default the service
    # serves the bare purchase, so that what it measures is the purchase, not a sleep.
    think_ms: float = field(
        default=THINK_MS,
        metadata=option(
            "Milliseconds every purchase sleeps inside the race window (after its read), so that requests that "
            "arrive together overlap in it; 0 for the bare purchase.",
            flag="--think",
            metavar="MS",
        ),
    )
    isolation: Isolation | None = field(
        default=None,
        metadata=option("SQL stores: the transactions' isolation level (default: the database's).", show_default=False),
    )
    http2: bool = field(
        default=False,
        metadata=option(
            "Serve under Hypercorn, which speaks HTTP/2 (h2c, prior knowledge) as well as HTTP/1.1, instead of "
            "uvicorn (HTTP/1.1 only): for `simulate --target URL --http2`.",
            flag="--http2",
        ),
    )
    timeout_s: float = field(
        default=30.0, metadata=option("Seconds a purchase may wait for its lock.", flag="--timeout", metavar="S")
    )

    def __post_init__(self) -> None:
        if isinstance(self.store, str):
            object.__setattr__(self, "store", StoreURL.parse(self.store))
        if isinstance(self.isolation, str) and not isinstance(self.isolation, Isolation):
            object.__setattr__(self, "isolation", to_enum(Isolation, self.isolation, "--isolation"))

    @property
    def store_url(self) -> StoreURL:
        """The service's store, parsed."""
        return StoreURL.of(self.store)  # never text after __post_init__

    def validate(self) -> None:
        check_range("--workers", self.workers, 1, MAX_WORKERS)
        check_range("--threads", self.threads, 1, MAX_THREADS)
        check_range("--port", self.port, 0, 65535)
        check_range("--tickets", self.tickets, 0, MAX_TICKETS)
        check_range("--think", self.think_ms, 0, MAX_THINK_MS)
        check_range("--timeout", self.timeout_s, 0.1, 3600)
        if self.host != "localhost":
            try:
                ipaddress.ip_address(self.host)
            except ValueError:
                raise BadInput(
                    _("--host: an IP address to listen on (e.g. {LOOPBACK}), got {host!r}").format(
                        LOOPBACK=LOOPBACK, host=self.host
                    )
                ) from None
