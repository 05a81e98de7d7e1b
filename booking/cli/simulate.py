"""`booking simulate`: its options are RunConfig's fields (booking/cli/main.py builds them); one run shown as
it happens, or repeated runs a line each; booking's own db.json put back afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

import booking
from booking.cli.step import STEP_DEADLINE_S, stepper
from booking.options.config import RunConfig, Schedule
from booking.render.output import JSON, choose_format


def simulate(
    ctx: typer.Context,
    no_lock: bool,
    quiet: bool,
    fmt: str | None,
    as_json: bool,
    step: bool,
    step_ms: float | None,
    **options: Any,
) -> int:
    """Race N buyer processes for the stock, then verify the outcome.

    Exit codes: 0 the verdict is OK, 1 an anomaly was found, 2 bad usage or input, 3 the run could not
    be carried out (store unwritable or in use, a buyer stuck past the deadline), 4 the run proved
    nothing (the buyers never overlapped in the race window).

    Example: booking simulate --buyers 10 --no-lock

    Example: booking simulate --lock queue --sellers 4 --seller-lock file-lock

    Example: booking simulate --store postgresql://postgres@127.0.0.1/test
    """
    form = choose_format(fmt, as_json)
    if (step or step_ms is not None) and not _given(ctx, "deadline_s"):
        options["deadline_s"] = STEP_DEADLINE_S
    config = RunConfig(**options, traceback=ctx.obj["debug"], no_lock=no_lock)
    as_json = form == JSON
    from booking.cli.exits import shown_when_interrupted
    from booking.render.run import EventLines, Printer, emit, run_line

    notes = _notes_db(config)
    one = config.runs == 1 and config.schedule is not Schedule.EXHAUSTIVE
    live = EventLines(Printer(secrets=config.secrets)) if one and not (as_json or quiet) else None  # as it happens
    held = stepper(step, step_ms, live, _unshown(as_json, quiet, config))
    if one:
        with shown_when_interrupted(as_json, quiet, live), _put_back(notes):
            result = booking.simulate(config, watch=live, step=held)
        return emit(result, as_json, quiet, live, put_back=notes)
    printer = Printer(secrets=config.secrets)
    with _put_back(notes):
        outcome = booking.simulate_runs(config, None if as_json else lambda r: run_line(r, printer))
    return emit(outcome, as_json, quiet, put_back=notes)


def _given(ctx: typer.Context, name: str) -> bool:
    """The option was given, not left at its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def _unshown(as_json: bool, quiet: bool, config: RunConfig) -> str | None:
    """The option that keeps the run from being shown as it happens (the steps of --step need it)."""
    if as_json or quiet:
        return "--json" if as_json else "-q"
    if config.runs != 1:
        return f"--runs {config.runs}"
    return "--schedule exhaustive" if config.schedule is Schedule.EXHAUSTIVE else None


def _notes_db(config: RunConfig) -> Path | None:
    """booking's own checkout's db.json (the notes' file, tracked by git) when it is this run's store."""
    url = config.store_url
    checkout = Path(booking.__file__).resolve().parents[1]
    notes = checkout / "db.json"
    if url is None or url.path is None or not (checkout / "pyproject.toml").is_file() or not notes.is_file():
        return None
    from booking.files import same_file

    return notes if same_file(notes, url.path) else None


@contextlib.contextmanager
def _put_back(notes: Path | None) -> Iterator[None]:
    """A run on the checkout's db.json leaves it as it found it: its bytes are written back (whole) after."""
    if notes is None:
        yield
        return
    before = notes.read_text(encoding="utf-8")
    try:
        yield
    finally:
        if notes.read_text(encoding="utf-8") != before:
            from booking.files import write_text

            write_text(notes, before, "db.json")
