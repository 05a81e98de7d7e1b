"""The verdict in words: each anomaly's story from its witnesses, why a run proved nothing, what the
environment failed; in the language spoken. The verifier (booking/verdict/) returns data; this is
where it is said, and where `--json` gets its words (`said`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from booking.history import Attempt, Outcome
from booking.i18n.lang import _, ngettext
from booking.i18n.words import buyers, count, ms, read_value, times, who_is, wrote_value
from booking.render import orders
from booking.render.own_code import own_code_sale
from booking.run.result import RunResult, VerifyResult
from booking.verdict.anomalies import Anomaly, Counts
from booking.verdict.overlap import Inconclusive, Serialized, Unproved
from booking.verdict.verify import Failure, Verdict

if TYPE_CHECKING:
    from booking.run.repeat import Runs  # imports the whole run: only its type here

MAX_STORIES = 5  # stories per anomaly kind; the counts carry the rest


def stories(a: Anomaly) -> list[str]:
    """An anomaly's story in plain words: a line per witness (at most MAX_STORIES, then how many more)."""
    return _TOLD[a.kind](a)


def _capped(lines: list[str], total: int, more: str) -> list[str]:
    """The first MAX_STORIES lines, then '... and N more' said by `more`."""
    kept = lines[:MAX_STORIES]
    return [*kept, more.format(n=total - MAX_STORIES)] if total > MAX_STORIES else kept


def _double_sold(a: Anomaly) -> list[str]:
    if a.recorded:  # the store's ledger alone shows them
        said = _("the store records ticket #{t} sold {times} ({buyers}), more than this run's receipts show")
        lines = [
            said.format(t=t, times=times(len(bs)), buyers=buyers(bs))
            for t, bs in list(a.recorded.items())[:MAX_STORIES]
        ]
        return _capped(lines, len(a.recorded), _("... and {n} more tickets the store records sold more than once"))
    lines = [double_sale(t, rs, a.counter) for t, rs in list(a.sales.items())[:MAX_STORIES]]
    return _capped(lines, len(a.sales), _("... and {n} more tickets sold more than once"))


def _oversold(a: Anomaly) -> list[str]:
    c = a.counts
    said = _("{receipts} for {tickets}: {n} more sold than existed")
    return [said.format(receipts=count(c.sold, "receipt"), tickets=count(c.initial, "ticket"), n=a.count)]


def _lost_updates(a: Anomaly) -> list[str]:
    c = a.counts
    said = _("the store counts {sales} but buyers hold {receipts}: {lost} overwritten by a later write")
    return [said.format(sales=_sales(c), receipts=count(c.sold, "receipt"), lost=count(a.count, "purchase"))]


def _unreceipted(a: Anomaly) -> list[str]:
    c = a.counts
    note = _(" ({n} attempts ended without an answer)").format(n=c.unknown) if c.unknown else ""
    said = _("the store counts {sales} but buyers hold {receipts}: {n} nobody holds a receipt for{note}")
    lines = [said.format(sales=_sales(c), receipts=count(c.sold, "receipt"), n=count(a.count, "sale"), note=note)]
    return lines + [_redelivery(r) for r in a.attempts]


def _redelivery(r: Attempt) -> str:
    """A request the broker delivered again after its seller died between the sale and the acknowledgement."""
    if r.outcome is Outcome.SOLD_OUT:  # the second delivery found the stock gone: the first sale stands
        gone = _(
            "buyer {buyer}'s request was redelivered by the broker to seller {seller} (the seller holding it died "
            "after the sale, before acknowledging it) and found nothing left: the first sale stands, and the buyer "
            "was told sold out"
        )
        return gone.format(buyer=r.buyer, seller=r.seller)
    said = _(
        "buyer {buyer}'s request was redelivered by the broker to seller {seller} (the seller holding it died "
        "after the sale, before acknowledging it) and sold again: at-least-once delivery, the seller not "
        "idempotent"
    )
    return said.format(buyer=r.buyer, seller=r.seller)


def _sales(c: Counts) -> str:
    return count(c.store_sold, "sale")


