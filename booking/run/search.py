"""A search: the runs of `--runs N` or `--schedule exhaustive` under a one-at-a-time schedule, made cheap.

Each run of a search is one schedule of the same buyers on the same store. What does not change from
one schedule to the next is done once: the store's claim (held for the whole search), the strategy
chosen (your code checked apart once, not per schedule), the store opened (your --setup and --stock
called in one kept child), and the buyers started and warm (booking/processes/warm.py). What a
schedule costs is then the store's reset, the purchases' statements and the verdict, not a crowd's
start-up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from booking.options.config import RunConfig
from booking.processes.warm import WarmBuyers
from booking.stores import Store
from booking.stores.claim import claim
from booking.stores.own import OwnTables
from booking.strategies import Choice


@dataclass
class Search:
    """What the runs of one search keep between them."""

    choice: Choice | None = None  # chosen by the first run
    store: Store | OwnTables | None = None  # opened by the first run, reset by each
    buyers: WarmBuyers = field(default_factory=WarmBuyers)

    def keep(self, store: Store | OwnTables) -> None:
        """The store, kept open for the next run (closed by the search); your own tables' setup and stock
        called in one kept child for the whole search."""
        self.store = store
        if isinstance(store, OwnTables):
            store.keep_child()

    def close(self) -> None:
        try:
            self.buyers.close()
        finally:
            if self.store is not None:
                self.store.close()


def warm_fits(config: RunConfig) -> bool:
    """The runs can share warm buyers: one buyer at a time in an order the schedule picks (so a run ends
    with every buyer done and waiting), on one host, with nothing injected that ends or stops a buyer on
    purpose, each run from a freshly reset store (not --keep) and of a fixed number of attempts."""
    injected = config.kill_buyer is not None or config.kill_seller is not None or bool(config.chaos)
    return (
        config.schedule.one_at_a_time
        and not injected
        and config.pause_buyer is None
        and config.run is None
        and not config.keep
        and config.duration_s is None
        and config.target is None
    )


@contextlib.contextmanager
def searching(config: RunConfig) -> Iterator[Search | None]:
    """A Search for the runs of `config` (None when they cannot share one), holding the store's claim
    (each run's own claim nests in it) and ending the warm buyers after the last run."""
    if not warm_fits(config):
        yield None
        return
    config.validate()  # bad options are said as such, before the store is claimed
    url = config.store_url
    with claim(url, True, config.deadline_s) if url is not None else contextlib.nullcontext():
        search = Search()
        try:
            yield search
        finally:
            search.close()  # before the claim is let go: the buyers' connections are part of the run
