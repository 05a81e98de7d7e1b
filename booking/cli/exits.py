"""How a command ends: its exit code (DESIGN §7) and, on failure, one line on stderr.

0 OK, 1 an anomaly, 2 bad usage or input, 3 the run could not be carried out; interrupted by a signal:
130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP), with one line saying what finished and where the store was left.
Tracebacks only with --debug (or BOOKING_DEBUG=1).
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer

from booking.cli.lang import usage_error
from booking.errors import BookingError
from booking.files import PATH_ERRNOS
from booking.i18n.lang import _
from booking.processes import signals
from booking.redact import redact

if TYPE_CHECKING:
    from booking.render.live import EventLines


# The optional packages, by the extra that installs them (pyproject.toml): a feature used without its
# extra says what to install, not "unexpected ModuleNotFoundError".
EXTRAS = {
    **dict.fromkeys(
        ("h11", "h2", "hpack", "hyperframe", "httpx", "httpcore", "uvicorn", "hypercorn", "starlette", "anyio"),
        "service",
    ),
    "redis": "redis",
    "pika": "broker",
    "psycopg": "postgres",
    "pymysql": "mysql",
    "matplotlib": "report",
}


def run_command(command: Any, args: list[str]) -> int:
    """Run Typer's command in this process and map whatever it raises to an exit code."""
    state: dict[str, Any] = {"debug": bool(os.environ.get("BOOKING_DEBUG")), "argv": args}
    try:
        with signals.interruptible(cli=True):
            code = command.main(args=args, prog_name="booking", standalone_mode=False, obj=state)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except signals.Interrupted as exc:
        error(str(exc), prefix="")
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        error(_("interrupted"))
        return 130
    except typer.TyperException as exc:  # usage errors: unknown option, not a number, ...
        if _kind(exc) == "NoArgsIsHelpError":  # `booking` (or `booking db`) alone: its help, as click shows it
            sys.stderr.write(exc.format_message() + "\n")
        elif exc.format_message():
            error(usage_error(exc.format_message()) + _goes_first(exc, args))
            _commands(exc)
        return 2 if exc.exit_code == 2 else int(exc.exit_code)
    except BookingError as exc:
        if state["debug"]:
            traceback.print_exc()  # --debug changes what is said, never the exit code
        error(str(exc))
        return exc.exit_code
    except OSError as exc:
        if state["debug"]:
            traceback.print_exc()
        if exc.errno in PATH_ERRNOS:  # the path given is wrong (too long, a link loop): the input's fault
            name = str(exc.filename)
            error(f"{name[:60]}{'...' if len(name) > 60 else ''}: {PATH_ERRNOS[exc.errno]}")
            return 2
        error(
            _("unexpected {kind}: {exc} (run with --debug for the traceback)").format(kind=type(exc).__name__, exc=exc)
        )
        return 3
    except Exception as exc:
        missing = _missing_extra(exc)
        if missing is not None and not state["debug"]:
            error(missing)
            return 3
        stopped = _signal_inside(exc)
        if stopped is not None:  # a signal that landed while Python was making a class (it wraps what it meets)
            error(str(stopped), prefix="")
            return stopped.exit_code
        if state["debug"]:
            traceback.print_exc()
            return 3
        error(
            _("unexpected {kind}: {exc} (run with --debug for the traceback)").format(kind=type(exc).__name__, exc=exc)
        )
        return 3
    return code if isinstance(code, int) else 0


def _missing_extra(exc: Exception) -> str | None:
    """An optional package not installed: the line that says which extra installs it."""
    if not isinstance(exc, ModuleNotFoundError):
        return None
    extra = EXTRAS.get((exc.name or "").partition(".")[0])
    if extra is None:
        return None
    return _("{module} is not installed (it comes with an extra): pip install 'booking-race-lab[{extra}]'").format(
        module=exc.name, extra=extra
    )


def _goes_first(exc: typer.TyperException, args: list[str]) -> str:
    """`booking simulate --lang zh`: an option of booking's own, given after the command: where it goes."""
    ctx = getattr(exc, "ctx", None)
    if _kind(exc) != "NoSuchOption" or ctx is None or ctx.parent is None:
        return ""
    name = str(getattr(exc, "option_name", ""))
    own = next((p for p in ctx.find_root().command.params if name in p.opts), None)
    given = [i for i, a in enumerate(args) if a == name or a.startswith(name + "=")]
    if own is None or not given:
        return ""
    at = given[-1]  # the one after the command
    if getattr(own, "is_eager", False):  # --version: booking's answer, no command
        example = f"booking {name}"
    else:
        flag = "=" in args[at] or getattr(own, "is_flag", False)
        value = [] if flag else args[at + 1 : at + 2] or [str(getattr(own, "metavar", None) or "...")]
        example = " ".join(["booking", args[at], *value, ctx.command_path.partition(" ")[2], "..."])
    return _(" ({name} goes before the command: {example})").format(name=name, example=example)


def _kind(exc: BaseException) -> str:
    """A click exception's class name: Typer ships its own click (typer._click), which may change with it."""
    return type(exc).__name__


def _commands(exc: typer.TyperException) -> None:
    """`booking --lang zh` names no command: after the line, the help that lists them."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and getattr(exc, "message", None) == _("Missing command."):
        sys.stderr.write(ctx.get_help() + "\n")


def _signal_inside(exc: BaseException) -> signals.Interrupted | None:
    """The signal behind `exc`, when Python wrapped it: a handler raises where the signal lands, and a class
    being made at that instant (an import) turns it into "RuntimeError: Error calling __set_name__"."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, signals.Interrupted):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def error(message: str, prefix: str | None = None) -> None:
    said = _("error: ") if prefix is None else prefix
    sys.stderr.write(f"booking: {said}{redact(' '.join(message.split()))}\n")


@contextlib.contextmanager
def shown_when_interrupted(as_json: bool, quiet: bool, live: EventLines | None = None) -> Iterator[None]:
    """A run a signal stopped is shown as far as it went (no verdict); run_command says the one line."""
    from booking.render.run import emit

    try:
        yield
    except signals.Interrupted as exc:
        if exc.result is not None:
            emit(exc.result, as_json, quiet, live)
        raise
