"""Your code, looked at in a process of its own: booking's parent never imports it.

An import can do anything: end the interpreter (`os._exit`), block forever, fork, print. Done in the
parent, any of those ends, hangs or corrupts the run (its --json). So the parent asks a short-lived
child, in a session of its own, to import and check your functions; it waits for the answer or the
child's end, at most the run's deadline, then ends the child's whole process group. What the child
prints goes to stderr, never to booking's stdout.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from booking.errors import BadInput, CannotRun
from booking.i18n.lang import _
from booking.i18n.words import exit_status

REAP_S = 1.0  # after SIGKILL: how long the child's exit may take to be seen


def check_apart(method: str, deadline_s: float, what: str, check: Callable[..., object], *args: Any) -> None:
    """Run `check(*args)` (it raises BadInput to refuse) in a child started by `method`, within `deadline_s`.

    BadInput from the check is raised here as it was said there; a child that ends without answering
    (your import called os._exit) or does not answer by the deadline (your import blocks) is CannotRun,
    named by `what`."""
    _apart(method, deadline_s, what, True, _checked, check, *args)


def _checked(check: Callable[..., object], *args: Any) -> None:
    """The check, answering nothing: what it returns (your function) must not travel back, or the parent
    would import your module to unpickle it."""
    check(*args)


def call_apart(method: str, deadline_s: float, what: str, call: Callable[..., object], *args: Any) -> Any:
    """`call(*args)` in a child, as check_apart does, and the plain value it returns (your --setup seeding
    your tables, your --stock counting them). BadInput and CannotRun it raises are raised here as said
    there; any other exception is CannotRun naming `what`: your code failed, the run cannot be judged."""
    return _apart(method, deadline_s, what, False, call, *args)


def _apart(method: str, deadline_s: float, what: str, importing: bool, call: Callable[..., object], *args: Any) -> Any:
    # fork where there is one: nothing of your code is in this process to be inherited, and it is quick
    ctx: Any = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else method)
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(writer, call, args), name="booking-check", daemon=True)
    child.start()
    writer.close()
    answer: tuple[str, Any] | None = None
    try:
        ready = wait([reader, child.sentinel], timeout=deadline_s)
        if reader in ready:
            with contextlib.suppress(EOFError, OSError):
                answer = reader.recv()
        if answer is None and not ready:
            said = (
                _("{what}: no answer within {t:g} s (the deadline); does its import wait for something?")
                if importing
                else _("{what}: no answer within {t:g} s (the deadline)")
            )
            raise CannotRun(said.format(what=what, t=deadline_s))
    finally:
        reader.close()
        code = _end(child)
    if answer is None:
        said = _("{what}: its import ended the process ({status}) before booking could check it")
        raise CannotRun(said.format(what=what, status=exit_status(code)))
    if answer[0] == "bad":
        raise BadInput(answer[1])
    if answer[0] == "failed":
        raise CannotRun(answer[1])
    return answer[1]


def _end(child: Any) -> int | None:
    """The child and whatever it started in its session: gone, and reaped. Returns how it ended."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGKILL)
    child.join(REAP_S)
    code: int | None = child.exitcode
    with contextlib.suppress(ValueError):
        child.close()
    return code


def _child(writer: Connection, check: Callable[..., object], args: tuple[Any, ...]) -> None:
    os.setsid()  # its own session and process group: ended as a whole, never the terminal's
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
    sys.stdout.flush()
    os.dup2(2, 1)  # what your import prints is not booking's output
    answer: tuple[str, Any]
    try:
        answer = ("ok", check(*args))
    except BadInput as exc:
        answer = ("bad", str(exc))
    except CannotRun as exc:
        answer = ("failed", str(exc))
    writer.send(answer)
    writer.close()
