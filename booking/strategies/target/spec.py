"""What a target is: its buy request, its login step, the rules its answers are judged by. Plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

LAST_BYTE, NO_SYNC = "last-byte", "none"
HTTP1, HTTP2 = "1.1", "2"


@dataclass(frozen=True)
class Request:
    """One request, its parts templates: `{buyer}`, `{name}` from --buyers-from or vars, `{token}` after a login;
    `${VAR}` in a header from the environment (never printed)."""

    method: str = "POST"
    path: str = "/purchase"
    json: Any = None  # a JSON body template (None: no JSON body)
    form: tuple[tuple[str, str], ...] | None = None  # a form body (application/x-www-form-urlencoded)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rule:
    """An answer matches when its status is one of `status` (any, if none given) and its body matches `body`."""

    status: tuple[int, ...] = ()
    body: str | None = None  # a regular expression, searched in the answer's text

    @property
    def given(self) -> bool:
        return bool(self.status) or self.body is not None

    def matches(self, status: int, text: str) -> bool:
        if not self.given:
            return False
        return (not self.status or status in self.status) and (self.body is None or bool(re.search(self.body, text)))


@dataclass(frozen=True)
class Login:
    """A request each buyer sends before the start barrier (one step of its login); its answer's token or
    cookie is used by the requests after it and by the buy."""

    request: Request
    token: str | None = None  # a JSON pointer to the token in its answer ({token} in the buy)
    cookie: str | None = None  # a cookie it must set ({cookie} in the buy; every cookie is sent back anyway)
    token_regex: str | None = None  # ... or a regex whose first group in its answer is the token


@dataclass(frozen=True)
class Spec:
    """An endpoint raced as it is published."""

    buy: Request = Request()
    logins: tuple[Login, ...] = ()  # the login's steps, in order
    success: Rule = Rule(status=tuple(range(200, 300)))
    receipt: str | None = "/ticket"  # a JSON pointer to the ticket id; None: any success is a sale (judged by stock)
    receipt_regex: str | None = None  # ... or a regex whose first group is the ticket id
    sold_out: Rule = Rule(status=(410,))
    declined: Rule = Rule(status=(409,))
    worker: str | None = "/worker"  # where an answer names the process that served it
    health: str = "/health"  # what each buyer GETs before the start barrier when there is no login
    sync: str = LAST_BYTE  # how the buy is sent: its last byte held until every buyer is released, or "none"
    reset: Request | None = None  # sent before each run: the endpoint's stock set to {tickets}
    http: str = HTTP1  # HTTP2: the buys go on one HTTP/2 connection, finished in one write (target/batch.py)
    stock_path: str | None = None  # after the run, GET this path ...
    stock_pointer: str | None = None  # ... and read the tickets left here
    vars: tuple[tuple[str, str], ...] = ()  # constants for the templates
    buyers: tuple[tuple[tuple[str, str], ...], ...] = ()  # --buyers-from: one row of values per buyer
    source: str = ""  # where it was read from, to say it back
    hidden: frozenset[str] = field(default_factory=frozenset)  # header names whose values are never shown

    def values(self, buyer: int) -> dict[str, str]:
        """The template values for `buyer` (1-based): the constants, then its row of --buyers-from."""
        out = dict(self.vars)
        if self.buyers:
            out.update(self.buyers[(buyer - 1) % len(self.buyers)])
        return out
