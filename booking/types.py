"""The Protocols and aliases booking's folders share, each in one line (as structlog's typing.py).

This module is the bottom layer: it imports nothing from booking, so any folder may name these types
without reaching above itself. A Protocol that takes or returns one of booking's records (a Store's
Seen, a Watcher's Attempt, a Purchase's BuyerContext) lives beside those records instead: naming them
here would make this module depend on history/, stores/ and strategies/, which themselves use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Hook = str | Callable[..., Any]
"""Your code: "module:function" on the command line, the function itself from Python."""

Opening = tuple[float, str, list[int], str]
"""A barrier opening: when (monotonic seconds), the point, the buyers let go, and why."""


class Barrier(Protocol):
    """The race window's barrier as the parent's teller reads it: the openings so far, in order."""

    opened: list[Opening]


class Peers(Protocol):
    """The other hosts' parents in a run across hosts (booking/hosts/peers.py), as a crowd and its barrier use them."""

    @property
    def all_ready(self) -> bool:
        """Every host's buyers are warm."""

    def fileno(self) -> int:
        """What the parent's selector waits on for the other hosts' words."""

    def ready(self) -> None:
        """Tell the others this host's buyers are warm."""

    def agree(self, round_: int) -> bool:
        """Every host has its buyers waiting at the barrier's round `round_`."""

    def leave(self) -> None:
        """This host takes part in no more rounds."""

    def receive(self) -> None:
        """Take in what the other hosts said."""

    def check(self, now: float) -> None:
        """Notice hosts that went quiet."""

    def next_check(self) -> float:
        """When to check on the other hosts next (monotonic seconds)."""

    def problem(self) -> str | None:
        """Why the run cannot go on (a host died or refused), or None."""

    def missing(self) -> str:
        """The hosts that have not joined, in words."""
