"""--step and --step-ms: one run held at each barrier, for a projector (booking/processes/stepper.py); what
comes next is said in the run's live lines."""

from __future__ import annotations

import functools
import sys

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.options.choices import check_range
from booking.processes.stepper import NO_STEPS, Keys, Paced, Stepper
from booking.render.live import EventLines

STEP_DEADLINE_S = 3600.0  # a person takes their time at each barrier: an hour, unless --deadline says otherwise
MAX_STEP_MS = 60_000.0


def stepper(step: bool, step_ms: float | None, live: EventLines | None, unshown: str | None) -> Stepper:
    """The stepper --step or --step-ms asks for (NO_STEPS: neither). `unshown`: the option that keeps the
    run from being shown as it happens (--json, -q, --runs N), whose live lines the steps need."""
    if not step and step_ms is None:
        return NO_STEPS
    if step and step_ms is not None:
        raise BadInput(_("--step and --step-ms: choose one"))
    flag = "--step" if step else "--step-ms"
    if live is None or unshown is not None:
        raise BadInput(_("{flag} shows one run as it happens: not with {option}").format(flag=flag, option=unshown))
    if step_ms is not None:
        check_range("--step-ms", step_ms, 0, MAX_STEP_MS)
        return Paced(step_ms, live.coming)
    if not sys.stdin.isatty():
        raise BadInput(
            _("--step waits for Enter on a terminal, and there is none: --step-ms N paces the run by itself")
        )
    return Keys(functools.partial(live.coming, keys=True), sys.stdin.fileno())
