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
    ctx: Any = _context(method)
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(writer, call, args), name="booking-check", daemon=True)
    child.start()
    writer.close()
    try:
        answer, ready = _answer(reader, child, deadline_s)
        if answer is None and not ready:
            raise _no_answer(what, deadline_s, importing)
    finally:
        reader.close()
        code = _end(child)
    return _said(answer, what, code)


class Kept:
    """A child kept for many calls: a search's --setup and --stock, called every schedule, import your
    module once, not once a call. It is protected as a short-lived child is: its own session, a deadline
    per call; a call not answered by the deadline, or a child that ended, ends it, and the next call
    starts another."""

    def __init__(self, method: str) -> None:
        self._method = method
        self._child: Any = None
        self._conn: Connection | None = None

    def call(self, deadline_s: float, what: str, call: Callable[..., object], *args: Any) -> Any:
        if self._child is None or self._conn is None:
            self._conn, theirs = _context(self._method).Pipe()
            self._child = _context(self._method).Process(
                target=_serve, args=(theirs,), name="booking-kept", daemon=True
            )
            self._child.start()
            theirs.close()
        with contextlib.suppress(OSError):  # the child is gone: said below, as an unanswered call
            self._conn.send((call, args))
        answer, ready = _answer(self._conn, self._child, deadline_s)
        if answer is None:
            code = self.close()
            if not ready:
                raise _no_answer(what, deadline_s, False)
            return _said(None, what, code)
        return _said(answer, what, None)

    def close(self) -> int | None:
        """End the child (at the end of the search, or after a call it did not answer); how it ended."""
        if self._child is None or self._conn is None:
            return None
        self._conn.close()
        code = _end(self._child)
        self._child = self._conn = None
        return code


def _context(method: str) -> Any:
    # fork where there is one: nothing of your code is in this process to be inherited, and it is quick
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else method)


def _answer(conn: Connection, child: Any, deadline_s: float) -> tuple[tuple[str, Any] | None, list[Any]]:
    """The child's answer (None: none came), and what was ready when waiting ended ([]: the deadline)."""
    ready = wait([conn, child.sentinel], timeout=deadline_s)
    if conn in ready:
        with contextlib.suppress(EOFError, OSError):
            return conn.recv(), ready
    return None, ready


def _no_answer(what: str, deadline_s: float, importing: bool) -> CannotRun:
    said = (
        _("{what}: no answer within {t:g} s (the deadline); does its import wait for something?")
        if importing
        else _("{what}: no answer within {t:g} s (the deadline)")
    )
    return CannotRun(said.format(what=what, t=deadline_s))


def _said(answer: tuple[str, Any] | None, what: str, code: int | None) -> Any:
    """The value the child answered, or what it raised, raised here; none: the child ended first."""
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
    _alone()
    writer.send(_done(check, args))
    writer.close()


def _serve(conn: Connection) -> None:
    """A kept child: answer each call the parent sends until it closes its end."""
    _alone()
    while True:
        try:
            call, args = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_done(call, args))


def _alone() -> None:
    os.setsid()  # its own session and process group: ended as a whole, never the terminal's
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
    sys.stdout.flush()
    os.dup2(2, 1)  # what your import prints is not booking's output


def _done(check: Callable[..., object], args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return ("ok", check(*args))
    except BadInput as exc:
        return ("bad", str(exc))
    except CannotRun as exc:
        return ("failed", str(exc))
