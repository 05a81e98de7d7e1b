"""What a pause did (--pause-buyer), as data: who was stopped, whether its lease lapsed, who took the lock
then, and which ticket both sold (or whether the store refused the late write). Words: render/leases.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from booking.history import Attempt, History, Outcome, Paused


@dataclass(frozen=True)
class LeaseLost:
    """The paused holder's lease expired while it was stopped, and another buyer took the lock."""

    expired_at: float  # seconds since the run started: when the holder's lease ran out
    taker: int | None  # the first buyer to take the lock after it (None: nobody did)
    taken_at: float | None
    sold_twice: list[tuple[int, int]] = field(default_factory=list)  # (ticket, the other buyer who sold it)
    refused: bool = False  # the holder's late write was refused (a fencing token)


@dataclass(frozen=True)
class PauseStory:
    buyer: int
    point: str
    stopped_at: float
    resumed_at: float | None
    lease_s: float | None  # the lease's time to live; None: the strategy holds no lease, nothing expires
    lost: LeaseLost | None  # None: the lease outlived the pause, or there was none
    longest_wait_s: float  # the others' longest wait for the lock


def pause_stories(history: History, lease_s: float | None) -> list[PauseStory]:
    """One story per pause: from the history's times alone (a pure function)."""
    return [_story(p, history.attempts, lease_s) for p in history.pauses]


def _story(p: Paused, attempts: list[Attempt], lease_s: float | None) -> PauseStory:
    others = [a for a in attempts if a.buyer != p.buyer]
    held = next(
        (a for a in attempts if a.buyer == p.buyer and a.t_start <= p.t_stopped <= max(a.t_end, a.t_start)), None
    )
    waited = max((a.lock_wait_s for a in others), default=0.0)
    lost = None
    if lease_s is not None and held is not None and held.t_acquired is not None:
        expired = held.t_acquired + lease_s
        if p.t_resumed is None or expired < p.t_resumed:
            lost = _lost(held, others, expired)
    return PauseStory(p.buyer, p.point, p.t_stopped, p.t_resumed, lease_s, lost, waited)


def _lost(held: Attempt, others: list[Attempt], expired: float) -> LeaseLost:
    since = held.t_acquired or 0.0
    after = sorted((a for a in others if a.t_acquired is not None and a.t_acquired > since), key=_acquired)
    taker = after[0] if after else None
    if taker is not None and taker.t_acquired is not None:
        # The lease began at the server between the holder's SET and its answer (and Redis counts it in whole
        # milliseconds): it can lapse before t_acquired + lease. Another buyer taking the lock proves it had.
        expired = min(expired, taker.t_acquired)
    twice = []
    if held.outcome is Outcome.OK:
        twice = [(held.ticket, a.buyer) for a in others if a.outcome is Outcome.OK and a.ticket == held.ticket]
    return LeaseLost(
        expired,
        taker.buyer if taker else None,
        taker.t_acquired if taker else None,
        [(t, b) for t, b in twice if t is not None],
        refused=held.outcome is Outcome.CONFLICT,
    )


def _acquired(a: Attempt) -> float:
    return a.t_acquired or 0.0