def _undersold(a: Anomaly) -> list[str]:
    c = a.counts
    said = ngettext(
        "{tickets} left unsold while {n} attempt was turned away ({buyers} found none)",
        "{tickets} left unsold while {n} attempts were turned away ({buyers} found none)",
        c.refused,
    )
    return [said.format(tickets=count(c.remaining, "ticket"), n=c.refused, buyers=buyers(a.buyers))]


def _errors(a: Anomaly) -> list[str]:
    said = _("buyer {buyer}, attempt {n}: {error}")
    lines = [said.format(buyer=e.buyer, n=e.attempt + 1, error=e.error) for e in a.attempts[:MAX_STORIES]]
    return _capped(lines, len(a.attempts), _("... and {n} more failed attempts"))


def _stuck(a: Anomaly) -> list[str]:
    said = _("{who} never finished: {why}")
    lines = [said.format(who=who_is(e.who, e.buyer), why=e.reason) for e in a.ends[:MAX_STORIES]]
    return _capped(lines, len(a.ends), _("... and {n} more"))


_TOLD: dict[str, Callable[[Anomaly], list[str]]] = {
    "oversold": _oversold,
    "double_sold": _double_sold,
    "lost_updates": _lost_updates,
    "unreceipted": _unreceipted,
    "undersold": _undersold,
    "errors": _errors,
    "stuck": _stuck,
    "duplicate_orders": orders.duplicate_orders,
    "orders_lost": orders.orders_lost,
}


def unproved(why: Inconclusive | None) -> str | None:
    """Why a run without an anomaly proved nothing, in words (None: it proved something)."""
    if why is None:
        return None
    if why.why is Unproved.MISSED:
        return _("{missed}: the fault was not injected, so the run cannot show what it does").format(missed=why.missed)
    if why.why is Unproved.ONE_BUYER:
        return _("one buyer cannot race: run two or more")
    if why.why is Unproved.NO_WINDOW:
        return _(
            'no buyer reached the race window (a purchase function must call point("after-read") where its window is)'
        )
    if why.why is Unproved.NOTHING_SEEN:
        return _(
            "nothing was sold and the stock was not read (give --store and --stock to read it): "
            "every answer said sold out or failed, so nothing was proved"
        )
    if why.why is Unproved.STALLED:
        return _(
            "the buyers never overlapped in the race window: they were blocked before it, one at a time "
            '(your code serializes before its point, e.g. a lock taken before point("after-read"))'
        )
    return _("the buyers never overlapped in the race window (at most one was inside it at a time): nothing was proved")


def handed_off(chain: Serialized | None) -> str | None:
    """The evidence of a serialized run, in words (None: there is none)."""
    if chain is None:
        return None
    return _(
        "{n} buyers contended; your code let them through one at a time: {handoffs}, each within {gap} of the "
        "previous buyer's exit"
    ).format(
        n=chain.buyers,
        handoffs=ngettext("{n} hand-off", "{n} hand-offs", chain.handoffs).format(n=chain.handoffs),
        gap=ms(chain.widest_gap_s),
    )


def could_not_run(failed: list[Failure]) -> list[str]:
    """The environment's failures, a line per error: '50 attempts by buyers 1, 2, ...: BarrierTimeout: ...'."""
    said = _("{attempts} by {buyers}: {error}")
    return [
        said.format(attempts=count(len(f.buyers), "attempt"), buyers=buyers(f.buyers), error=f.error)
        for f in failed[:MAX_STORIES]
    ]


def said(outcome: RunResult | VerifyResult | Runs) -> dict[str, Any]:
    """`outcome.to_json()` with the verdict's words where its data was: what `--json` prints."""
    data = outcome.to_json()
    if not isinstance(outcome, (RunResult, VerifyResult)):  # --runs: the first failing run in full
        failed = outcome.failed
        if failed is not None:
            data["first_failure"] = said(failed)
        return data
    v: Verdict = outcome.verdict
    data["anomalies"] = [
        {"kind": a.kind, "count": a.count, "tickets": a.tickets, "buyers": a.buyers, "story": stories(a)}
        for a in v.anomalies
    ]
    data["inconclusive"] = unproved(v.inconclusive)
    data["could_not_run"] = could_not_run(v.could_not_run)
    if v.serialized is not None:
        data["serialized"] = {**data["serialized"], "said": handed_off(v.serialized)}
    return data


