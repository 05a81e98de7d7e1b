"""`booking serve` as a command: its options are ServeConfig's fields (the CLI builds them); its lines fit
the terminal."""

from __future__ import annotations

import sys
from typing import Any

from booking.redact import redact
from booking.render.text import Printer
from booking.service.settings import ServeConfig


def serve_command(**options: Any) -> int:
    """The store as an HTTP service, served by worker processes.

    GET /tickets, POST /purchase {"buyer": N}, GET /health, GET /run. Every purchase runs under --lock in
    one of --workers processes: a lock that lives in one process (mp-lock) protects that worker only.
    Runs until Ctrl-C or SIGTERM, then stops every worker (exit 0).

    Example: booking serve --store sqlite:///s.db --lock mp-lock --workers 4 --port 8000
    """
    import booking

    return booking.serve(ServeConfig(**options), announce=announce)


def announce(line: str) -> None:
    """A line of the service's: wrapped to a terminal's width, as every run's line is; on a pipe whole, one
    line (a script waiting for the port reads it)."""
    if sys.stdout.isatty():
        Printer().line(line)
    else:
        sys.stdout.write(redact(line) + "\n")
    sys.stdout.flush()
