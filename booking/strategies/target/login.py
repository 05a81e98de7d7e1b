"""A buyer's login, before the start barrier: one request, or several in order (a form page, then the form
it holds, as a browser logs in to a Django site), each on the buyer's own connection. Every cookie an
answer sets is kept, as a browser keeps it, and sent back with each later request and with the buy.

What a step gives the templates after it: `{token}` (a JSON pointer, `token`, or a regex's first group,
`token-regex`: a CSRF form field), `{cookie}` (the cookie it names), and `{cookie_NAME}` for every cookie
set so far (`X-CSRFToken: {cookie_csrftoken}`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from booking.strategies.target.answer import answer_json, first_bytes, pointer
from booking.strategies.target.fill import encode, names
from booking.strategies.target.spec import Login, Request, Spec

if TYPE_CHECKING:  # the wire needs h11 (the service extra): load.py imports this module without it
    from booking.strategies.target.wire import Reply, Wire

COOKIES = " cookies"  # where the Cookie header's value is kept among the values (no template can name it)
COOKIE_PREFIX = "cookie_"


def log_in(wire: Wire, spec: Spec, values: dict[str, str], buyer: int) -> tuple[dict[str, str], str | None]:
    """The values the buy is filled with after every login step, and what a step's answer lacked (else None)."""
    out, jar = dict(values), dict[str, str]()
    for step in spec.logins:
        reply = wire.exchange(wire.encode(*with_cookies(encode(step.request, out, buyer), jar)))
        jar = {k: v for k, v in {**jar, **set_cookies(reply.headers)}.items() if v}
        missing = _take(step, reply, out, jar)
        out.update({COOKIE_PREFIX + k: v for k, v in jar.items()})
        if missing is not None:
            return out, missing
    if jar:
        out[COOKIES] = "; ".join(f"{k}={v}" for k, v in jar.items())
    unset = sorted(n for n in names_used(spec.buy) if n.startswith(COOKIE_PREFIX) and n not in out)
    if unset:
        return out, f"the login set no cookie {unset[0][len(COOKIE_PREFIX) :]}"
    return out, None


def with_cookies(
    request: tuple[str, str, list[tuple[str, str]], bytes], jar: dict[str, str]
) -> tuple[str, str, list[tuple[str, str]], bytes]:
    method, path, headers, body = request
    if jar:
        headers = [*headers, ("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))]
    return method, path, headers, body


def set_cookies(headers: dict[str, str]) -> dict[str, str]:
    """The cookies an answer sets (a deleted one, empty or expired at once, is dropped from the jar)."""
    out: dict[str, str] = {}
    for line in headers.get("set-cookie", "").split("\n"):
        first, *attributes = line.split(";")
        key, eq, value = first.partition("=")
        if not eq or not key.strip():
            continue
        gone = not value.strip() or any(a.strip().lower() in ("max-age=0", "max-age=-1") for a in attributes)
        out[key.strip()] = "" if gone else value.strip()
    return out


def names_used(request: Request) -> set[str]:
    return (
        names(request.path)
        | names(request.json)
        | names([v for _k, v in request.form or ()])
        | names([v for _k, v in request.headers])
    )


def _take(step: Login, reply: Reply, out: dict[str, str], jar: dict[str, str]) -> str | None:
    """What the step gives the buy, put in `out`; what its answer lacked, else None."""
    said = f"login {step.request.method} {step.request.path} answered {reply.status}"
    if step.token is not None:
        token = pointer(answer_json(reply.body), step.token)
        if token is None or isinstance(token, (dict, list)):
            return f"{said} without a token at {step.token}: {first_bytes(reply.body)}"
        out["token"] = str(token)
    if step.token_regex is not None:
        found = re.search(step.token_regex, reply.body.decode("utf-8", "replace"))
        if found is None:
            return f"{said} without a match of {step.token_regex!r}: {first_bytes(reply.body)}"
        out["token"] = found.group(1)
    if step.cookie is not None:
        if not jar.get(step.cookie):
            return f"{said} without a cookie {step.cookie}"
        out["cookie"] = jar[step.cookie]
    return None
