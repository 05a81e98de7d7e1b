"""An answer judged by a target's rules: declined, sold out, a sale (its receipt), or an error that shows
its status and the first bytes of its body. No rule is guessed: an answer that matches none is an error."""

from __future__ import annotations

import json
import re
from typing import Any

from booking.history import Outcome
from booking.strategies.contract import Answer
from booking.strategies.target.spec import Spec

SHOWN = 120  # bytes of an unexpected answer's body said in its error
ARRIVAL = re.compile(r"""(?:^|,)\s*arrival\s*;[^,]*?desc="?([0-9]+(?:\.[0-9]+)?)""")


def pointer(data: Any, path: str) -> Any:
    """A JSON pointer (RFC 6901: /seat/id, /items/0) into `data`; a dotted path (seat.id) is read the same."""
    if path == "":  # the whole document: a bare number or string answered
        return data
    parts = path[1:].split("/") if path.startswith("/") else path.split(".")
    for raw in parts:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def first_bytes(body: bytes) -> str:
    """An answer's first bytes as a person reads them: JSON's \\u escapes shown as their characters."""
    data = answer_json(body) if b"\\u" in body else None
    if data is not None:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    text = " ".join(body[:SHOWN].decode("utf-8", "replace").split())
    return text + ("..." if len(body) > SHOWN else "")


def judge(spec: Spec, status: int, body: bytes) -> Answer:
    data = answer_json(body)
    text = readable(body, data)
    worker = pointer(data, spec.worker) if spec.worker else None
    served = None if worker is None or isinstance(worker, (dict, list)) else str(worker)[:60]
    if spec.declined.matches(status, text):
        return Answer(Outcome.CONFLICT, error=_said(f"declined: HTTP {status}", body), worker=served)
    if spec.sold_out.matches(status, text):
        return Answer(Outcome.SOLD_OUT, worker=served)
    if not spec.success.matches(status, text):
        return Answer(Outcome.ERROR, error=_said(f"HTTP {status}", body), worker=served)
    if spec.receipt_regex is not None:
        found = re.search(spec.receipt_regex, text)
        ticket: Any = found.group(1) if found and found.groups() else None
        where = f"no match of {spec.receipt_regex!r}"
    elif spec.receipt is not None:
        ticket = pointer(data, spec.receipt)
        where = f"no ticket at {spec.receipt}" if ticket is None else f"{spec.receipt} is {ticket!r}"
    else:
        return Answer(Outcome.OK, worker=served)  # any success is a sale: the stock judges it
    if isinstance(ticket, str) and ticket.isdigit():
        ticket = int(ticket)
    elif isinstance(ticket, str) and ticket.strip():
        # An order id (a UUID), a seat code: the sale's own receipt, not a ticket number booking can
        # count or compare; the sale is judged by the stock, as with receipt = "none".
        return Answer(Outcome.OK, worker=served)
    if isinstance(ticket, bool) or not isinstance(ticket, int):
        return Answer(Outcome.ERROR, error=_said(f"HTTP {status} but {where}", body), worker=served)
    return Answer(Outcome.OK, ticket=ticket, worker=served)


def readable(body: bytes, data: Any) -> str:
    """The body as rules read it: JSON that escapes what is not ASCII ("\\u5e93\\u5b58", Flask's and
    json.dumps's default) is read with its characters as well, so body = "库存不足" matches it."""
    text = body.decode("utf-8", "replace")
    if data is not None and "\\u" in text:
        text += "\n" + json.dumps(data, ensure_ascii=False)
    return text


def arrival(headers: dict[str, str]) -> float | None:
    """When the server had the whole request (Unix time), if it says: `Server-Timing: arrival;desc=T`."""
    found = ARRIVAL.search(headers.get("server-timing", ""))
    return float(found.group(1)) if found else None


def answer_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None


def _said(head: str, body: bytes) -> str:
    shown = first_bytes(body)
    return f"{head}: {shown}" if shown else head
