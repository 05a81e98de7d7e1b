"""booking: a lab for the ticket-oversell race. See README.md and docs/.

The public API is booking/api.py: each name imported once, explicitly. This package re-exports it,
importing it when a name is first used rather than here: `python -m booking` imports this package
before anything else, so every command (and every buyer process) would otherwise pay for the whole
API at start, and a signal during that import would find no handler yet.
"""

from __future__ import annotations

import importlib

from booking._version import __version__ as __version__

TYPE_CHECKING = False  # not typing's: this package's import stays as small as it can be
if TYPE_CHECKING:
    from booking.api import *  # noqa: F403


def __getattr__(name: str) -> object:
    api = importlib.import_module("booking.api")
    if name == "__all__":
        return [*sorted(n for n in vars(api) if not n.startswith("_")), "__version__"]
    if name.startswith("_") or not hasattr(api, name):
        raise AttributeError(f"module 'booking' has no attribute {name!r}")
    return getattr(api, name)
