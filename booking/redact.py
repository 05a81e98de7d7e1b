"""Passwords never leave the process: mask them in URLs and in any text that may carry one."""

from __future__ import annotations

import re

# scheme://user:password@host  ->  scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<at>@)")


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by ***."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***{m['at']}", text)
