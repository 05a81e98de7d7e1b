"""The library API the CLI uses: everything a command does, a test or a notebook can do too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from booking.config import RunConfig, Schedule
from booking.errors import BadInput, BookingError, CannotRun
from booking.history import History, load
from booking.simulation import RunResult, simulate
from booking.stores import FinalState, open_store, store_kind
from booking.verify import Verdict, verify


@dataclass
class VerifyResult:
    """The verdict for a past run."""

    store: str
    verdict: Verdict
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {"store": self.store, "tickets": self.verdict.initial, **self.verdict.to_json()}


def verify_run(store: str, history: Path, tickets: int) -> VerifyResult:
    """Judge a past run from the store as it is now and its history file."""
    if isinstance(tickets, bool) or tickets < 0:
        raise BadInput(f"--tickets must be at least 0, got {tickets}")
    kind = store_kind(store)
    past = load(history)
    opened = open_store(store)
    try:
        remaining = opened.prepare(None)
        final = opened.final() if remaining is not None else FinalState(remaining)
    finally:
        opened.close()
    return VerifyResult(opened.display, verify(tickets, final, past, kind))


def init_store(store: str, tickets: int, force: bool = False) -> str:
    """Reset `store` to `tickets` unsold tickets; returns the store's display name."""
    RunConfig(store=store, tickets=tickets).validate()
    opened = open_store(store)
    try:
        opened.prepare(tickets, force=force)
    finally:
        opened.close()
    return opened.display


__all__ = [
    "BadInput",
    "BookingError",
    "CannotRun",
    "History",
    "RunConfig",
    "RunResult",
    "Schedule",
    "Verdict",
    "VerifyResult",
    "init_store",
    "simulate",
    "verify",
    "verify_run",
]
