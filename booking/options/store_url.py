"""A --store value, parsed once: which kind of store it names, how people see it, where it lives, its secrets.

`StoreURL.parse(text)` is the one place a store spec is read: a db.json path, a SQLite file (`t.db`,
`sqlite:///t.db`) or a database URL. The result is frozen plain data (it crosses into buyer processes
under fork and spawn) that every layer reads instead of parsing the text again. Its `secrets` go to
`booking.redact.redact` wherever text that may quote the store is shown.

The display masks the password of the userinfo (any characters, `@` included) and secret query
parameters (`password=`, `passwd=`, `pwd=`, tokens). `masked_url` and `url_secrets` do the same for any
other URL booking is given (a --target).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, unquote_plus

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.redact import MASK, SECRET_KEYS

SEPARATOR = "://"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


class StoreKind(enum.StrEnum):
    COUNTER = "counter"  # db.json: {"count": N}, as in the notes
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"
    MYSQL = "mysql"  # MariaDB
    REDIS = "redis"  # the seckill stack's stock: a counter, a ledger stream, by redis:// URL

    @property
    def counts(self) -> bool:
        """A ticket is a value of the stock count (db.json, Redis), not a row: the wording of reads and writes."""
        return self in (StoreKind.COUNTER, StoreKind.REDIS)


_SCHEMES = {
    "sqlite": StoreKind.SQLITE,
    "postgresql": StoreKind.POSTGRESQL,
    "postgres": StoreKind.POSTGRESQL,
    "mysql": StoreKind.MYSQL,
    "mariadb": StoreKind.MYSQL,
    "redis": StoreKind.REDIS,
    "rediss": StoreKind.REDIS,  # over TLS
}
# A URL without a driver gets the one booking installs (SQLAlchemy's own default would be psycopg2
# or mysqlclient, which booking never installs): postgresql:// means psycopg, mysql:// PyMySQL.
INSTALLED_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


@dataclass(frozen=True)
class StoreURL:
    """One store spec, parsed: made only by `StoreURL.parse`, shown only as `display`."""

    text: str = field(repr=False)  # as given: what your own purchase code is handed; it holds the secrets
    kind: StoreKind
    display: str  # what people see: a path, or the URL with its secrets masked
    scheme: str | None  # as written before ://, driver included (None: a path)
    path: Path | None  # the file of a db.json or SQLite store, as written (None: a server, or in memory)
    sqlalchemy: (
        str | None
    )  # SQL stores (None for db.json and Redis): the URL SQLAlchemy is given, the installed driver filled in
    secrets: frozenset[str] = field(repr=False)  # every secret, as written and decoded

    @classmethod
    def parse(cls, text: str) -> StoreURL:
        """The store `text` names, without opening it; BadInput for a scheme booking has no store for, or a
        password holding a raw '@' (a driver would read part of it as the host, and print it)."""
        if SEPARATOR not in text:
            kind = StoreKind.SQLITE if text.lower().endswith(SQLITE_SUFFIXES) else StoreKind.COUNTER
            sql = f"sqlite:///{text}" if kind is StoreKind.SQLITE else None
            return cls(text, kind, text, None, Path(text), sql, frozenset())
        scheme, _sep, rest = text.partition(SEPARATOR)
        base = scheme.split("+", 1)[0].lower()
        if base not in _SCHEMES:
            raise BadInput(
                _(
                    "unknown store URL scheme {scheme!r} (use a db.json path, sqlite://, "
                    "postgresql+psycopg://, mysql+pymysql:// or redis://)"
                ).format(scheme=base)
            )
        display = masked_url(text)
        if re.split(r"[/?]", rest, maxsplit=1)[0].count("@") > 1:
            store = _("store {store}").format(store=display)
            raise BadInput(_("{store}: the password holds a raw '@'; write it as %40").format(store=store))
        kind = _SCHEMES[base]
        if kind is StoreKind.REDIS:
            _redis_database(rest, display)
            return cls(text, kind, display, scheme, None, None, url_secrets(text))
        path = _sqlite_file(rest) if kind is StoreKind.SQLITE else None
        sql = INSTALLED_DRIVERS.get(scheme, scheme) + SEPARATOR + rest
        return cls(text, kind, display, scheme, path, sql, url_secrets(text))

    @classmethod
    def of(cls, spec: StoreURL | str) -> StoreURL:
        """`spec` parsed, unless it already is (the public functions take either)."""
        return spec if isinstance(spec, StoreURL) else cls.parse(spec)

    @property
    def address(self) -> str:
        """The URL after its scheme and ://, query included (a path: the path)."""
        return self.text.partition(SEPARATOR)[2] if self.scheme is not None else self.text

    @property
    def is_file(self) -> bool:
        """A store in a local file (db.json or SQLite), not on a server."""
        return self.kind in (StoreKind.COUNTER, StoreKind.SQLITE)

    def files(self) -> list[Path]:
        """Every file the store is made of, resolved (the data, its lock, SQLite's journals): what no output may be."""
        if self.path is None or not self.text:
            return []
        path = Path(self.path).resolve()
        suffixes = [".lock", ".in-use"] + (["-wal", "-shm", "-journal"] if self.kind is StoreKind.SQLITE else [])
        return [path, *(path.with_name(path.name + s) for s in suffixes)]

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"StoreURL({self.display!r})"


