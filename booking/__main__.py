"""`python -m booking` and the `booking` command: the CLI, with start-up that a signal ends quietly."""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    # Until the CLI takes signals over (booking/cli/exits.py), one that lands while Python imports booking
    # ends the command with one line and 128 + its number, not a KeyboardInterrupt traceback.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _starting)
    from booking.cli import run

    run()


def _starting(signum: int, _frame: object) -> None:
    sys.stderr.write(f"booking: interrupted by {signal.Signals(signum).name} while starting\n")
    os._exit(128 + signum)


if __name__ == "__main__":
    main()
