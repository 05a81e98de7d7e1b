"""On a real terminal 80 columns wide (a pseudo-terminal), no line booking prints is wider, and no fact is cut."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def on_terminal(
    *args: str | Path,
    columns: int = 80,
    answer: bytes = b"",
    interrupt_at: str | None = None,
    respond: Callable[[str], bytes | None] | None = None,
) -> tuple[int, str]:
    """Run `python -m booking ARGS` with a pseudo-terminal `columns` wide as its stdin, stdout and stderr
    (`interrupt_at`: once these words are on its screen, Ctrl-C, as a person stops a service; `respond`:
    shown the screen so far after each output, it may type something)."""
    argv = [sys.executable, "-m", "booking", *map(str, args)]
    return _on_terminal(argv, columns, answer, interrupt_at, respond)


SCREENS = """
import sys
from booking.cli import main
for argv in {argvs!r}:
    code = main(argv)
    print("{mark}", code, flush=True)
"""
MARK = "--- screen ends, exit code"


def screens_on_terminal(*argvs: list[str], columns: int = 80) -> list[tuple[int, str]]:
    """Several commands' screens from one process on one pseudo-terminal (one start-up, not one per screen)."""
    _, text = _on_terminal([sys.executable, "-c", SCREENS.format(argvs=list(argvs), mark=MARK)], columns, b"")
    parts = text.split(MARK)  # screen, then " CODE\n" + the next screen, ..., then " CODE\n"
    screens = [parts[0]] + [part.split("\n", 1)[1] for part in parts[1:-1]]
    codes = [int(part.split("\n", 1)[0]) for part in parts[1:]]
    return list(zip(codes, screens, strict=True))


def _on_terminal(
    argv: list[str],
    columns: int,
    answer: bytes,
    interrupt_at: str | None = None,
    respond: Callable[[str], bytes | None] | None = None,
) -> tuple[int, str]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"  # colours on: what a student sees
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    if answer:
        os.write(master, answer)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
        if interrupt_at is not None and interrupt_at.encode() in b"".join(chunks):
            proc.send_signal(signal.SIGINT)
            interrupt_at = None
        if respond is not None and (typed := respond(_screen(chunks))):
            os.write(master, typed)
    os.close(master)
    code = proc.wait(timeout=120)
    return code, _screen(chunks)


def _screen(chunks: list[bytes]) -> str:
    return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_a_run_fits_80_columns_with_every_digit(tmp_path: Path) -> None:
    """The issue's run: two-digit tickets, lanes for every buyer involved, all within 80 columns."""
    store = tmp_path / "a-rather-long-directory-name-for-a-store" / "db.json"
    store.parent.mkdir()
    code, text = on_terminal(
        "simulate", "--no-lock", "--buyers", 8, "--tickets", 12, "--until-sold-out", "--store", store
    )
    assert code == 1, text
    assert widest(text) <= 80, text
    flat = " ".join(text.split())
    assert "write 11, ticket #12" in text  # a lane step, whole
    assert "writes count=11: bought ticket #12" in flat
    assert "verdict: UNSAFE" in text and "time  buyer 1" in text


SCREENS_80 = [["-h"], ["db", "-h"], ["simulate", "-h"], ["verify", "-h"], ["compare", "-h"], ["db", "downgrade", "-h"]]


def test_help_and_tables_fit_80_columns() -> None:
    screens = screens_on_terminal(*SCREENS_80, ["strategies"])
    assert len(screens) == len(SCREENS_80) + 1
    for args, (code, text) in zip([*SCREENS_80, ["strategies"]], screens, strict=True):
        assert code == 0 and widest(text) <= 80, (args, text)
        assert args == ["strategies"] or "…" not in text  # help is never cut short (descriptions may say "…")
        summaries = [line for line in text.splitlines() if not line.startswith("Usage:")]
        assert not any(line.endswith("...") for line in summaries), args  # nor a command's summary in a list
    assert "postgresql://user:pw@host/db" in screens[2][1] and "mysql://user:pw@host/db" in screens[2][1]