def _sqlite_file(rest: str) -> Path | None:
    """The file of `sqlite:///t.db` and of the URI form `sqlite:///file:t.db?uri=true`; None in memory."""
    if not rest.startswith("/"):
        return None
    path, _sep, query = rest[1:].partition("?")
    if path.startswith("file:") and ("uri=true" in query or "uri=1" in query):
        path = path.removeprefix("file:")
    return Path(path) if path else None


def _redis_database(rest: str, display: str) -> None:
    """A Redis store names the database number booking may own (redis://host:6379/N): never a default 0
    that another application is likely to use."""
    number = re.split(r"[?#]", rest, maxsplit=1)[0].partition("/")[2]
    if not number.isdigit():
        raise BadInput(
            _("store {store}: name the database number booking may own, e.g. redis://127.0.0.1:6379/15").format(
                store=display
            )
        )


def url_secrets(text: str) -> frozenset[str]:
    """The secret values a URL carries, as written and decoded (empty for a path)."""
    if SEPARATOR not in text:
        return frozenset()
    found: set[str] = set()
    head, _sep, query = text.partition(SEPARATOR)[2].partition("?")
    authority = head.rsplit("@", 1)[0] if "@" in head else ""
    if ":" in authority:
        # Everything up to the last '@' (a URL with a raw '@' in its password is refused before use).
        found.add(authority.split(":", 1)[1])
    for pair in re.split(r"[&;]", query):
        key, eq, value = pair.partition("=")
        if eq and unquote_plus(key).lower() in SECRET_KEYS:
            found.add(value)
    decoded = {unquote(s) for s in found} | {unquote_plus(s) for s in found}
    return frozenset(s for s in found | decoded if s)


def masked_url(text: str) -> str:
    """A URL as people may see it: every secret replaced by ***; a path is returned as is."""
    if SEPARATOR not in text:
        return text
    scheme, _sep, rest = text.partition(SEPARATOR)
    head, q, query = rest.partition("?")
    if "@" in head:
        userinfo, _sep, host = head.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        head = f"{user}:{MASK}@{host}" if colon else f"{userinfo}@{host}"
    if q:
        pairs = []
        for pair in re.split(r"([&;])", query):
            key, eq, _value = pair.partition("=")
            pairs.append(f"{key}={MASK}" if eq and unquote_plus(key).lower() in SECRET_KEYS else pair)
        query = "".join(pairs)
    return f"{scheme}{SEPARATOR}{head}{q}{query}"
