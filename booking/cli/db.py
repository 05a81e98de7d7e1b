"""`booking db`: a SQL store's schema, through the public API (upgrade, downgrade, current)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

import booking
from booking.errors import BadInput
from booking.i18n.lang import _
from booking.render.output import FORMAT_HELP, JSON, JSON_HELP, choose_format, print_json

db_app = typer.Typer(
    name="db",
    help="A SQL store's schema (Alembic): upgrade, downgrade, current.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
DB_STORE = Annotated[str, typer.Option(help="A SQL store: a SQLite file or a database URL.")]
DEADLINE = Annotated[float, typer.Option(help="Seconds the store may take (a lock held, a server paused).")]


@db_app.command("upgrade")
def db_upgrade(
    store: DB_STORE,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    deadline: DEADLINE = 60.0,
) -> int:
    """Create or upgrade the store's schema.

    simulate and init do this for a new store themselves.

    Example: booking db upgrade --store sqlite:///t.db
    """
    _print_schema(booking.upgrade_store(store, revision, deadline))
    return 0


@db_app.command("downgrade")
def db_downgrade(
    store: DB_STORE,
    revision: Annotated[str, typer.Argument(help="Target revision; base removes booking's tables.")] = "-1",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: the data may go with the tables.")] = False,
    deadline: DEADLINE = 60.0,
) -> int:
    """Step the store's schema back: asks first.

    base drops booking's tables and their data. It asks on a terminal; anywhere else it needs --yes.

    Example: booking db downgrade --store sqlite:///t.db base --yes
    """
    if not yes:
        _confirm_downgrade(store, revision, deadline)
    _print_schema(booking.downgrade_store(store, revision, deadline))
    return 0


def _confirm_downgrade(store: str, revision: str, deadline: float) -> None:
    """Ask before dropping tables; refuse (exit 2, nothing changed) when nobody can be asked or says no."""
    from booking.i18n.words import downgrade_loss

    state = booking.schema_state(store, deadline)  # reads only: a missing SQLite file is refused, not created
    if state.revision is None or not state.known:
        return  # no schema, nothing to lose; or a newer booking's, which the downgrade itself refuses
    loss = downgrade_loss(state.store, state.revision, revision)
    if not sys.stdin.isatty():
        raise BadInput(_("{loss}; pass --yes to go ahead (no terminal to ask on), nothing changed").format(loss=loss))
    if not typer.confirm(_("{loss}. Go ahead?").format(loss=loss), default=False):
        raise BadInput(_("not confirmed: nothing changed"))


@db_app.command("current")
def db_current(
    store: DB_STORE,
    fmt: Annotated[
        str | None, typer.Option("--format", help=FORMAT_HELP.format(choices="text or json"), metavar="FORMAT")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    deadline: DEADLINE = 60.0,
) -> int:
    """The store's schema revision against this booking's head.

    Exit 3 for a revision this booking does not know. Reads only: creates no file.

    Example: booking db current --store postgresql://postgres@127.0.0.1/test
    """
    form = choose_format(fmt, as_json)
    state = booking.schema_state(store, deadline)
    if form == JSON:
        print_json(state.to_json())
    else:
        _print_schema(state)
    return 0 if state.known else 3


def _print_schema(state: Any) -> None:
    from booking.render.tables import console, schema_line

    console().print(schema_line(state), markup=False, highlight=False)
