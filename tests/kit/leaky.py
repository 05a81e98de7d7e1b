"""Purchase functions that put the store URL, and its password, in their error messages (tests/test_secrets.py)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit


def leaky_buy(store: str, buyer: int, point: Callable[[str], None]) -> int | None:
    parts = urlsplit(store)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    raise RuntimeError(f"buyer {buyer} cannot reach {store}: password {unquote(parts.password or '')!r}, query {query}")
