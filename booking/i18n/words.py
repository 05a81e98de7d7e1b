"""The domain's wording, said once: counts and lists of buyers, times, one-line errors, the stories'
phrases; in the language spoken (booking/i18n/lang.py).

Every place that puts a run into words (the run's event lines, the timeline's lanes, the
verdict's stories, the pytest failure message) takes its phrases from here, from booking/render/steps.py
(what an attempt did), booking/render/stories.py (what an anomaly's witnesses show) and
booking/render/judgement.py (what a verdict means).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

from booking.i18n.lang import _, ngettext
from booking.redact import redact

MAX_ERROR = 300  # characters of an error kept in a record or a line
# The distribution's name on the package index ("booking" there is someone else's project); the
# import package and the command are `booking`.
DISTRIBUTION = "booking-race-lab"


def install_hint(extra: str | None = None) -> str:
    """How to install booking (with an extra: its drivers or its report libraries)."""
    if not extra:
        return f"pip install {DISTRIBUTION}"
    # Not on the package index yet: the command that works today is the checkout's.
    return _(
        "pip install '{dist}[{extra}]' (once published; from booking's checkout: pip install -e '.[{extra}]')"
    ).format(dist=DISTRIBUTION, extra=extra)


def plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


_COUNTED: dict[str, Callable[[int], str]] = {
    "ticket": lambda n: ngettext("{n} ticket", "{n} tickets", n),
    "buyer": lambda n: ngettext("{n} buyer", "{n} buyers", n),
    "seller": lambda n: ngettext("{n} seller", "{n} sellers", n),
    "attempt": lambda n: ngettext("{n} attempt", "{n} attempts", n),
    "receipt": lambda n: ngettext("{n} receipt", "{n} receipts", n),
    "sale": lambda n: ngettext("{n} sale", "{n} sales", n),
    "purchase": lambda n: ngettext("{n} purchase", "{n} purchases", n),
    "conflict": lambda n: ngettext("{n} conflict", "{n} conflicts", n),
    "worker": lambda n: ngettext("{n} worker", "{n} workers", n),
}


def count(n: int, word: str) -> str:
    """'1 ticket', '3 tickets' (and '3 张票' in Chinese)."""
    counted = _COUNTED.get(word)
    return f"{n} {plural(n, word)}" if counted is None else counted(n).format(n=n)


def times(n: int) -> str:
    if n == 1:
        return _("once")
    return _("twice") if n == 2 else _("{n} times").format(n=n)


def ms(t: float | None) -> str:
    return "?" if t is None else _("{ms} ms").format(ms=f"{t * 1000:.1f}")


def who_is(who: str, number: int) -> str:
    """'buyer 3', 'seller 2': one process, by its role."""
    return (_("seller {n}") if who == "seller" else _("buyer {n}")).format(n=number)


def buyers(numbers: list[int], who: str = "buyer") -> str:
    """'buyer 3', 'buyers 3 and 7', 'buyers 1, 2, 3 and 4', 'buyers 1, 2, 3, ... and 50 (50 buyers)'."""
    bs = sorted(set(numbers))
    if len(bs) == 1:
        return who_is(who, bs[0])
    some = _("sellers {list}") if who == "seller" else _("buyers {list}")
    sep = _(", ")
    if len(bs) <= 6:
        listed = _("{some} and {last}").format(some=sep.join(map(str, bs[:-1])), last=bs[-1])
        return some.format(list=listed)
    listed = _("{some}, ... and {last}").format(some=sep.join(map(str, bs[:3])), last=bs[-1])
    return _("{listed} ({count})").format(listed=some.format(list=listed), count=count(len(bs), who))


def exit_status(exitcode: int | None) -> str:
    """How a process ended: 'killed by signal 9', 'exited with code 1'."""
    if exitcode is not None and exitcode < 0:
        return _("killed by signal {n}").format(n=-exitcode)
    return _("exited with code {code}").format(code=exitcode)


def lanes_left_out(who: str, where: str = "--history FILE") -> str:
    """Under a lane diagram: who is not drawn, and where to find them (`where`: the option, or in a test
    the attribute that keeps every attempt)."""
    return _("({who} not shown: {where} keeps every attempt)").format(who=who, where=where)


def downgrade_loss(store: str, current: str, target: str) -> str:
    """What `booking db downgrade` would drop: said before it asks, and when it refuses."""
    what = (
        _("booking's tables, every ticket and sale in them")
        if target == "base"
        else _("the tables those revisions made, with their data")
    )
    return _("store {store}: stepping the schema back from revision {current} to {target} drops {what}").format(
        store=store, current=current, target=target, what=what
    )


def one_line(exc: BaseException, secrets: AbstractSet[str] = frozenset()) -> str:
    """An exception as one line: its type and the first line of its message, URL passwords and `secrets` masked."""
    lines = str(exc).strip().splitlines()
    return redact(f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": "), secrets)[:MAX_ERROR]


def read_value(value: int | None, counter: bool) -> str:
    """What a read inside the window saw: 'count=1' or 'ticket #3 free'."""
    if counter:
        return f"count={value}"
    return _("ticket #{n} free").format(n=value) if value else _("no free ticket")


def wrote_value(value: int | None, counter: bool) -> str:
    return f"count={value}" if counter else _("ticket #{n} taken").format(n=value)


def interruption(
    signal: str, elapsed_s: float, finished: int, buyers: int, sold: int, store: str, left: int | None, kept: str | None
) -> str:
    """The one line of an interrupted run: what finished, where the store was left, where the history is."""
    if left is not None:
        where = _("store {store} left with {tickets}").format(store=store, tickets=count(left, "ticket"))
    else:
        where = _("store {store}").format(store=store)
    history = (
        _("history kept in {file}").format(file=kept)
        if kept is not None
        else _("no history kept (--history FILE keeps one)")
    )
    done = _("{finished} of {buyers} finished, {sold} sold").format(
        finished=finished, buyers=count(buyers, "buyer"), sold=count(sold, "ticket")
    )
    return _("interrupted by {signal} after {s} s: {done}; {where}; {history}").format(
        signal=signal, s=f"{elapsed_s:.2f}", done=done, where=where, history=history
    )
