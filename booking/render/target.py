"""`booking target check`: one request as it was sent, its answer, and how booking understood it."""

from __future__ import annotations

from typing import Any

from booking.i18n.lang import N_, _
from booking.render.text import Printer
from booking.strategies.target.spec import HTTP2

OUTCOMES = {
    "ok": N_("a sale"),
    "sold-out": N_("sold out"),
    "conflict": N_("declined"),
    "error": N_("an error"),
}


def tell_check(checked: Any, out: Printer) -> None:
    spec = checked.spec
    out.line(
        (_("target {url} ({source}), sync {sync}").format(url=checked.url, source=spec.source, sync=spec.sync), "bold")
    )
    if spec.http == HTTP2:  # the check is one request: HTTP/1.1, which every HTTP/2 server here also speaks
        out.line(_("  (this check goes over HTTP/1.1; the run sends its buys over HTTP/2)"))
    if checked.login is not None:
        out.line(_("  login: {said}").format(said=checked.login))
    out.line(_("  sent: {request}").format(request=checked.request))
    for name, value in checked.headers:
        out.line(f"    {name}: {value}")
    out.line(_("  answered {status}: {body}").format(status=checked.status, body=checked.body or "-"))
    said = _(OUTCOMES[checked.outcome])
    if checked.ticket is not None:
        said += _(", ticket #{n}").format(n=checked.ticket)
    elif checked.outcome == "ok":
        said += _(" with no ticket id (the stock judges it: [stock] or --store)")
    if checked.error:
        said += f" ({checked.error})"
    out.line((_("  understood as: "), "bold"), said)
    arrived = (
        _("arrival time given (Server-Timing): the arrival spread will be measured")
        if checked.arrived_at is not None
        else _("no Server-Timing arrival: only booking's send spread will be measured")
    )
    out.line(f"  {arrived}")
