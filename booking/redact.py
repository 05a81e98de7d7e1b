"""Passwords never leave the process: the masking of free text.

A store URL's own display is masked where it is parsed (booking.options.store_url). `redact` cleans
free text (an error message, a report, a history line): URLs in it have their userinfo password and
secret query parameters (`password=`, `passwd=`, `pwd=`, tokens) replaced by ***, and every secret it
is given (a StoreURL's `secrets`) is replaced wherever it stands, in its plain and its percent-encoded
form, so a password with a space or an `@` in a driver's message is caught too.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from urllib.parse import quote, quote_plus

MASK = "***"
# Query parameters whose value is a secret (libpq's password, PyMySQL's passwd, ODBC's pwd, tokens).
SECRET_KEYS = frozenset(
    {"password", "passwd", "pwd", "pass", "secret", "token", "access_token", "api_key", "apikey", "sslpassword"}
)
_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]*://"
# In free text a URL's userinfo ends at the last '@' before whitespace; the password is what follows
# the first ':' of the userinfo.
_TEXT_USERINFO = re.compile(rf"(?P<head>{_SCHEME}[^:/@\s]*:)(?P<password>\S*)(?P<at>@)")
_KEYS = "|".join(sorted(SECRET_KEYS))
_TEXT_QUERY = re.compile(rf"(?P<head>[?&;](?:{_KEYS})=)(?P<value>[^&\s'\"]*)", re.IGNORECASE)

_URL_IN_TEXT = re.compile(rf"{_SCHEME}\S+")


def redact(text: str, secrets: AbstractSet[str] = frozenset()) -> str:
    """`text` with every URL password, secret query value and each of `secrets` replaced by ***.

    Inside a URL the password is found by where it stands (so a password that is also the user or the
    database name leaves those readable); elsewhere a known secret is masked wherever it stands as a
    whole word (a password "postgres" is masked in `user "postgres"`, not in "postgresql").
    """
    known = sorted(secrets, key=len, reverse=True)
    out, last = [], 0
    for url in _URL_IN_TEXT.finditer(text):
        out.append(_mask_words(text[last : url.start()], known))
        out.append(_mask_in_url(url.group(), known))
        last = url.end()
    out.append(_mask_words(text[last:], known))
    return "".join(out)


def _mask_in_url(url: str, known: list[str]) -> str:
    masked = _TEXT_QUERY.sub(
        lambda m: f"{m['head']}{MASK}", _TEXT_USERINFO.sub(lambda m: f"{m['head']}{MASK}{m['at']}", url)
    )
    if masked != url:
        return masked
    return _mask_words(url, known)  # no userinfo password: a secret may still sit in it (a path, a token)


def _mask_words(text: str, known: list[str]) -> str:
    for secret in known:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            if form and form in text:
                text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", MASK, text)
    return text
