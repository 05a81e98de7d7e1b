"""The `booking` command."""

from booking.cli.main import app, main, run

__all__ = ["app", "main", "run"]
