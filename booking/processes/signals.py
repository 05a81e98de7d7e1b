"""Signals: whatever ends a run (SIGINT, SIGTERM, SIGHUP, the parent's own death), no child outlives it.

The parent. `interruptible()` (the CLI holds it for every command) turns SIGINT, SIGTERM and SIGHUP
into `Interrupted`, raised where the parent stands: before any child exists that is safe, and a
half-done set-up is rolled back. While children run, `deferred()` only records the signal and
wakes the crowd's selector through a pipe: the crowd stops its children, keeps what they reported,
and the run ends with one line and exit 128 + the signal's number (130, 143, 129). Each fork
happens with these signals blocked, so none lands between fork and the child's own set-up.

A child (`run_child` is every buyer's and seller's process target). SIGINT and SIGHUP are the
parent's to decide (a terminal sends them to the whole process group): ignored. SIGTERM keeps its
default action, a silent death. PR_SET_PDEATHSIG makes the kernel kill the child when the parent
dies, even by SIGKILL; and a child whose parent is gone exits without a traceback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from booking.i18n import lang
from booking.i18n.lang import _
from booking.processes import teardown

INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
ORPHAN_CHECK_S = 0.5  # where PR_SET_PDEATHSIG does not exist: how often a child looks for its parent


class Interrupted(BaseException):
    """A signal ended the command. A BaseException like KeyboardInterrupt, so `except Exception` lets it
    through; not a KeyboardInterrupt, which Typer would turn into a silent exit 130 whatever the signal.

    `result` is the run so far when the signal came while buyers ran (booking.run.result.RunResult).
    """

    def __init__(self, signum: int, message: str = "", result: Any = None) -> None:
        self.signum = signum
        self.result = result
        self.said = bool(message)  # False: raised by the handler, where it landed; the caller may say more
        if _watch is not None:  # the signal is being acted on: one swallowed earlier is not lost
            _watch.lost = None
        super().__init__(message or _("interrupted by {signal}").format(signal=name(signum)))

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class KeyboardInterrupted(Interrupted, KeyboardInterrupt):
    """SIGINT when booking is used as a library (the `race` fixture): a KeyboardInterrupt too, so pytest
    and the caller stop as they do for Ctrl-C."""


def interrupted(signum: int, message: str = "", result: Any = None) -> Interrupted:
    """The exception for `signum`: under the CLI never a KeyboardInterrupt (Typer would swallow it)."""
    kind = KeyboardInterrupted if signum == signal.SIGINT and not _cli else Interrupted
    return kind(signum, message, result)


def name(signum: int) -> str:
    return signal.Signals(signum).name


class _Watch:
    """What the handlers share with the parent's code: the first signal seen, and the pipe that says so."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.deferring = 0  # > 0: children run; record the signal, do not raise
        self.lost: Interrupted | None = None  # raised inside a finalizer, which swallowed it
        self.reader, self._writer = os.pipe()
        os.set_blocking(self._writer, False)

    def handle(self, signum: int, _frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        if self.deferring:
            with contextlib.suppress(OSError):  # the pipe is full: it is readable already
                os.write(self._writer, b"!")
            return
        raise interrupted(signum)

    def unraisable(self, previous: Callable[[Any], None]) -> Callable[[Any], None]:
        """A hook for sys.unraisablehook. A signal that lands while the interpreter runs a finalizer or a
        weakref callback (an import's module lock has one) raises there, and the interpreter swallows it
        and prints a traceback: the signal is recorded all the same (`pending()`), so nothing is printed
        and the block's end raises it if nothing acted on it since."""

        def hook(unraisable: Any) -> None:
            if isinstance(unraisable.exc_value, Interrupted):
                self.lost = unraisable.exc_value
                return
            previous(unraisable)

        return hook

    def close(self) -> None:
        os.close(self.reader)
        os.close(self._writer)


_watch: _Watch | None = None
_cli = False  # the command line holds the handlers (exits.py)


@contextlib.contextmanager
def interruptible(cli: bool = False) -> Iterator[None]:
    """For the block: SIGINT, SIGTERM and SIGHUP raise Interrupted (or are recorded, inside `deferred()`).

    Only the main thread can set signal handlers; elsewhere the block runs with whatever is there.
    """
    global _watch, _cli
    if _watch is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    watch = _Watch()
    hook = sys.unraisablehook
    sys.unraisablehook = watch.unraisable(hook)
    previous = {s: signal.signal(s, watch.handle) for s in INTERRUPTS}
    _watch, _cli = watch, cli
    try:
        yield
        if watch.lost is not None:  # swallowed where it landed, and nothing since has stopped the command
            raise watch.lost
    finally:
        _watch, _cli = None, False
        for s, handler in previous.items():
            signal.signal(s, handler)
        sys.unraisablehook = hook
        watch.close()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """For the block (children are running): a signal is recorded and wakes `wake_fd()`, never raised.

    Installs the handlers itself when no `interruptible()` block is around it (booking used as a library).
    """
    with interruptible():
        if _watch is None:  # not the main thread: nothing can be caught here
            yield
            return
        watch = _watch
        watch.deferring += 1
        try:
            yield
        finally:
            watch.deferring -= 1


def pending() -> int | None:
    """The signal that asked the command to stop, if one came."""
    return _watch.signum if _watch is not None else None


def wake_fd() -> int | None:
    """A file descriptor that becomes readable when a signal comes (for a selector)."""
    return _watch.reader if _watch is not None else None


@contextlib.contextmanager
def forking(method: str = "fork") -> Iterator[None]:
    """Block SIGINT, SIGTERM and SIGHUP around starting a child: the child starts with them blocked, and
    `run_child` unblocks them once its own handlers are set. A signal that comes meanwhile stays pending
    and is delivered to the parent when the block ends: never lost.

    Nothing is ignored for a forked child: the mask is enough. A child started by spawn or forkserver is
    a fresh interpreter, which inherits the mask but unblocks SIGINT at its start-up (SIGHUP and SIGTERM
    stay blocked): only SIGINT is ignored for it while it starts (an ignored disposition is inherited and
    Python then installs no KeyboardInterrupt handler), so a terminal's Ctrl-C during its imports is no
    traceback. Ignoring discards a pending signal, so only when none is pending and this thread is the
    process's only one (the mask is a thread's: another thread would receive the signal meanwhile)."""
    _load_prctl()  # in the parent, once: every child inherits it instead of loading libc again
    old = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)
    quiet = (signal.SIGINT,) if method != "fork" else ()
    alone = threading.active_count() == 1 and not set(quiet) & signal.sigpending()
    before = {s: signal.signal(s, signal.SIG_IGN) for s in quiet} if alone else {}
    try:
        yield
    finally:
        for signum, handler in before.items():  # blocked all along: nothing arrived unhandled
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def run_child(parent: int, language: str, target: Callable[..., None], *args: Any) -> None:
    """A buyer's or seller's process target: the signal set-up of a child and its run's language (a spawned
    child does not inherit the parent's choice), then `target(*args)`."""
    lang.use(language)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTS)
    adopted = teardown.adopt_orphans()  # what your code forks, setsid or not, stays below this child
    try:
        target(*args)
    except BaseException:
        if _orphaned(parent):
            os._exit(1)  # the parent is gone: nobody to report to, and nothing to print
        raise
    finally:
        if adopted:
            teardown.end_descendants()


