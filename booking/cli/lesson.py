"""`booking lesson [N]`: the notes' lessons, each told, then shown by one `booking simulate` run."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from booking.cli.lessons import LESSONS, intro, lesson, why
from booking.errors import BadInput
from booking.i18n.lang import _
from booking.render.text import Printer


def lesson_command(
    ctx: typer.Context,
    number: Annotated[
        int | None, typer.Argument(help="The lesson, 1 to 5; without it, the list.", show_default=False)
    ] = None,
) -> int:
    """The day-25 notes' lessons, each shown by one booking command.

    Process and join, daemon, Lock (the ticket grab), Queue, JoinableQueue (producers and consumers).
    A lesson shows the notes' code idea, runs one command that shows it (in a scratch directory), and
    says what to expect and why. It exits 0 when the run showed the point, 1 when it did not.

    Example: booking lesson 3

    Example: booking --lang zh lesson 3
    """
    out = Printer()
    if number is None:
        out.line((_("The day-25 notes' lessons, one booking command each:"), "bold"))
        for known in LESSONS:
            title = _("{heading}:").format(heading=_(known.title))  # the title and a colon, the language's own
            gap = "" if title.endswith("\uff1a") else " "  # no space after a full-width colon
            out.line(f"  {known.number}  {title}{gap}", (known.command, "cyan"), indent=7)
        out.line(_("booking lesson N tells one and runs it."))
        return 0
    try:
        known = lesson(number)
    except LookupError:
        raise BadInput(_("lesson {n}: there are lessons 1 to {last}").format(n=number, last=len(LESSONS))) from None
    for i, line in enumerate(intro(known)):
        out.line((line, "bold") if i == 0 else line)
    out.line("")
    if known.args:
        simulate = ctx.find_root().command.get_command(ctx.find_root(), "simulate")  # type: ignore[attr-defined]
        with tempfile.TemporaryDirectory(prefix="booking-lesson-") as scratch:
            args = [*known.args, "--store", str(Path(scratch) / "db.json")]
            code = simulate.main(args, prog_name="booking simulate", standalone_mode=False, obj=ctx.obj)
        shown = code == known.expect
    else:
        shown, code = _daemons(out), 1
    out.line("")
    out.line(why(known))
    if not shown:
        out.line(
            (
                _("This run did not show the lesson's point: exit {code}, not {expect}.").format(
                    code=code, expect=known.expect
                ),
                "bold red",
            )
        )
        return 1
    return 0


def _daemons(out: Printer) -> bool:
    """The notes' daemon, run for real: whether every daemon buyer ended with its parent, none finished."""
    from booking.processes.daemon import SLEEP_S, run_daemons

    ran = run_daemons()
    n = len(ran.pids)
    out.line(
        _("the parent starts {n} daemon buyers (each sleeps {s} s), and its code ends").format(n=n, s=f"{SLEEP_S:g}")
    )
    out.line(_("the parent ended after {ms} ms").format(ms=f"{ran.parent_s * 1000:.0f}"))
    ended = n - len(ran.alive_after)
    out.line(
        _("{ended} of {n} daemon buyers ended with it; {finished} finished its sleep").format(
            ended=ended, n=n, finished=ran.finished
        )
    )
    return n > 0 and not ran.alive_after and ran.finished == 0 and ran.exitcode == 0
