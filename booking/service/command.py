"""`booking serve` as a command: the CLI builds its options from ServeConfig's fields and calls this."""

from __future__ import annotations

import sys
from typing import Any

from booking.redact import redact
from booking.service.settings import ServeConfig

__all__ = ["ServeConfig", "serve"]


def serve(**options: Any) -> int:
    """The store as an HTTP service, served by worker processes.

    GET /tickets, POST /purchase {"buyer": N}, GET /health, GET /run. Every purchase runs under --lock in
    one of --workers processes: a lock that lives in one process (mp-lock) protects that worker only.
    Runs until Ctrl-C or SIGTERM, then stops every worker (exit 0).

    Example: booking serve --store sqlite:///s.db --lock mp-lock --workers 4 --port 8000
    """
    from booking.service.run import serve as run

    return run(ServeConfig(**options), announce=_announce)


def _announce(line: str) -> None:
    sys.stdout.write(redact(line) + "\n")
    sys.stdout.flush()  # a script waiting for the port reads this line from a pipe