def served_sale(ticket: int, who: str, processes: list[str], n: int) -> str:
    """A ticket a service (--target) sold several times, and which of its worker processes sold it."""
    if len(processes) > 1:
        return _(
            "the service sold ticket #{ticket} to {who} from {n} worker processes ({processes}): "
            "a cross-worker double sale, sold {times}"
        ).format(ticket=ticket, who=who, n=len(processes), processes=", ".join(processes), times=times(n))
    return _(
        "the service sold ticket #{ticket} to {who}, all from one worker process ({process}): sold {times}"
    ).format(ticket=ticket, who=who, process=processes[0], times=times(n))


def _on_hosts(rs: list[Attempt]) -> str:
    """'buyers 3 and 7', or across hosts (--run) 'buyer 3 on host a and buyers 12 and 17 on host b'."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for r in rs:
        by_host[r.host or ""].append(r.buyer)
    if len(by_host) == 1 and not rs[0].host:
        return buyers([r.buyer for r in rs])
    parts = [_("{buyers} on host {host}").format(buyers=buyers(bs), host=h) for h, bs in sorted(by_host.items())]
    if len(parts) == 1:
        return parts[0]
    return _("{some} and {last}").format(some=_(", ").join(parts[:-1]), last=parts[-1])


def double_sale(ticket: int, receipts: list[Attempt], counter: bool) -> str:
    """Why `ticket` has several receipts, in plain words, from the receipts' reads and writes (the sellers'
    with --lock queue: they read and wrote for the buyers)."""
    rs = sorted(receipts, key=lambda r: (r.t_read or 0.0, r.buyer))
    n = len(rs)
    last_read = max((r.t_read or 0.0) for r in rs)
    first_write = min((r.t_write or 0.0) for r in rs)
    who = _on_hosts(rs)
    if all(r.seller is not None for r in rs):
        sellers = buyers([r.seller for r in rs if r.seller is not None], "seller")
        who = _("{sellers} (for {buyers})").format(sellers=sellers, buyers=who)
    procs = sorted({str(r.served_by) for r in rs if r.served_by is not None})  # --target: the service's processes
    if procs and all(r.served_by for r in rs):
        return served_sale(ticket, who, procs, n)
    said = {"who": who, "ticket": ticket, "times": times(n)}
    if all(r.read is None for r in rs):  # your own purchase code: only its points and receipts are known
        return own_code_sale(rs, said, last_read < first_write)
    if len({r.read for r in rs}) == 1 and len({r.wrote for r in rs}) == 1 and last_read < first_write:
        if counter:
            said.update(read=read_value(rs[0].read, counter), wrote=wrote_value(rs[0].wrote, counter))
            if n == 2:
                return _(
                    "{who} both read {read} before either wrote; both wrote {wrote}: ticket #{ticket} sold {times}"
                ).format(**said)
            return _("{who} all read {read} before any wrote; all wrote {wrote}: ticket #{ticket} sold {times}").format(
                **said
            )
        if n == 2:
            return _("{who} both saw ticket #{ticket} free before either took it; both took it: sold {times}").format(
                **said
            )
        return _("{who} all saw ticket #{ticket} free before any took it; all took it: sold {times}").format(**said)
    steps = _("; ").join(
        _("{buyer} read {read} at {t_read} and wrote {wrote} at {t_write}").format(
            buyer=who_is("buyer", r.buyer),
            read=read_value(r.read, counter),
            t_read=ms(r.t_read),
            wrote=wrote_value(r.wrote, counter),
            t_write=ms(r.t_write),
        )
        for r in rs[:MAX_STORIES]
    )
    more = _("; ... {n} more buyers").format(n=n - MAX_STORIES) if n > MAX_STORIES else ""
    return _("{steps}{more}: ticket #{ticket} sold {times}").format(
        steps=steps, more=more, ticket=ticket, times=times(n)
    )
