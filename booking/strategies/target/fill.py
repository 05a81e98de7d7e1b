"""A target's templates filled for one buyer: `{buyer}` (its number: a number where it is a JSON value
alone, `{buyer!s}` as a string), `{name}` (vars, a --buyers-from column, `{token}` and `{cookie}` after a
login), `${VAR}` (an environment variable: a secret, never printed)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from booking.strategies.target.spec import Request

NAME = re.compile(r"\{(\w+)(!s)?\}")
ENV = re.compile(r"\$\{(\w+)\}")


def names(value: Any) -> set[str]:
    """Every `{name}` a template uses."""
    if isinstance(value, str):
        return {m.group(1) for m in NAME.finditer(ENV.sub("", value))}
    if isinstance(value, dict):
        return set().union(*(names(v) | names(k) for k, v in value.items())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(names(v) for v in value)) if value else set()
    return set()


def text(template: str, values: Mapping[str, str], env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    out = ENV.sub(lambda m: env.get(m.group(1), ""), template)
    return NAME.sub(lambda m: str(values.get(m.group(1), m.group(0))), out)


def value(template: Any, values: Mapping[str, str], buyer: int) -> Any:
    """A JSON template filled: "{buyer}" alone is the number; any other string is text."""
    if isinstance(template, str):
        return buyer if template == "{buyer}" else text(template, values)
    if isinstance(template, dict):
        return {text(k, values): value(v, values, buyer) for k, v in template.items()}
    if isinstance(template, list):
        return [value(v, values, buyer) for v in template]
    return template


def encode(request: Request, values: Mapping[str, str], buyer: int) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, path, headers, body) for one buyer."""
    values = {**values, "buyer": str(buyer)}
    path = NAME.sub(lambda m: quote(str(values.get(m.group(1), m.group(0))), safe=""), request.path)
    headers = [(k, text(v, values)) for k, v in request.headers]
    body = b""
    if request.json is not None:
        body = json.dumps(value(request.json, values, buyer), separators=(",", ":")).encode()
        headers.append(("Content-Type", "application/json"))
    elif request.form is not None:
        body = urlencode([(k, text(v, values)) for k, v in request.form]).encode()
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    return request.method, path, headers, body


def secrets(request: Request, env: Mapping[str, str] | None = None) -> set[str]:
    """The values headers take from the environment: never shown."""
    env = os.environ if env is None else env
    return {env[m.group(1)] for _, v in request.headers for m in ENV.finditer(v) if env.get(m.group(1))}