def _orphaned(parent: int) -> bool:
    """The run's parent is gone. Under forkserver a child's parent process is the fork server (which
    exits when the run's parent does, and the kernel's death signal then follows), so the run's parent
    is looked for by its pid as well."""
    if os.getppid() == parent:
        return False
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's (the pid was reused): the parent is gone
        return True
    # A parent killed before this child asked for the death signal is a zombie until it is reaped, and
    # a zombie answers kill(0): the child, already re-parented, would sell on as an orphan.
    return _zombie(parent)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):  # no /proc (not Linux): the signal check above is all there is
        return False


_prctl: Any = None  # libc's prctl, on Linux


def _load_prctl() -> None:
    global _prctl
    if _prctl is None and sys.platform.startswith("linux"):
        import ctypes

        _prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with(parent: int) -> None:
    """Ask the kernel for SIGKILL when the parent dies; where that does not exist, watch for it."""
    _load_prctl()
    if _prctl is not None and _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
        if _orphaned(parent):  # the parent died before the request was made
            os._exit(1)
        return
    threading.Thread(target=_orphan_watch, args=(parent,), name="booking-orphan-watch", daemon=True).start()


def _orphan_watch(parent: int) -> None:
    while True:
        if _orphaned(parent):
            os._exit(1)
        threading.Event().wait(ORPHAN_CHECK_S)
