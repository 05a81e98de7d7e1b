"""Passwords never leave the process: the one place that masks them, in URLs and in any text.

Two layers. `mask_url` shows a store URL with its secrets replaced by ***: the password of the
userinfo part (any characters, `@` included) and secret query parameters (`password=`, `passwd=`,
`pwd=`, tokens). `redact` cleans free text (an error message, a report, a history line): URLs in it
are masked the same way, and every secret this process has seen in a store URL (`remember`) is
replaced wherever it stands, in its plain and its percent-encoded form, so a password with a space
or an `@` in a driver's message is caught too.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

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

_known: set[str] = set()  # secrets seen in this process's store URLs (inherited by forked buyers)


def secrets_of(spec: str) -> set[str]:
    """The secret values a store spec carries, as written and decoded (empty for a path)."""
    if "://" not in spec:
        return set()
    found: set[str] = set()
    head, _, query = spec.partition("://")[2].partition("?")
    authority = head.rsplit("@", 1)[0] if "@" in head else ""
    if ":" in authority:
        # Everything up to the last '@' (a URL with a raw '@' in its password is refused before use).
        found.add(authority.split(":", 1)[1])
    for pair in re.split(r"[&;]", query):
        key, eq, value = pair.partition("=")
        if eq and unquote_plus(key).lower() in SECRET_KEYS:
            found.add(value)
    decoded = {unquote(s) for s in found} | {unquote_plus(s) for s in found}
    return {s for s in found | decoded if s}


def remember(spec: str) -> None:
    """Register the secrets of a store spec: `redact` masks them wherever they appear from now on."""
    _known.update(secrets_of(spec))


def mask_url(spec: str) -> str:
    """A store spec as people may see it: every secret replaced by ***; a path is returned as is."""
    if "://" not in spec:
        return spec
    scheme, _, rest = spec.partition("://")
    head, q, query = rest.partition("?")
    if "@" in head:
        userinfo, _, host = head.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        head = f"{user}:{MASK}@{host}" if colon else f"{userinfo}@{host}"
    if q:
        pairs = []
        for pair in re.split(r"([&;])", query):
            key, eq, _value = pair.partition("=")
            pairs.append(f"{key}={MASK}" if eq and unquote_plus(key).lower() in SECRET_KEYS else pair)
        query = "".join(pairs)
    return f"{scheme}://{head}{q}{query}"


_URL_IN_TEXT = re.compile(rf"{_SCHEME}\S+")


def redact(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """`text` with every URL password, secret query value and known secret replaced by ***.

    Inside a URL the password is found by where it stands (so a password that is also the user or the
    database name leaves those readable); elsewhere a known secret is masked wherever it stands as a
    whole word (a password "postgres" is masked in `user "postgres"`, not in "postgresql").
    """
    known = sorted(_known | set(secrets), key=len, reverse=True)
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
