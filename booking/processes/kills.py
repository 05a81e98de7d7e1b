"""Fault injection: which process dies where, and how a process dies exactly at its point.

The process does not wait to be killed: at the armed point it sends everything it has to report,
lets go of every queue it shares (a process killed while a queue's feeder holds the queue's lock
would silence everyone else), announces `Dying` and sends itself SIGKILL. So the kill lands exactly
at the point, holding whatever the process holds there: a lock, a transaction, a half-written file.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass

from booking.i18n.lang import _
from booking.kit import points
from booking.options.config import RunConfig


@dataclass(frozen=True)
class Kill:
    """Die at `point` during attempt number `attempt` (counted from 0)."""

    point: str
    attempt: int = 0


def missed(point: str, buyer: int, passed: tuple[str, ...]) -> str:
    """A --kill-at the buyer never reached, with the points it did pass."""
    return _("--kill-at {point}: buyer {n} never reached it (it passed: {passed})").format(
        point=point, n=buyer, passed=", ".join(passed) or "no point"
    )


def plan_kills(config: RunConfig, seed: int, kill_points: tuple[str, ...]) -> dict[int, Kill]:
    """Which buyers die where: --kill-buyer at --kill-at, and --chaos at seeded random points and attempts."""
    kills: dict[int, Kill] = {}
    if config.kill_buyer is not None:
        kills[config.kill_buyer] = Kill(config.kill_point)
    if config.chaos:
        rng = random.Random(seed)
        per_buyer = config.attempts if not config.until_sold_out else max(1, config.tickets // config.buyers)
        for b in range(1, config.buyers + 1):
            if rng.random() < config.chaos and b not in kills:
                kills[b] = Kill(rng.choice(kill_points), rng.randrange(per_buyer))
    return kills


def arm(kill: Kill, let_go: Callable[[], None], announce: Callable[[str], None]) -> None:
    """Arm the point for this process: when it is passed, flush and release, announce, die."""

    def die(point: str) -> None:
        let_go()
        announce(point)
        os.kill(os.getpid(), signal.SIGKILL)

    points.arm(kill.point, die)
