"""The library API the CLI uses: everything a command does, a test or a notebook can do too."""

from __future__ import annotations

import contextlib
import shlex
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from booking.compare import DEFAULT_BUYERS, DEFAULT_TICKETS, DEFAULT_TRIALS, CompareConfig, Comparison, compare
from booking.config import RunConfig, Schedule
from booking.errors import BadInput, BookingError, CannotRun
from booking.history import History, load
from booking.redact import redact
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
    RunConfig(tickets=tickets).validate()  # the upper limit, named
    kind = store_kind(store)
    past = load(history)
    opened = open_store(store)
    try:
        remaining = opened.prepare(None)
        final = opened.final() if remaining is not None else FinalState(remaining)
    finally:
        opened.close()
    return VerifyResult(opened.display, verify(tickets, final, past, kind))


@dataclass
class CompareOutput:
    result: Comparison
    text: str  # the rendered report ("" for the terminal table)


def compare_strategies(
    stores: list[str] | None = None,
    strategies: list[str] | None = None,
    buyers: list[int] | None = None,
    tickets: int = DEFAULT_TICKETS,
    trials: int = DEFAULT_TRIALS,
    schedules: list[Schedule] | None = None,
    seed: int = 0,
    fmt: str = "table",
    out: Path | None = None,
    show_progress: bool = False,
    argv: list[str] | None = None,
) -> CompareOutput:
    """Run the comparison matrix and render it; the default stores live in a temporary directory."""
    from booking.compare_report import FORMATS, render

    if fmt not in FORMATS:
        raise BadInput(f"--format: unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if out is not None:
        _check_writable(out)
    with tempfile.TemporaryDirectory(prefix="booking-compare-") as tmp:
        config = CompareConfig(
            stores=tuple(stores or (str(Path(tmp) / "db.json"), str(Path(tmp) / "tickets.db"))),
            strategies=tuple(strategies) if strategies else None,
            buyers=tuple(buyers or DEFAULT_BUYERS),
            tickets=tickets,
            trials=trials,
            schedules=tuple(schedules or (Schedule.FREE, Schedule.LOCKSTEP)),
            seed=seed,
        )
        with _progress(show_progress) as progress:
            result = compare(config, progress)
    result.command = redact(shlex.join(["booking", *argv])) if argv else "booking.compare_strategies(...)"
    result.versions = versions()
    text = "" if fmt == "table" else render(result, fmt)
    if out is not None:
        if fmt == "table":
            text = render(result, "md")
        _write(out, text)
    return CompareOutput(result, text)


def versions() -> dict[str, str]:
    """What made a report: Python, booking and the libraries on the path."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("booking", "filelock", "sqlalchemy", "alembic", "psycopg", "pymysql", "matplotlib"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


@contextlib.contextmanager
def _progress(show: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not show:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("comparing strategies", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _check_writable(path: Path) -> None:
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise BadInput(f"--out {path}: cannot be written ({exc.strerror})") from None


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CannotRun(f"--out {path}: cannot be written ({exc.strerror})") from None


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
