"""booking: a lab for the ticket-oversell race. See README.md.

The public API is imported lazily: `booking simulate` should not pay for the comparison
machinery (or anything else it does not use) at every start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "BadInput": "booking.errors",
    "BookingError": "booking.errors",
    "CannotRun": "booking.errors",
    "History": "booking.history",
    "RunConfig": "booking.config",
    "Schedule": "booking.config",
    "RunResult": "booking.simulation",
    "simulate": "booking.simulation",
    "Verdict": "booking.verify",
    "verify": "booking.verify",
    "VerifyResult": "booking.api",
    "compare_strategies": "booking.api",
    "init_store": "booking.api",
    "verify_run": "booking.api",
}

__all__ = [*sorted(_EXPORTS), "__version__"]

if TYPE_CHECKING:
    from booking.api import (
        VerifyResult as VerifyResult,
    )
    from booking.api import (
        compare_strategies as compare_strategies,
    )
    from booking.api import (
        init_store as init_store,
    )
    from booking.api import (
        verify_run as verify_run,
    )
    from booking.config import RunConfig as RunConfig
    from booking.config import Schedule as Schedule
    from booking.errors import BadInput as BadInput
    from booking.errors import BookingError as BookingError
    from booking.errors import CannotRun as CannotRun
    from booking.history import History as History
    from booking.simulation import RunResult as RunResult
    from booking.simulation import simulate as simulate
    from booking.verify import Verdict as Verdict
    from booking.verify import verify as verify


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'booking' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
