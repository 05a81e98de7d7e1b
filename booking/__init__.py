"""booking: a lab for the ticket-oversell race. See README.md."""

from booking.api import (
    BadInput,
    BookingError,
    CannotRun,
    History,
    RunConfig,
    RunResult,
    Schedule,
    Verdict,
    VerifyResult,
    init_store,
    simulate,
    verify,
    verify_run,
)

__version__ = "0.1.0"

__all__ = [
    "BadInput",
    "BookingError",
    "CannotRun",
    "History",
    "RunConfig",
    "RunResult",
    "Schedule",
    "Verdict",
    "VerifyResult",
    "__version__",
    "init_store",
    "simulate",
    "verify",
    "verify_run",
]
