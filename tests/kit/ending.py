"""Purchase functions that end their process instead of buying (tests/test_verdicts.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def exit_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    sys.exit(3)


def interrupt_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    raise KeyboardInterrupt
