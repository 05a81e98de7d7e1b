"""booking: a lab for the ticket-oversell race. See README.md and docs/.

This module is the public API, and nothing else: the CLI calls it for every command, and a test or
a notebook can do the same. Every public name is imported here, explicitly, once.
"""

from booking._version import __version__
from booking.compare.cells import Comparison
from booking.compare.matrix import compare_strategies
from booking.errors import BadInput, BookingError, CannotRun
from booking.history import History
from booking.kit.outcomes import DECLINED, Declined
from booking.options.config import Isolation, RunConfig, Schedule
from booking.run.past import verify_run
from booking.run.repeat import Runs, simulate_runs
from booking.run.result import RunResult, VerifyResult
from booking.run.simulate import simulate
from booking.service.run import serve
from booking.service.settings import ServeConfig
from booking.stores import init_store
from booking.stores.dbapi import connect, connect_args
from booking.stores.migrate import downgrade_store, schema_state, upgrade_store
from booking.strategies import strategy_rows
from booking.verdict.verify import Verdict, verify

__all__ = [
    "DECLINED",
    "BadInput",
    "BookingError",
    "CannotRun",
    "Comparison",
    "Declined",
    "History",
    "Isolation",
    "RunConfig",
    "RunResult",
    "Runs",
    "Schedule",
    "ServeConfig",
    "Verdict",
    "VerifyResult",
    "__version__",
    "compare_strategies",
    "connect",
    "connect_args",
    "downgrade_store",
    "init_store",
    "schema_state",
    "serve",
    "simulate",
    "simulate_runs",
    "strategy_rows",
    "upgrade_store",
    "verify",
    "verify_run",
]
