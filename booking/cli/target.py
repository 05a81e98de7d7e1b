"""`booking target check race.toml`: the endpoint as the file describes it, tried once."""

from __future__ import annotations

from typing import Annotated

import typer

import booking

target_app = typer.Typer(
    name="target",
    help="Check a --target-config file against the running endpoint.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@target_app.command("check")
def target_check(
    config: Annotated[str, typer.Argument(help="The endpoint's TOML file (as for --target-config).")],
    target: Annotated[
        str | None, typer.Option(help="The endpoint's address [default: the file's url].", show_default=False)
    ] = None,
    buyers_from: Annotated[
        str | None, typer.Option(help="A CSV of template values per buyer (the first row is used).", show_default=False)
    ] = None,
) -> int:
    """Send one buyer's login and buy once, and show how the answer was understood.

    Example: booking target check race.toml --target http://127.0.0.1:8000
    """
    from booking.render.target import tell_check
    from booking.render.text import Printer

    checked = booking.check_target_file(config, target, buyers_from=buyers_from)
    tell_check(checked, Printer())
    return 0
