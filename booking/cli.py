"""The `booking` command: each command parses, calls the library, renders. No logic lives here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from booking.config import Isolation, RunConfig, Schedule
from booking.errors import BadInput, BookingError

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    name="booking",
    help="A lab for the ticket-oversell race: buyer processes look, then buy, under a locking strategy; "
    "a verifier says whether tickets were oversold.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state: dict[str, Any] = {"debug": bool(os.environ.get("BOOKING_DEBUG")), "argv": []}

STORE_HELP = (
    "The store: a db.json path (as in the notes), a SQLite file (t.db or sqlite:///t.db) or a database URL "
    "(postgresql+psycopg://user:pw@host/db, mysql+pymysql://user:pw@host/db)."
)
LOCK_HELP = (
    "Strategy (`booking strategies` lists them); default: mp-lock for db.json, file-lock for SQLite, "
    "atomic for PostgreSQL and MariaDB."
)
db_app = typer.Typer(
    name="db",
    help="The SQL store's schema (Alembic migrations): upgrade, downgrade, current.",
    no_args_is_help=True,
)
app.add_typer(db_app)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")] = False,
) -> None:
    if debug:
        _state["debug"] = True


@app.command()
def simulate(
    buyers: Annotated[int, typer.Option(help="Buyer processes (each its own OS process).")] = 10,
    tickets: Annotated[int, typer.Option(help="Stock to seed the store with before the run.")] = 1,
    store: Annotated[str, typer.Option(help=STORE_HELP)] = "db.json",
    lock: Annotated[str | None, typer.Option(help=LOCK_HELP, metavar="STRATEGY", show_default=False)] = None,
    no_lock: Annotated[bool, typer.Option("--no-lock", help="Same as --lock none: the race itself.")] = False,
    attempts: Annotated[int, typer.Option(help="Tickets each buyer wants.")] = 1,
    until_sold_out: Annotated[
        bool, typer.Option("--until-sold-out", help="Every buyer keeps buying until it sees none left.")
    ] = False,
    schedule: Annotated[
        Schedule,
        typer.Option(
            help="lockstep: all buyers reach the race window at once; free: natural timing; random: one buyer "
            "at a time, point to point, in a seeded random order (see --seed)."
        ),
    ] = Schedule.LOCKSTEP,
    seed: Annotated[
        int | None, typer.Option(help="The seed of --schedule random's order of points and of --chaos.")
    ] = None,
    kill_buyer: Annotated[
        int | None, typer.Option(help="Fault injection: SIGKILL buyer K at --kill-at.", metavar="K")
    ] = None,
    kill_at: Annotated[
        str | None,
        typer.Option(help="Where: after-read, in-critical (default), before-commit or mid-write.", metavar="POINT"),
    ] = None,
    chaos: Annotated[
        float, typer.Option(help="Fault injection: kill each buyer at a random point with probability P.", metavar="P")
    ] = 0.0,
    durable: Annotated[
        bool, typer.Option("--durable", help="db.json: fsync the file and its directory on every write.")
    ] = False,
    think: Annotated[float, typer.Option(help="Milliseconds to sleep inside the race window.", metavar="MS")] = 0.0,
    keep: Annotated[
        bool, typer.Option("--keep", help="Continue from the store's stock instead of seeding it.")
    ] = False,
    history: Annotated[
        Path | None, typer.Option(help="Also write every attempt as JSON lines to FILE.", metavar="FILE")
    ] = None,
    deadline: Annotated[
        float, typer.Option(help="Seconds before unfinished buyers are stopped and reported stuck.")
    ] = 60.0,
    sellers: Annotated[int, typer.Option(help="--lock queue: seller processes consuming the requests.")] = 1,
    seller_lock: Annotated[
        str | None,
        typer.Option(
            help="--lock queue: the strategy sellers protect their writes with (default none: unprotected).",
            metavar="STRATEGY",
        ),
    ] = None,
    purchase: Annotated[
        str | None,
        typer.Option(
            help="Your own purchase function, module:function, called in each buyer as function(store, buyer, point) "
            "instead of a strategy.",
            metavar="MODULE:FUNCTION",
        ),
    ] = None,
    receipts_only: Annotated[
        bool,
        typer.Option(
            "--receipts-only", help="With --purchase: your function keeps its own tables; judge its receipts only."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    isolation: Annotated[
        Isolation | None,
        typer.Option(
            help="SQL stores: the transactions' isolation level (default: the database's).", show_default=False
        ),
    ] = None,
) -> int:
    """Run N buyer processes against the store and verify the outcome.

    Exit codes: 0 the verdict is OK, 1 an anomaly was found, 2 bad usage or input, 3 the run could not
    be carried out (store unwritable, a buyer stuck past the deadline).

    Example: booking simulate --buyers 10 --no-lock
    Example: booking simulate --buyers 10 --lock queue --sellers 4 --seller-lock file-lock
    """
    from booking.simulation import simulate as run

    config = RunConfig(
        store=store,
        strategy="none" if no_lock else lock,
        buyers=buyers,
        tickets=tickets,
        attempts=attempts,
        until_sold_out=until_sold_out,
        schedule=schedule,
        think_ms=think,
        keep=keep,
        history=history,
        deadline_s=deadline,
        sellers=sellers,
        seller_lock=seller_lock,
        purchase=purchase,
        receipts_only=receipts_only,
        seed=seed,
        isolation=isolation,
        kill_buyer=kill_buyer,
        kill_at=kill_at,
        chaos=chaos,
        durable=durable,
    )
    result = run(config)
    if as_json:
        _print_json(result.to_json())
    else:
        from booking.report import Printer, render_run

        render_run(result, Printer(), quiet=quiet)
    return result.exit_code


@app.command()
def verify(
    store: Annotated[str, typer.Option(help=STORE_HELP)] = "db.json",
    history: Annotated[
        Path, typer.Option(help="The JSON-lines history a run wrote with --history.", metavar="FILE")
    ] = Path("history.jsonl"),
    tickets: Annotated[int, typer.Option(help="The stock the run started with.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as one JSON object.")] = False,
) -> int:
    """The verdict for a past run, from the store as it is now and the run's history file.

    Example: booking verify --store db.json --history run.jsonl --tickets 1
    """
    from booking.api import verify_run

    result = verify_run(store, history, tickets)
    if as_json:
        _print_json(result.to_json())
    else:
        from booking.report import Printer, render_verdict

        render_verdict(result.verdict, Printer())
    return result.exit_code


@app.command()
def init(
    store: Annotated[str, typer.Option(help=STORE_HELP)] = "db.json",
    tickets: Annotated[int, typer.Option(help="Unsold tickets to put in the store.")] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a store that is corrupt or of another shape.")
    ] = False,
) -> int:
    """Reset a store to N unsold tickets.

    Example: booking init --store db.json --tickets 1
    """
    from booking.api import init_store

    display = init_store(store, tickets, force=force)
    _console().print(
        f"{display}: {tickets} {'ticket' if tickets == 1 else 'tickets'}, none sold", markup=False, highlight=False
    )
    return 0


@app.command()
def compare(
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
    fmt: Annotated[str, typer.Option("--format", help="table, md, json, csv or html.")] = "table",
    out: Annotated[
        Path | None, typer.Option(help="Write the report to FILE instead of stdout.", metavar="FILE")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> int:
    """Run every strategy on the same workload; put correctness and cost side by side.

    Exit code 1 when a strategy documented as safe showed an anomaly in any trial, so the
    report doubles as a regression check.

    Example: booking compare --buyers 1,4,16 --trials 5 --format html --out report.html
    """
    from booking.api import compare_strategies

    console = _console(width=160)
    comparison = compare_strategies(
        stores=_split(stores) if stores else None,
        strategies=_split(strategies) if strategies else None,
        buyers=_ints("--buyers", buyers),
        tickets=tickets,
        trials=trials,
        schedules=[_schedule(s) for s in _split(schedule)],
        seed=seed,
        fmt=fmt,
        out=out,
        show_progress=not quiet and console.is_terminal,
        argv=list(_state["argv"]),
    )
    if out is None:
        if fmt == "table":
            from booking.compare_report import print_table

            print_table(comparison.result, console)
        else:
            sys.stdout.write(comparison.text)
    else:
        console.print(f"wrote {out} ({fmt})", markup=False, highlight=False)
    return comparison.result.exit_code


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _ints(option: str, value: str) -> list[int]:
    try:
        return [int(part) for part in _split(value)]
    except ValueError:
        raise BadInput(f"{option} takes comma-separated whole numbers, got {value!r}") from None


def _schedule(value: str) -> Schedule:
    if value not in (Schedule.FREE.value, Schedule.LOCKSTEP.value):
        raise BadInput(f"--schedule: compare takes free and lockstep, not {value!r}")
    return Schedule(value)


@app.command()
def strategies(
    store: Annotated[
        str | None, typer.Option(help="Only the strategies that apply to this store.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> int:
    """Every strategy: its one-line description, the stores it applies to and its scope.

    Example: booking strategies --store sqlite:///t.db
    """
    from booking.db import strategy_rows

    rows = strategy_rows(store)
    if as_json:
        _print_json(rows)
        return 0
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("strategy", "stores", "scope", "description"):
        table.add_column(column, overflow="fold")
    for row in rows:
        default = f" (default: {', '.join(row['default_for'])})" if row["default_for"] else ""
        table.add_row(row["name"], ", ".join(row["stores"]), row["scope"], row["description"] + default)
    _console().print(table)
    return 0


DB_STORE = Annotated[str, typer.Option(help="A SQL store: a SQLite file or a database URL.")]


@db_app.command("upgrade")
def db_upgrade(
    store: DB_STORE,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> int:
    """Create or upgrade the store's schema (simulate and init do this for a new store themselves).

    Example: booking db upgrade --store sqlite:///t.db
    """
    from booking import db

    _print_schema(db.upgrade(store, revision))
    return 0


@db_app.command("downgrade")
def db_downgrade(
    store: DB_STORE,
    revision: Annotated[str, typer.Argument(help="Target revision; base removes booking's tables.")] = "-1",
) -> int:
    """Step the store's schema back (base: drop booking's tables and their data).

    Example: booking db downgrade --store sqlite:///t.db base
    """
    from booking import db

    _print_schema(db.downgrade(store, revision))
    return 0


@db_app.command("current")
def db_current(
    store: DB_STORE,
    as_json: Annotated[bool, typer.Option("--json", help="Print the revision as JSON.")] = False,
) -> int:
    """The store's schema revision, and whether it is the head this booking expects (exit 3: unknown revision).

    Example: booking db current --store postgresql+psycopg://postgres@127.0.0.1/test
    """
    from booking import db

    state = db.current(store)
    if as_json:
        _print_json(state.to_json())
    else:
        _print_schema(state)
    return 0 if state.known else 3


def _print_schema(state: Any) -> None:
    where = "no schema" if state.revision is None else f"revision {state.revision}"
    if not state.known:
        mark = f" (unknown to this booking, made by a newer one; head is {state.head})"
    else:
        mark = " (head)" if state.at_head else f" (head is {state.head})"
    _console().print(f"{state.store}: {where}{mark}", markup=False, highlight=False)


def _console(width: int | None = None) -> Console:
    from rich.console import Console  # here: a start-up that prints JSON need not import rich

    console = Console(highlight=False, soft_wrap=True)
    if width and not console.is_terminal:
        console.width = width  # a pipe or a file takes wide tables whole
    return console


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line errors with exit 2 (usage, input) or 3 (environment), tracebacks only with --debug."""
    command = typer.main.get_command(app)
    _state["argv"] = list(sys.argv[1:] if argv is None else argv)
    try:
        code = command.main(args=argv, prog_name="booking", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        _error("interrupted")
        return 130
    except typer.TyperException as exc:  # click's usage errors: unknown option, not a number, ...
        if exc.format_message():  # (no-args-is-help has already printed the help)
            _error(exc.format_message())
        return 2 if exc.exit_code == 2 else exc.exit_code
    except BookingError as exc:
        if _state["debug"]:
            raise
        _error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:
        if _state["debug"]:
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        return 3
    return code if isinstance(code, int) else 0


def _error(message: str) -> None:
    sys.stderr.write(f"booking: error: {' '.join(message.split())}\n")


def run() -> None:
    sys.exit(main())
