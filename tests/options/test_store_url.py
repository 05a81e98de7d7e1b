"""StoreURL: a --store value parsed once, into plain data every layer and every process reads."""

from __future__ import annotations

import multiprocessing
import pickle
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from booking.errors import BadInput
from booking.options.store_url import StoreKind, StoreURL, masked_url
from booking.redact import redact


@pytest.mark.parametrize(
    ("text", "kind", "path", "sqlalchemy"),
    [
        ("db.json", StoreKind.COUNTER, Path("db.json"), None),
        ("data/stock.json", StoreKind.COUNTER, Path("data/stock.json"), None),
        ("t.db", StoreKind.SQLITE, Path("t.db"), "sqlite:///t.db"),
        ("T.SQLITE3", StoreKind.SQLITE, Path("T.SQLITE3"), "sqlite:///T.SQLITE3"),
        ("sqlite:///t.db", StoreKind.SQLITE, Path("t.db"), "sqlite:///t.db"),
        ("sqlite:////abs/t.db", StoreKind.SQLITE, Path("/abs/t.db"), "sqlite:////abs/t.db"),
        ("sqlite:///file:t.db?uri=true", StoreKind.SQLITE, Path("t.db"), "sqlite:///file:t.db?uri=true"),
        ("sqlite://", StoreKind.SQLITE, None, "sqlite://"),
        ("postgresql://u@h/db", StoreKind.POSTGRESQL, None, "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", StoreKind.POSTGRESQL, None, "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", StoreKind.POSTGRESQL, None, "postgresql+psycopg://u@h/db"),
        ("mysql://u@h/db", StoreKind.MYSQL, None, "mysql+pymysql://u@h/db"),
        ("mariadb://u@h/db", StoreKind.MYSQL, None, "mariadb+pymysql://u@h/db"),
        ("mysql+pymysql://u@h/db", StoreKind.MYSQL, None, "mysql+pymysql://u@h/db"),
    ],
)
def test_each_kind_is_parsed(text: str, kind: StoreKind, path: Path | None, sqlalchemy: str | None) -> None:
    url = StoreURL.parse(text)
    assert (url.kind, url.path, url.sqlalchemy, url.text) == (kind, path, sqlalchemy, text)
    assert url.is_file is (kind in (StoreKind.COUNTER, StoreKind.SQLITE))


def test_a_path_shows_as_itself_and_carries_no_secret() -> None:
    url = StoreURL.parse("shop.db")
    assert (url.display, url.scheme, url.secrets, url.address) == ("shop.db", None, frozenset(), "shop.db")


SPACED = "sp ace@pw"


@pytest.mark.parametrize(
    ("text", "shown", "secrets"),
    [
        ("postgresql+psycopg://u:secret@h:5432/d", "postgresql+psycopg://u:***@h:5432/d", {"secret"}),
        ("mysql+pymysql://root@h/d", "mysql+pymysql://root@h/d", set()),
        ("postgresql+psycopg://u:p%40ss@h/d", "postgresql+psycopg://u:***@h/d", {"p%40ss", "p@ss"}),
        (f"postgresql://u:{quote(SPACED, safe='')}@h/d", "postgresql://u:***@h/d", {quote(SPACED, safe=""), SPACED}),
        ("postgresql://u@h/d?password=q1&sslmode=off", "postgresql://u@h/d?password=***&sslmode=off", {"q1"}),
        ("postgresql://u@h/d?sslpassword=t0k", "postgresql://u@h/d?sslpassword=***", {"t0k"}),
        ("mysql://u@h/d?passwd=p+w", "mysql://u@h/d?passwd=***", {"p+w", "p w"}),
        ("mysql://u@h/d?charset=utf8;PWD=x9", "mysql://u@h/d?charset=utf8;PWD=***", {"x9"}),
        ("postgresql://u:a@h/d?token=b", "postgresql://u:***@h/d?token=***", {"a", "b"}),
    ],
)
def test_every_secret_form_is_masked_and_carried(text: str, shown: str, secrets: set[str]) -> None:
    url = StoreURL.parse(text)
    assert url.display == shown == str(url) == masked_url(text)
    assert secrets <= url.secrets
    assert not any(s in repr(url) for s in url.secrets)  # the repr is the display too


def test_the_secrets_mask_free_text_in_every_spelling() -> None:
    url = StoreURL.parse(f"postgresql://u:{quote(SPACED, safe='')}@h/d?password=q-1")
    said = f"auth failed for {SPACED!r}, {quote(SPACED, safe='')}, {quote_plus(SPACED)} and q-1"
    masked = redact(said, url.secrets)
    assert not any(s in masked for s in (SPACED, quote(SPACED, safe=""), quote_plus(SPACED), "q-1"))
    assert "auth failed for" in masked


def test_equal_text_makes_equal_hashable_values() -> None:
    assert StoreURL.parse("postgresql://u:p@h/d") == StoreURL.parse("postgresql://u:p@h/d")
    assert len({StoreURL.parse("t.db"), StoreURL.parse("t.db"), StoreURL.parse("db.json")}) == 2
    url = StoreURL.parse("t.db")
    assert StoreURL.of(url) is url and StoreURL.of("t.db") == url


def test_it_pickles_whole() -> None:
    url = StoreURL.parse("postgresql://u:p%40ss@h/d?password=q")
    again = pickle.loads(pickle.dumps(url))
    assert again == url and again.secrets == url.secrets and again.kind is StoreKind.POSTGRESQL


def _kind_in_child(url: StoreURL, out: multiprocessing.Queue[tuple[str, str]]) -> None:
    out.put((url.kind.value, url.display))


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_it_crosses_into_a_process_under_every_start_method(method: str) -> None:
    ctx = multiprocessing.get_context(method)
    out: multiprocessing.Queue[tuple[str, str]] = ctx.Queue()
    url = StoreURL.parse("mysql://u:pw@h/d")
    child = ctx.Process(target=_kind_in_child, args=(url, out))
    child.start()
    try:
        assert out.get(timeout=30) == ("mysql", "mysql://u:***@h/d")
    finally:
        child.join(30)
        out.close()
        out.join_thread()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "oracle://scott:tiger@h/orcl",
            "unknown store URL scheme 'oracle' (use a db.json path, sqlite://, postgresql+psycopg://, "
            "mysql+pymysql:// or redis://)",
        ),
        ("Redis+X://h", "name the database number booking may own"),
        (
            "postgresql+psycopg://postgres:p@ss-Tail9@127.0.0.1:5432/db",
            "store postgresql+psycopg://postgres:***@127.0.0.1:5432/db: the password holds a raw '@'; write it as %40",
        ),
    ],
)
def test_bad_input_is_refused_in_one_line(text: str, said: str) -> None:
    with pytest.raises(BadInput) as caught:
        StoreURL.parse(text)
    message = str(caught.value)
    assert said in message and "\n" not in message
    assert "tiger" not in message and "ss-Tail9" not in message
