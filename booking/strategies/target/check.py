"""`booking target check race.toml`: one buyer's login and buy sent once, and how its answer was understood."""

from __future__ import annotations

from dataclasses import dataclass

from booking.errors import BadInput, CannotRun
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.strategies.target.answer import arrival, first_bytes, judge
from booking.strategies.target.fill import secrets
from booking.strategies.target.load import from_file
from booking.strategies.target.spec import Spec


@dataclass(frozen=True)
class Checked:
    """What one request came to: what was sent (secrets masked), what came back, how it was judged."""

    url: str
    spec: Spec
    login: str | None  # the login's status line, or why it failed
    request: str  # method, path and body as sent
    headers: list[tuple[str, str]]
    status: int
    body: str  # the answer's first bytes
    outcome: str
    ticket: int | None
    error: str | None
    arrived_at: float | None


def check_target_file(path: str, url: str | None = None, buyer: int = 1, buyers_from: str | None = None) -> Checked:
    import h11  # the HTTP/1.1 library, only where a target is raced (the service extra)

    from booking.strategies.http import buy_request, connect

    named, spec = from_file(path, buyers_from)
    target = url or named
    if not target:
        raise BadInput(_("{path}: no url in the file: give --target URL").format(path=path))
    hidden = secrets(spec.buy).union(*(secrets(step.request) for step in spec.logins))
    try:
        wire, values, failed = connect(target, spec, buyer, 10.0)
        method, where, headers, body = buy_request(spec, values, buyer)
        reply = wire.exchange(wire.encode(method, where, headers, body))
        wire.close()
    except (OSError, h11.ProtocolError) as exc:
        raise CannotRun(_("target {target}: cannot reach it: {why}").format(target=target, why=one_line(exc))) from None
    answer = judge(spec, reply.status, reply.body)
    shown = [(k, "***" if any(s in v for s in hidden) else v) for k, v in headers]
    steps = ", ".join(f"{step.request.method} {step.request.path}" for step in spec.logins)
    login = None if not spec.logins else (failed or f"{steps}: ok")
    return Checked(
        target,
        spec,
        login,
        f"{method} {where} {body.decode('utf-8', 'replace')[:200]}".rstrip(),
        shown,
        reply.status,
        first_bytes(reply.body),
        answer.outcome.value,
        answer.ticket,
        answer.error,
        arrival(reply.headers),
    )
