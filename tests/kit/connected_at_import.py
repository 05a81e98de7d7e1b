"""A module that opens a database connection at import, as some scripts do: forked buyers would share it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

DB = sqlite3.connect(":memory:")  # made at import: one file handle every forked buyer would inherit


def buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    point("after-read")
    return buyer
