"""booking: a lab for the ticket-oversell race. See README.md.

This module is the public API, and nothing else: the CLI calls it for every command, and a test or
a notebook can do the same. Names are imported lazily: `booking simulate` should not pay at every
start for the comparison machinery, SQLAlchemy or anything else it does not use.
"""

from __future__ import annotations

import importlib

# Not `from typing import ...`: `python -m booking` imports this package before booking/__main__.py
# can install its quiet signal handlers, and typing's import is most of that window (mypy reads the
# name TYPE_CHECKING as typing's).
TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    # a run, and its verdict
    "RunConfig": "booking.config",
    "Schedule": "booking.config",
    "Isolation": "booking.config",
    "simulate": "booking.simulation",
    "verify_run": "booking.past",
    "simulate_runs": "booking.repeat",
    "Runs": "booking.repeat",
    "Declined": "booking.outcomes",
    "DECLINED": "booking.outcomes",
    "RunResult": "booking.result",
    "VerifyResult": "booking.result",
    "verify": "booking.verify",
    "Verdict": "booking.verify",
    "History": "booking.history",
    # stores and strategies
    "init_store": "booking.stores",
    "schema_state": "booking.stores.migrate",
    "upgrade_store": "booking.stores.migrate",
    "downgrade_store": "booking.stores.migrate",
    "strategy_rows": "booking.strategies",
    "connect": "booking.dbapi",
    "connect_args": "booking.dbapi",
    # the service over HTTP
    "serve": "booking.service.run",
    "ServeConfig": "booking.service.settings",
    # comparisons
    "compare_strategies": "booking.compare.matrix",
    "Comparison": "booking.compare.cells",
    # errors: exit 2 and exit 3
    "BookingError": "booking.errors",
    "BadInput": "booking.errors",
    "CannotRun": "booking.errors",
}

__all__ = [*sorted(_EXPORTS), "__version__"]

if TYPE_CHECKING:
    from typing import Any

    from booking.compare.cells import Comparison as Comparison
    from booking.compare.matrix import compare_strategies as compare_strategies
    from booking.config import Isolation as Isolation
    from booking.config import RunConfig as RunConfig
    from booking.config import Schedule as Schedule
    from booking.dbapi import connect as connect
    from booking.dbapi import connect_args as connect_args
    from booking.errors import BadInput as BadInput
    from booking.errors import BookingError as BookingError
    from booking.errors import CannotRun as CannotRun
    from booking.history import History as History
    from booking.outcomes import DECLINED as DECLINED
    from booking.outcomes import Declined as Declined
    from booking.past import verify_run as verify_run
    from booking.repeat import Runs as Runs
    from booking.repeat import simulate_runs as simulate_runs
    from booking.result import RunResult as RunResult
    from booking.result import VerifyResult as VerifyResult
    from booking.service.run import serve as serve
    from booking.service.settings import ServeConfig as ServeConfig
    from booking.simulation import simulate as simulate
    from booking.stores import init_store as init_store
    from booking.stores.migrate import downgrade_store as downgrade_store
    from booking.stores.migrate import schema_state as schema_state
    from booking.stores.migrate import upgrade_store as upgrade_store
    from booking.strategies import strategy_rows as strategy_rows
    from booking.verify import Verdict as Verdict
    from booking.verify import verify as verify


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'booking' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
