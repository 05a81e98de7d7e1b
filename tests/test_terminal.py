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
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def on_terminal(
    *args: str | Path, columns: int = 80, answer: bytes = b"", interrupt_at: str | None = None
) -> tuple[int, str]:
    """Run `python -m booking ARGS` with a pseudo-terminal `columns` wide as its stdin, stdout and stderr
    (`interrupt_at`: once these words are on its screen, Ctrl-C, as a person stops a service)."""
    return _on_terminal([sys.executable, "-m", "booking", *map(str, args)], columns, answer, interrupt_at)


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


def _on_terminal(argv: list[str], columns: int, answer: bytes, interrupt_at: str | None = None) -> tuple[int, str]:
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
    os.close(master)
    code = proc.wait(timeout=120)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")
    return code, text


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
