"""`booking compare`: its options, parsed and handed to the public API (`booking.compare_strategies`)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

import booking
from booking.cli import exits
from booking.errors import BadInput
from booking.i18n.lang import _
from booking.options.choices import COMPARE_BROKER_HELP, COMPARE_CACHE_HELP
from booking.options.config import Schedule
from booking.options.store_url import StoreURL, url_secrets
from booking.redact import redact
from booking.render.output import FORMAT_HELP, JSON, JSON_HELP, TEXT, choose_format


def compare(
    ctx: typer.Context,
    stores: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated stores (paths or database URLs). "
            "[default: db.json and SQLite in a temporary directory]"
        ),
    ] = None,
    strategies: Annotated[
        str | None, typer.Option(help="Comma-separated strategies. [default: all that apply]")
    ] = None,
    buyers: Annotated[str, typer.Option(help="Comma-separated buyer counts.")] = "1,4,16",
    tickets: Annotated[int, typer.Option(help="Stock per run; buyers buy until it is sold out.")] = 20,
    trials: Annotated[int, typer.Option(help="Runs per cell.")] = 5,
    schedule: Annotated[str, typer.Option(help="Comma-separated schedules: free, lockstep.")] = "free,lockstep",
    seed: Annotated[int, typer.Option(help="Seed of the shuffled run order.")] = 0,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help=FORMAT_HELP.format(choices="text (or table), md, json, csv or html"), metavar="FORMAT"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the report to FILE instead of stdout.", metavar="FILE")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    duration: Annotated[
        float, typer.Option(help="Seconds each cost repetition buys after every buyer is ready (steady state).")
    ] = 0.25,
    repetitions: Annotated[
        int,
        typer.Option(
            help="Independent repetitions per cost cell, each a fresh crowd on a fresh store; a cell whose "
            "interval is still wide gets more while --budget lasts."
        ),
    ] = 3,
    budget: Annotated[
        float,
        typer.Option(help="Seconds of the whole comparison after which no extra repetition starts.", metavar="S"),
    ] = 45.0,
    reference: Annotated[
        str | None, typer.Option(help="The safe strategy cost ratios are against. [default: the store's default]")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(help="A saved --format json report: compare with it, exit 1 on a regression.", metavar="OLD"),
    ] = None,
    isolation: Annotated[
        str | None, typer.Option(help="SQL stores: read-committed, repeatable-read or serializable.")
    ] = None,
    think: Annotated[
        float, typer.Option("--think", help="Milliseconds to sleep inside the race window.", metavar="MS")
    ] = 0.0,
    servers: Annotated[
        str | None,
        typer.Option(
            help="Without --stores: database servers added when they answer, comma-separated URLs, or none. "
            "[default: $BOOKING_COMPARE_SERVERS, else PostgreSQL and MariaDB on 127.0.0.1, database booking_compare]",
            metavar="URLS",
        ),
    ] = None,
    purchase: Annotated[
        str | None,
        typer.Option(help="Your purchase functions as rows, comma-separated module:function.", metavar="SPECS"),
    ] = None,
    broker: Annotated[str | None, typer.Option(help=COMPARE_BROKER_HELP, metavar="URL")] = None,
    cache: Annotated[str | None, typer.Option(help=COMPARE_CACHE_HELP, metavar="URL")] = None,
) -> int:
    """Every strategy on one workload: correctness and cost.

    Correctness: lockstep trials, P(anomaly) with its interval. Cost: --repetitions independent
    repetitions per cell, each a fresh crowd on a freshly reset store buying for --duration seconds
    after every buyer is ready; purchases/s is their mean with a 95% interval from them, against a
    safe reference strategy. Exit code 1 when a strategy documented as safe showed an anomaly, or
    (--baseline) a figure got worse beyond its interval; 130 when interrupted (the report is
    written, marked partial).

    Example: booking compare --buyers 1,4,16 --trials 5 --format html --out report.html
    """
    from booking.render import tables
    from booking.render.report import deliver, prepare_output

    form = choose_format(fmt, as_json, (TEXT, "table", "md", JSON, "csv", "html"))
    form = "table" if form == TEXT else form
    urls = [StoreURL.parse(s) for s in _split(stores)] if stores else None  # parsed once, here
    prepare_output(form, out, urls)
    console = tables.console(width=160)
    with tables.progress_bar(not quiet and console.is_terminal) as progress:
        comparison = booking.compare_strategies(
            stores=urls,
            strategies=_split(strategies) if strategies else None,
            buyers=_ints("--buyers", buyers),
            tickets=tickets,
            trials=trials,
            schedules=[_schedule(s) for s in _split(schedule)],
            seed=seed,
            progress=progress,
            duration_s=duration,
            repetitions=repetitions,
            budget_s=budget,
            reference=reference,
            isolation=isolation,
            baseline=baseline,
            think_ms=think,
            purchases=tuple(_split(purchase)) if purchase else (),
            servers=servers,
            broker=broker,
            cache=cache,
        )
    secrets = frozenset().union(*(u.secrets for u in urls or ()), url_secrets(broker or ""), url_secrets(cache or ""))
    comparison.command = redact(shlex.join(["booking", *ctx.obj["argv"]]), secrets)
    deliver(comparison, form, out, console)
    if comparison.partial:
        exits.error(f"{comparison.partial}; the report is partial", prefix="")
        return 128 + (comparison.stopped_by or 2)  # 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP
    return comparison.exit_code


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _ints(option: str, value: str) -> list[int]:
    try:
        return [int(part) for part in _split(value)]
    except ValueError:
        raise BadInput(
            _("{option} takes comma-separated whole numbers, got {value!r}").format(option=option, value=value)
        ) from None


def _schedule(value: str) -> Schedule:
    if value not in (Schedule.FREE.value, Schedule.LOCKSTEP.value):
        raise BadInput(_("--schedule: compare takes free and lockstep, not {value!r}").format(value=value))
    return Schedule(value)
