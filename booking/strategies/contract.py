"""The purchase contract over HTTP: what booking's service answers, and how an HTTP buyer reads any service.

booking's own service (`booking serve`) and any service raced with `booking simulate --target URL`
speak it; `--target-map` says where another service differs:

    POST /purchase   {"buyer": 3}
      200  {"ticket": 7, ...}          bought: the receipt names ticket 7
      410  {"outcome": "sold-out"}     sold out: no ticket left
      409  {"outcome": "declined"}     declined: the purchase lost a race it detected and turned the buyer away
      anything else                    an error of the attempt (its status and first line are kept)
    GET /health       200 when the service answers

Nothing here imports a web framework: the buyers, the service and the tests all read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

from booking.errors import BadInput
from booking.history import Outcome
from booking.i18n.lang import _

PURCHASE = "/purchase"
TICKETS = "/tickets"
HEALTH = "/health"
RUN = "/run"
BOUGHT, SOLD_OUT, DECLINED = 200, 410, 409
MAX_BODY = 1024  # a purchase request is a few bytes; a larger body is refused (413), never read whole
MAX_BUYER = 2**31 - 1  # the ledger's buyer column is an INTEGER

MAP_EXAMPLE = "path=/api/book,buyer=user_id,ticket=seat.id,sold-out=422,declined=409|423"


@dataclass(frozen=True)
class Mapping:
    """Where a service's purchase differs from booking's contract (`--target-map key=value,...`)."""

    method: str = "POST"
    path: str = PURCHASE
    buyer: str = "buyer"  # the request's JSON key for the buyer's number (dotted: user.id nests it)
    ticket: str = "ticket"  # where a success names the ticket, in the answer's JSON (dotted path)
    sold_out: tuple[int, ...] = (SOLD_OUT,)
    declined: tuple[int, ...] = (DECLINED,)
    worker: str = "worker"  # where the answer names the process that served it, if it does
    health: str = HEALTH  # what a buyer asks before the start barrier, to open its connection
    keys: tuple[str, ...] = field(default=(), compare=False)  # the keys given, to say them back

    def body(self, buyer: int) -> dict[str, Any]:
        """The request's JSON body for `buyer`."""
        out: dict[str, Any] = {}
        inner = out
        *outer, last = self.buyer.split(".")
        for part in outer:
            inner = inner.setdefault(part, {})
        inner[last] = buyer
        return out


def parse_map(spec: str | None) -> Mapping:
    """`--target-map path=/api/book,ticket=seat.id,sold-out=422|410`; BadInput naming what is wrong."""
    mapping = Mapping()
    if not spec:
        return mapping
    names = {f.name.replace("_", "-"): f.name for f in fields(Mapping) if f.name != "keys"}
    given: list[str] = []
    for pair in spec.split(","):
        key, eq, value = (s.strip() for s in pair.partition("="))
        if not eq or not value:
            raise BadInput(
                _("--target-map: expected key=value pairs separated by commas, e.g. {MAP_EXAMPLE}").format(
                    MAP_EXAMPLE=MAP_EXAMPLE
                )
            )
        if key not in names:
            raise BadInput(
                _("--target-map: unknown key {key!r} (choose from: {value})").format(key=key, value=", ".join(names))
            )
        mapping = replace(mapping, **{names[key]: _value(key, value)})
        given.append(key)
    if "sold-out" in given and "declined" not in given:  # no hidden default may clash with what was given
        mapping = replace(mapping, declined=tuple(s for s in mapping.declined if s not in mapping.sold_out))
    if set(mapping.sold_out) & set(mapping.declined):
        raise BadInput(_("--target-map: a status cannot mean both sold-out and declined"))
    return replace(mapping, keys=tuple(given))


def _value(key: str, value: str) -> Any:
    if key in ("sold-out", "declined"):
        statuses = value.split("|")
        if not all(s.isdigit() and 100 <= int(s) <= 599 for s in statuses):
            raise BadInput(
                _("--target-map {key}: HTTP statuses separated by |, e.g. 410|422; got {value!r}").format(
                    key=key, value=value
                )
            )
        if any(200 <= int(s) < 300 for s in statuses):
            raise BadInput(
                _("--target-map {key}: a 2xx status means bought, got {value!r}").format(key=key, value=value)
            )
        return tuple(int(s) for s in statuses)
    if key == "method":
        if value.upper() not in ("POST", "PUT", "PATCH"):
            raise BadInput(
                _("--target-map method: POST, PUT or PATCH (a purchase changes something), got {value!r}").format(
                    value=value
                )
            )
        return value.upper()
    if key in ("path", "health"):
        if not value.startswith("/") or any(c.isspace() for c in value):
            raise BadInput(_("--target-map {key}: a path starting with /, got {value!r}").format(key=key, value=value))
        return value
    if not all(part.isidentifier() or part.replace("-", "_").isidentifier() for part in value.split(".")):
        raise BadInput(
            _("--target-map {key}: a JSON key, or keys joined by dots (seat.id), got {value!r}").format(
                key=key, value=value
            )
        )
    return value


@dataclass(frozen=True)
class Answer:
    """What one HTTP purchase came to, as a buyer records it."""

    outcome: Outcome
    ticket: int | None = None
    error: str | None = None
    worker: str | None = None  # the process that served it, when the service says


def judge(mapping: Mapping, status: int, body: bytes) -> Answer:
    """Read a service's answer to a purchase by the contract (and the mapping)."""
    data = _json(body)
    worker = _at(data, mapping.worker)
    served = None if worker is None or isinstance(worker, (dict, list)) else str(worker)[:60]
    if status in mapping.declined:
        why = _reason(data, body)
        return Answer(Outcome.CONFLICT, error=f"declined: HTTP {status}" + (f": {why}" if why else ""), worker=served)
    if status in mapping.sold_out:
        return Answer(Outcome.SOLD_OUT, worker=served)
    if not 200 <= status < 300:
        why = _reason(data, body)
        return Answer(Outcome.ERROR, error=f"HTTP {status}" + (f": {why}" if why else ""), worker=served)
    ticket = _at(data, mapping.ticket)
    if isinstance(ticket, str) and ticket.isdigit():
        ticket = int(ticket)
    if isinstance(ticket, bool) or not isinstance(ticket, int):
        where = f"no ticket at {mapping.ticket!r}" if ticket is None else f"{mapping.ticket!r} is {ticket!r}"
        return Answer(
            Outcome.ERROR,
            error=f"HTTP {status} but {where}: a receipt needs a whole-number ticket id (--target-map ticket=PATH)",
            worker=served,
        )
    return Answer(Outcome.OK, ticket=ticket, worker=served)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _reason(data: Any, body: bytes) -> str:
    """The first line of why a service refused: its JSON `error` (or `reason`, `detail`), else its text."""
    if isinstance(data, dict):
        for key in ("error", "reason", "detail"):
            if isinstance(data.get(key), str):
                return " ".join(str(data[key]).split())[:200]
    text = body[:400].decode("utf-8", "replace").strip()
    return text.splitlines()[0][:200] if text else ""
