"""A run as it happens: what the parent's event loop tells whoever watches it (the live output).

The parent already hears everything on one channel (processes/crowd.py); a Watcher is called from
that loop as each report is handled, so what it shows is in the order the parent learned it: a
buyer's look and read as the buyer passes its points, a gate the moment it opens, a buyer killed
or stuck the moment the parent knows. Only a run given a watcher asks its buyers for the extra
reports at each point (`simulate(config, watch=...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from booking.history import Attempt, BuyerEnd, Opened
from booking.options.config import RunConfig


@dataclass(frozen=True)
class Began:
    """The run about to start: the store is seeded, the buyers not yet started."""

    config: RunConfig
    store: str  # as displayed, secrets masked
    strategy: str  # its label
    note: str  # what the strategy adds to its label (", 4 sellers", ...)
    initial: int  # the stock the run starts with
    seed: int | None  # shown for a seeded schedule (random, --chaos)
    counter: bool  # db.json: tickets are the count's values
    sellers: bool  # --lock queue: sellers read and write for the buyers


class Watcher(Protocol):
    """Told, in the parent, what a run does as it happens."""

    def began(self, run: Began) -> None:
        """The run starts."""

    def step(self, attempt: Attempt, done: bool, t: float | None = None) -> None:
        """An attempt so far (`done` False: the buyer, or its seller, just passed a point), or its record;
        `t`: when it was said (its new steps are told at that time: lines come in time order)."""

    def opened(self, gate: Opened, who: str = "buyer", together: int | None = None) -> None:
        """A barrier let processes go: the start barrier, the race window's (buyers), or the sellers'
        (`who` "seller": `together` of them, when known)."""

    def ended(self, end: BuyerEnd, t: float) -> None:
        """A buyer or seller ended without finishing (killed, stuck, died), `t` seconds into the run."""
