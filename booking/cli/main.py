"""The `booking` command: each command parses its options, calls the public API (`booking`), renders."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import booking
from booking.cli import exits
from booking.cli.compare import compare
from booking.cli.db import DEADLINE, db_app
from booking.cli.lang import LANG_HELP, translated
from booking.cli.lesson import lesson_command
from booking.cli.seller import seller_command
from booking.cli.serve import serve_command
from booking.cli.simulate import simulate
from booking.cli.target import target_app
from booking.i18n import lang
from booking.i18n.lang import LANGUAGES, _
from booking.options.choices import INIT_STORE_HELP
from booking.options.config import STORE_HELP, RunConfig
from booking.processes import teardown
from booking.render.output import FORMAT_HELP, JSON, JSON_HELP, choose_format, print_json
from booking.service.settings import ServeConfig

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    name="booking",
    help="A lab for the ticket-oversell race: buyer processes look, then buy, under a locking strategy; "
    "a verifier says whether tickets were oversold.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help, wrapped at the terminal's width: Rich's panels cut long words (the --store URLs) at 80 columns.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db_app)
app.add_typer(target_app)
FORMAT = Annotated[
    str | None, typer.Option("--format", help=FORMAT_HELP.format(choices="text or json"), metavar="FORMAT")
]
AS_JSON = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"booking {booking.__version__}\n")
        raise typer.Exit()


def _strategy_names(incomplete: str) -> list[str]:
    """Shell completion for --lock and --seller-lock (imported only when a shell asks)."""
    from booking.strategies import STRATEGIES

    return [name for name in STRATEGIES if name.startswith(incomplete)]


@app.callback()
def _options(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print booking's version and exit.", is_eager=True, callback=_version)
    ] = False,
    lang: Annotated[str | None, typer.Option("--lang", help=LANG_HELP, metavar="en|zh", show_default=False)] = None,
) -> None:
    # --lang was read before the command was built (main), so the help is in its language too.
    if lang is not None and lang not in LANGUAGES:
        raise typer.BadParameter(_("{lang!r} is not one of {choices}.").format(lang=lang, choices="en, zh"))
    if debug:
        ctx.obj["debug"] = True


def _config_options(config: type = RunConfig) -> list[inspect.Parameter]:
    """A command's options, made from its config's fields (one definition of what a run, or a service, is)."""
    hints = typing.get_type_hints(config)
    params = []
    for f in dataclasses.fields(config):
        meta = f.metadata
        if "help" not in meta:
            continue  # set by the CLI itself (the traceback from --debug), or from Python only
        flag = meta["flag"] or "--" + f.name.replace("_", "-")
        complete = _strategy_names if f.name in ("strategy", "seller_lock") else None
        option = typer.Option(
            flag, help=meta["help"], metavar=meta["metavar"], show_default=meta["show_default"], autocompletion=complete
        )
        kind = meta["cli"] or hints[f.name]  # the command line gives names where Python may give functions
        params.append(_param(f.name, f.default, Annotated[kind, option]))
        if f.name == "strategy" and config is RunConfig:
            no_lock = typer.Option("--no-lock", help="Same as --lock none: the race itself.")
            params.append(_param("no_lock", False, Annotated[bool, no_lock]))
    if config is not RunConfig:
        return params
    params.append(
        _param("quiet", False, Annotated[bool, typer.Option("--quiet", "-q", help="Only the verdict and its counts.")])
    )
    params.append(_param("fmt", None, FORMAT))
    params.append(_param("as_json", False, AS_JSON))
    step = typer.Option("--step", help="Hold the run at each barrier until Enter (q stops it): for a projector.")
    params.append(_param("step", False, Annotated[bool, step]))
    step_ms = typer.Option("--step-ms", help="As --step, going on by itself after N ms.", metavar="N")
    params.append(_param("step_ms", None, Annotated[float | None, step_ms]))
    return [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context), *params]


def _param(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


simulate.__signature__ = inspect.Signature(_config_options())  # type: ignore[attr-defined]
app.command()(simulate)
# in booking/cli/serve.py: its options are ServeConfig's fields
app.command("serve")(serve_command).__signature__ = inspect.Signature(_config_options(ServeConfig))  # type: ignore[attr-defined]


@app.command()
def verify(
    store: Annotated[str, typer.Option(help=STORE_HELP)] = "db.json",
    history: Annotated[
        Path, typer.Option(help="The JSON-lines history a run wrote with --history.", metavar="FILE")
    ] = Path("history.jsonl"),
    tickets: Annotated[
        int | None,
        typer.Option(help="The stock the run started with. [default: what the history records]", show_default=False),
    ] = None,
    run: Annotated[
        str | None,
        typer.Option(help="A run across hosts (simulate --run): judged from the database alone.", metavar="NAME"),
    ] = None,
    fmt: FORMAT = None,
    as_json: AS_JSON = False,
    deadline: DEADLINE = 60.0,
) -> int:
    """The verdict for a past run, from its history and the store.

    The history's first line records the store, the starting stock and the run's settings, so
    --tickets is needed only for a history that does not (and is refused when it contradicts it).
    Reads only: creates no file.

    Example: booking verify --store db.json --history run.jsonl
    """
    form = choose_format(fmt, as_json)
    result = booking.verify_run(store, history, tickets, run, deadline)
    if form == JSON:
        from booking.render.stories import said

        print_json(said(result))
    else:
        from booking.i18n.words import count
        from booking.render.run import Printer, render_verdict

        out = Printer()
        out.line(
            _("store {store}, {count} at the start of the run").format(
                store=result.store, count=count(result.verdict.initial, "ticket")
            )
        )
        render_verdict(result.verdict, out)
        for missing in result.missing:
            out.line(("  missing: ", "bold red"), missing)
    return result.exit_code


@app.command()
def init(
    store: Annotated[str, typer.Option(help=STORE_HELP)] = "db.json",
    tickets: Annotated[int, typer.Option(help="Unsold tickets to put in the store.")] = 1,
    force: Annotated[bool, typer.Option("--force", help="Replace a store that is corrupt or half set up.")] = False,
    deadline: Annotated[float, typer.Option(help="Seconds the store may take (a lock held, a server paused).")] = 60.0,
    init_store: Annotated[bool, typer.Option("--init-store", help=INIT_STORE_HELP)] = False,
) -> int:
    """Reset a store to N unsold tickets.

    Example: booking init --store db.json --tickets 1
    """
    display = booking.init_store(store, tickets, force=force, deadline_s=deadline, beside=init_store)
    from booking.i18n.words import count

    said = _("{store}: {tickets}, none sold").format(store=display, tickets=count(tickets, "ticket"))
    _console().print(said, markup=False, highlight=False)
    return 0


app.command()(compare)  # in booking/cli/compare.py: the longest command's options
app.command("lesson")(lesson_command)  # in booking/cli/lesson.py: the notes' lessons
app.command("seller")(seller_command)  # in booking/cli/seller.py: a broker's seller in its own invocation


@app.command()
def strategies(
    store: Annotated[
        str | None, typer.Option(help="Only the strategies that apply to this store.", show_default=False)
    ] = None,
    fmt: FORMAT = None,
    as_json: AS_JSON = False,
) -> int:
    """Every strategy, where it applies and whom it protects.

    Example: booking strategies --store sqlite:///t.db
    """
    form = choose_format(fmt, as_json)
    rows = booking.strategy_rows(store)
    if form == JSON:
        print_json(rows)
        return 0
    from booking.render.tables import strategy_table

    _console().print(strategy_table(rows))
    return 0


def _console(width: int | None = None) -> Console:
    from booking.render.tables import console  # here: a start-up that prints JSON need not import rich

    return console(width)


def main(argv: list[str] | None = None) -> int:
    """Run `booking ARGV`; returns the exit code (booking/cli/exits.py says which). The language is --lang's,
    else the environment's, for the command's every word and the processes it starts."""
    args = list(sys.argv[1:] if argv is None else argv)
    lang.take_over_click()
    with lang.speaking(lang.asked_for(args)):
        return exits.run_command(translated(typer.main.get_command(app)), args)


def run() -> None:
    """The `booking` command: main(), then the helper processes spawn and forkserver started are stopped
    (not in main(): a process that goes on, a test's, keeps them)."""
    code = main()
    teardown.stop_helpers()
    sys.exit(code)
