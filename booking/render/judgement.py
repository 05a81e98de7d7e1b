"""What a verdict means for a person: safety (an invariant of selling broken) apart from availability
(a sale refused), the verdict's word, and the figures' names, in the language spoken."""

from __future__ import annotations

from dataclasses import dataclass

from booking.i18n.lang import N_, _

# A broken invariant: the run sold what it did not have, or lost track of what it sold.
BROKEN_INVARIANT = {
    "oversold": N_("more tickets sold than existed"),
    "double_sold": N_("a ticket sold more than once"),
    "lost_updates": N_("purchases the store forgot"),
    "unreceipted": N_("sales nobody holds a receipt for"),
    "duplicate_orders": N_("a request ordered more than once"),
    "orders_lost": N_("stock deducted for orders that never arrived"),
}
# An availability cost: buyers were refused, failed or kept waiting; nothing was sold wrongly.
AVAILABILITY_COST = ("errors", "undersold", "stuck")
SAFETY_FIGURES = ("oversold", "double_sold", "lost_updates")
AVAILABILITY_FIGURES = ("errors", "undersold", "stuck")
OPTIONAL_FIGURES = {
    "unreceipted": "safety",
    "unavailable": "availability",
    "declined": "availability",
    "conflicts": "availability",
    "retries": "availability",
}
# A figure's name on screen: the verdict's own word in English (--json keeps these), the notes' in Chinese.
FIGURE_NAMES = {
    "oversold": N_("oversold"),
    "double_sold": N_("double_sold"),
    "lost_updates": N_("lost_updates"),
    "unreceipted": N_("unreceipted"),
    "duplicate_orders": N_("duplicate_orders"),
    "orders_lost": N_("orders_lost"),
    "errors": N_("errors"),
    "undersold": N_("undersold"),
    "stuck": N_("stuck"),
    "unavailable": N_("unavailable"),
    "declined": N_("declined"),
    "conflicts": N_("conflicts"),
    "retries": N_("retries"),
}


def figure_name(name: str) -> str:
    return _(FIGURE_NAMES.get(name, name))


@dataclass(frozen=True)
class Judgement:
    """The verdict's first words: `head` (OK, OK by luck, UNSAFE, ...), why, and its tone."""

    head: str
    why: str
    tone: str  # good, luck, cost, unproved, bad


def judgement(
    kinds: list[str],
    by_luck: bool = False,
    strategy: str = "",
    lockstep: bool = True,
    inconclusive: str | None = None,
    stopped: bool = False,
    unavailable: bool = False,
) -> Judgement:
    """What a verdict means for a person, safety first: a broken invariant is UNSAFE; a run that was
    stuck or stopped could not be carried out; errors, refusals and unsold stock are an availability
    cost; a run that proved nothing is INCONCLUSIVE; a clean run of an unsafe strategy is OK by luck."""
    broken = [_(BROKEN_INVARIANT[k]) for k in BROKEN_INVARIANT if k in kinds]
    if broken:
        return Judgement(_("UNSAFE"), _("an invariant is broken: {what}").format(what=_(", ").join(broken)), "bad")
    if "stuck" in kinds:
        return Judgement(_("STUCK"), _("buyers never finished: the run could not be carried out"), "bad")
    if stopped:
        return Judgement(_("STOPPED"), _("the run could not be carried out (see below)"), "bad")
    if unavailable:
        why = _("the environment failed attempts (a deadline, a timeout, a lost server): nothing proved either way")
        return Judgement(_("COULD NOT RUN"), why, "bad")
    if kinds:
        return Judgement(
            _("SAFE, AT A COST"),
            _("nothing sold wrongly; buyers were refused or failed: an availability cost, not an oversell"),
            "cost",
        )
    luck = (
        _("strategy {strategy} does not prevent the race: no oversell this time was luck").format(strategy=strategy)
        if by_luck
        else ""
    )
    if inconclusive:
        return Judgement(_("INCONCLUSIVE"), _("; ").join(filter(None, [inconclusive, luck])), "unproved")
    if by_luck:
        hint = "" if lockstep else _(" (--schedule lockstep makes the race certain)")
        return Judgement(_("OK by luck"), luck + hint, "luck")
    return Judgement(_("OK"), "", "good")


def is_broken_invariant(kind: str) -> bool:
    return kind in BROKEN_INVARIANT


def not_measured(unread: bool = False) -> str:
    """Figures a run on your own tables cannot give without a way to count them (`unread`: a service raced
    without --store, whose store booking does not read)."""
    if unread:
        return _(
            "remaining, lost_updates, unreceipted and undersold (receipts alone: --store reads the service's store)"
        )
    return _(
        "remaining, lost_updates, unreceipted and undersold (your own tables: --stock MODULE:FUNCTION counts them)"
    )
