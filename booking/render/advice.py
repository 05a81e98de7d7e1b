"""What to pick, said first: one paragraph per store from compare/advice.py's data.

'On sqlite t.db at 16 buyers, safe and fastest: atomic and optimistic, indistinguishable (atomic
4,840 /s (95%: ...)). Then db-lock, 1.9x slower than atomic (95%: 1.5-2.4). Not safe here: none.'
"""

from __future__ import annotations

from booking.compare.advice import Advice, Standing
from booking.compare.cells import Comparison
from booking.compare.reference import rate_words, times
from booking.i18n.lang import _


def advice_lines(comparison: Comparison) -> list[str]:
    """A paragraph per store, and one line per default server left out (with the reason)."""
    lines = [paragraph(a) for a in comparison.advice]
    lines += [_("Not compared: {reason}.").format(reason=reason) for reason in comparison.skipped]
    return lines


def paragraph(advice: Advice) -> str:
    said = [_("On {store} at {buyers} buyers:").format(store=advice.store, buyers=advice.buyers)]
    if not advice.groups:
        said.append(_("no strategy was both safe and measured here."))
    scopes = {s.scope for group in advice.groups for s in group}
    named = len(scopes) > 1  # each name with whom it protects, unless they all protect the same
    for i, group in enumerate(advice.groups):
        said.append(_first(group, named) if i == 0 else _later(group, advice.groups[0][0].strategy, named))
    if len(scopes) == 1:
        said.append(_("Each protects {scope}.").format(scope=_(scopes.pop())))
    if advice.unmeasured:
        said.append(_("Not measured at these buyers: {names}.").format(names=_join(advice.unmeasured)))
    if advice.unsafe:
        said.append(_("Not safe here, never a choice: {names}.").format(names=_join(advice.unsafe)))
    return _sentences(said)


def _sentences(said: list[str]) -> str:
    """One sentence after another, as the language writes them (a space in English, none in Chinese)."""
    out = said[0]
    for sentence in said[1:]:
        out = _("{sentences} {sentence}").format(sentences=out, sentence=sentence)
    return out


def _join(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c' (the catalogue's own words for a list)."""
    if len(names) < 2:
        return "".join(names)
    return _("{some} and {last}").format(some=_(", ").join(names[:-1]), last=names[-1])


def _name(s: Standing, named: bool) -> str:
    return f"{s.strategy} ({_('protects {scope}').format(scope=_(s.scope))})" if named else s.strategy


def _first(group: list[Standing], named: bool) -> str:
    top = group[0]
    names = _join([_name(s, named) for s in group])
    if len(group) == 1:
        return _("the fastest safe strategy is {names}: {rate}.").format(names=names, rate=rate_words(top.cell))
    return _("the fastest safe strategies are {names}, indistinguishable from each other ({top}: {rate}).").format(
        names=names, top=top.strategy, rate=rate_words(top.cell)
    )


def _later(group: list[Standing], fastest: str, named: bool) -> str:
    parts = []
    for s in group:
        if s.slower is None:
            parts.append(_name(s, named))
            continue
        low, high = s.slower_ci95 or (s.slower, s.slower)
        parts.append(
            _("{name}, {ratio}x slower than {fastest} (95%: {low}\u2013{high})").format(
                name=_name(s, named), ratio=times(s.slower), fastest=fastest, low=times(low), high=times(high)
            )
        )
    head = _("Then") if len(group) == 1 else _("Then, indistinguishable from each other,")
    return _("{head} {parts}.").format(head=head, parts=_("; ").join(parts))