def test_db_downgrade_asks_on_a_terminal(tmp_path: Path) -> None:
    """No: nothing changes (exit 2). Yes: the tables go."""
    import booking

    url = f"sqlite:///{tmp_path / 't.db'}"
    booking.init_store(url, 3)
    code, text = on_terminal("db", "downgrade", "--store", url, "base", answer=b"n\n")
    assert code == 2 and "every ticket and sale in them. Go ahead? [y/N]" in " ".join(text.split())
    assert booking.schema_state(url).revision is not None
    code, text = on_terminal("db", "downgrade", "--store", url, "base", answer=b"y\n")
    assert code == 0, text
    assert booking.schema_state(url).revision is None


def test_the_service_banner_fits_80_columns(tmp_path: Path) -> None:
    """`booking serve` on a terminal: its first line wrapped like every other (80 columns cut a word), the
    URL whole; Ctrl-C stops it (exit 0)."""
    store = tmp_path / "a-rather-long-directory-name-for-a-store" / "s.db"
    store.parent.mkdir()
    code, text = on_terminal(
        "serve", "--store", store, "--host", "127.0.0.1", "--port", 0, "--workers", 1, interrupt_at="serving"
    )
    assert code == 0, text
    assert widest(text) <= 80, text
    assert re.search(r"listening on http://127\.0\.0\.1:\d+\n", text), text
    assert "1 ticket, strategy file-lock (one host), 1 worker, listening on" in " ".join(text.split())


class Typist:
    """A person at --step's prompts: once a prompt is whole on the screen, types the next line, and keeps
    the screen as it was then."""

    def __init__(self, *lines: bytes) -> None:
        self.lines = list(lines)
        self.screens: list[str] = []

    def __call__(self, screen: str) -> bytes | None:
        flat = " ".join(screen.split())
        if self.lines and flat.count("Enter to go on, q to stop") > len(self.screens):
            self.screens.append(flat)
            return self.lines.pop(0)
        return None


START_OPENS = "-- all 3 buyers are started and ready; the start barrier opens"
WINDOW_OPENS = "-- all 3 buyers have read; the barrier opens: now they write"


def test_step_holds_each_barrier_until_enter(tmp_path: Path) -> None:
    """What the screen showed at each prompt proves the hold: no barrier opened before its Enter."""
    person = Typist(b"\n", b"\n")
    args = ("simulate", "--buyers", 3, "--no-lock", "--step", "--store", tmp_path / "db.json")
    code, text = on_terminal(*args, respond=person)
    assert code == 1, text
    at_start, at_window = person.screens
    assert "next: all 3 buyers are started and ready; the start barrier opens" in at_start
    assert START_OPENS not in at_start and "reads count=1" not in at_start
    assert START_OPENS in at_window and at_window.count("reads count=1") == 3
    assert "next: all 3 buyers have read; the barrier opens: now they write" in at_window
    assert WINDOW_OPENS not in at_window and "writes count=" not in at_window
    flat = " ".join(text.split())
    assert flat.index(WINDOW_OPENS) < flat.index("writes count=0") and "verdict: UNSAFE" in flat
    assert widest(text) <= 80, text


def test_q_stops_the_run_as_ctrl_c_does(tmp_path: Path) -> None:
    """q at the window: exit 130 and the one line of an interrupted run; nobody wrote. The terminal closes
    only once every process holding it has exited: no buyer is left behind."""
    person = Typist(b"\n", b"q\n")
    args = ("simulate", "--buyers", 3, "--no-lock", "--step", "--store", tmp_path / "db.json")
    code, text = on_terminal(*args, respond=person)
    assert code == 130, text
    said = [line for line in text.splitlines() if line.startswith("booking: ")]
    assert len(said) == 1 and said[0].startswith("booking: interrupted by SIGINT after "), text
    flat = " ".join(text.split())
    assert "0 of 3 buyers finished, 0 tickets sold" in flat and "left with 1 ticket" in flat
    assert START_OPENS in flat and WINDOW_OPENS not in flat and "writes count=" not in flat
    assert "verdict" not in flat
