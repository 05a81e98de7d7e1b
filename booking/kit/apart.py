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
    # fork where there is one: nothing of your code is in this process to be inherited, and it is quick
    ctx: Any = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else method)
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(writer, check, args), name="booking-check", daemon=True)
    child.start()
    writer.close()
    answer: tuple[str, str] | None = None
    try:
        ready = wait([reader, child.sentinel], timeout=deadline_s)
        if reader in ready:
            with contextlib.suppress(EOFError, OSError):
                answer = reader.recv()
        if answer is None and not ready:
            said = _("{what}: no answer within {t:g} s (the deadline); does its import wait for something?")
            raise CannotRun(said.format(what=what, t=deadline_s))
    finally:
        reader.close()
        code = _end(child)
    if answer is None:
        said = _("{what}: its import ended the process ({status}) before booking could check it")
        raise CannotRun(said.format(what=what, status=exit_status(code)))
    if answer[0] == "bad":
        raise BadInput(answer[1])


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
    answer: tuple[str, str]
    try:
        check(*args)
        answer = ("ok", "")
    except BadInput as exc:
        answer = ("bad", str(exc))
    writer.send(answer)
    writer.close()
