"""A pause's story in words (--pause-buyer): a lease lost and the ticket sold twice, a late write refused,
or a lock with no lease that the others only waited for. The facts: booking/verdict/leases.py."""

from __future__ import annotations

from booking.i18n.lang import _
from booking.render.text import Printer
from booking.verdict.leases import PauseStory


def ms(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds * 1000:.0f} ms"


def pause_lines(story: PauseStory, strategy: str) -> list[str]:
    """What happened while the buyer was stopped, in plain words."""
    stopped = _("buyer {n} was stopped (SIGSTOP) at {point} from {t0} to {t1}").format(
        n=story.buyer, point=story.point, t0=ms(story.stopped_at), t1=ms(story.resumed_at)
    )
    if story.lease_s is None:
        waited = _(
            "--lock {strategy} holds no lease: nothing expired, and whoever wanted the lock waited for it "
            "(the longest wait {wait})"
        ).format(strategy=strategy, wait=ms(story.longest_wait_s))
        return [stopped, waited]
    lost = story.lost
    if lost is None:
        return [stopped, _("its lease ({ttl}) outlived the pause").format(ttl=ms(story.lease_s))]
    said = _("buyer {n}'s lease expired at {t} while it was paused").format(n=story.buyer, t=ms(lost.expired_at))
    if lost.taker is not None:
        said += _("; buyer {m} took the lock at {t}").format(m=lost.taker, t=ms(lost.taken_at))
    lines = [stopped, said]
    for ticket, other in lost.sold_twice:
        lines.append(
            _("buyers {n} and {m} both sold ticket #{t}: buyer {n} wrote under a lease it no longer held").format(
                n=story.buyer, m=other, t=ticket
            )
        )
    if lost.refused:
        lines.append(
            _(
                "buyer {n}'s late write was refused: a newer fencing token had been issued, nothing was sold twice"
            ).format(n=story.buyer)
        )
    return lines


def tell(stories: list[PauseStory], strategy: str, out: Printer) -> None:
    """Every pause of a run, under the verdict."""
    for story in stories:
        head, *rest = pause_lines(story, strategy)
        out.line((_("  paused: "), "bold yellow"), head)
        for line in rest:
            out.line(f"    {line}")
