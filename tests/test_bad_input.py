"""Bad input everywhere (issue 6): one line naming the problem, exit 2 (usage, input) or 3 (environment),
no traceback, and the store as it was (its file's hash, or a digest of its tables read with plain SQL).

tests/test_cli.py keeps the first table (malformed db.json contents under `simulate`); this file adds
every other command's numbers, hostile files that are not plain files, SQLite files, histories, URLs,
unreachable servers, wrong credentials, a newer schema and read-only directories.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from booking import init_store
from booking.stores.migrate import head
from tests.helpers import MYSQL_PASSWORD, Ran, plain_connect, unwritable

GOOD = '{"count": 1}'
PASSWORD = "hunter2-" + "x7q"  # in every URL below that carries one: it must never be printed


def tree(directory: Path) -> dict[str, str]:
    """Every file under `directory` and the hash of its bytes (FIFOs and devices by name only)."""
    out: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_symlink() or not path.is_file():
            out[str(path.relative_to(directory))] = "-"
        else:
            out[str(path.relative_to(directory))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def table_digest(url: str) -> str:
    """The tables booking owns, row by row, read with plain SQL (no booking code in between)."""
    conn = plain_connect(url)
    try:
        cur = conn.cursor()
        rows: list[Any] = []
        for sql in (
            "SELECT id, sold_to, version FROM tickets ORDER BY id",
            "SELECT ticket_id, buyer FROM purchases ORDER BY ticket_id, buyer",
            "SELECT version_num FROM alembic_version",
        ):
            cur.execute(sql)
            rows.append(cur.fetchall())
        return hashlib.sha256(repr(rows).encode()).hexdigest()
    finally:
        conn.close()


def assert_one_line(ran: Ran, code: int, words: str) -> None:
    assert ran.code == code, (ran.code, ran.err)
    assert len(ran.err.splitlines()) == 1, ran.err
    assert ran.err.startswith("booking: error: "), ran.err
    assert words in ran.err, ran.err
    assert "Traceback" not in ran.err + ran.out
    assert PASSWORD not in ran.err + ran.out and MYSQL_PASSWORD not in ran.err + ran.out


# -- every numeric option of every command: (id, args, words); exit 2, nothing written
# {json}: a good db.json, {history}: an empty (valid) history; both must stay as they are.
NUMBERS = [
    ("simulate-buyers-zero", ["simulate", "--store", "{json}", "--buyers", "0"], "--buyers must be at least 1"),
    ("simulate-buyers-float", ["simulate", "--store", "{json}", "--buyers", "1.5"], "'--buyers'"),
    ("simulate-buyers-million", ["simulate", "--store", "{json}", "--buyers", "1000000"], "at most 2,000"),
    ("simulate-tickets-word", ["simulate", "--store", "{json}", "--tickets", "x"], "'--tickets'"),
    ("simulate-tickets-huge", ["simulate", "--store", "{json}", "--tickets", "100000000"], "at most 10,000,000"),
    ("simulate-attempts-word", ["simulate", "--store", "{json}", "--attempts", "many"], "'--attempts'"),
    ("simulate-attempts-huge", ["simulate", "--store", "{json}", "--attempts", "10000000"], "at most 1,000,000"),
    ("simulate-think-inf", ["simulate", "--store", "{json}", "--think", "inf"], "--think must be at most 60,000"),
    ("simulate-think-word", ["simulate", "--store", "{json}", "--think", "long"], "'--think'"),
    ("simulate-deadline-nan", ["simulate", "--store", "{json}", "--deadline", "nan"], "--deadline must be a number"),
    ("simulate-deadline-negative", ["simulate", "--store", "{json}", "--deadline", "-1"], "at least 0.1"),
    ("simulate-deadline-huge", ["simulate", "--store", "{json}", "--deadline", "1e9"], "at most 86,400"),
    ("simulate-sellers-zero", ["simulate", "--store", "{json}", "--sellers", "0"], "--sellers must be at least 1"),
    ("simulate-sellers-huge", ["simulate", "--store", "{json}", "--sellers", "65"], "--sellers must be at most 64"),
    ("simulate-seed-word", ["simulate", "--store", "{json}", "--seed", "abc"], "'--seed'"),
    ("simulate-isolation-bogus", ["simulate", "--store", "{json}", "--isolation", "dirty"], "'--isolation'"),
    ("compare-buyers-zero", ["compare", "--stores", "{json}", "--buyers", "0"], "--buyers must be at least 1"),
    ("compare-buyers-word", ["compare", "--stores", "{json}", "--buyers", "1,x"], "comma-separated whole numbers"),
    ("compare-buyers-million", ["compare", "--stores", "{json}", "--buyers", "1000000"], "at most 2,000"),
    ("compare-tickets-zero", ["compare", "--stores", "{json}", "--tickets", "0"], "--tickets must be at least 1"),
    ("compare-tickets-huge", ["compare", "--stores", "{json}", "--tickets", "1000000000"], "at most 10,000,000"),
    ("compare-trials-zero", ["compare", "--stores", "{json}", "--trials", "0"], "--trials must be at least 1"),
    ("compare-trials-word", ["compare", "--stores", "{json}", "--trials", "x"], "'--trials'"),
    ("compare-trials-absurd", ["compare", "--stores", "{json}", "--trials", "1000000"], "the limit is"),
    ("compare-seed-word", ["compare", "--stores", "{json}", "--seed", "x"], "'--seed'"),
    ("compare-format", ["compare", "--stores", "{json}", "--format", "xml"], "unknown format 'xml'"),
    ("compare-schedule", ["compare", "--stores", "{json}", "--schedule", "random"], "compare takes free and lockstep"),
    ("compare-strategy", ["compare", "--stores", "{json}", "--strategies", "bogus"], "unknown strategy 'bogus'"),
    ("init-tickets-negative", ["init", "--store", "{json}", "--tickets", "-1"], "--tickets must be at least 0"),
    ("init-tickets-word", ["init", "--store", "{json}", "--tickets", "x"], "'--tickets'"),
    ("init-tickets-huge", ["init", "--store", "{json}", "--tickets", "1000000000"], "at most 10,000,000"),
    (
        "verify-tickets-negative",
        ["verify", "--store", "{json}", "--history", "{history}", "--tickets", "-1"],
        "at least 0",
    ),
    ("verify-tickets-word", ["verify", "--store", "{json}", "--history", "{history}", "--tickets", "x"], "'--tickets'"),
    (
        "verify-tickets-huge",
        ["verify", "--store", "{json}", "--history", "{history}", "--tickets", "1000000000"],
        "at most 10,000,000",
    ),
    ("sqlite-isolation-bogus", ["simulate", "--store", "{sqlite}", "--isolation", "chaos"], "'--isolation'"),
    ("sqlite-strategy-not-for-sqlite", ["simulate", "--store", "{sqlite}", "--lock", "advisory"], "advisory"),
    # options that contradict each other (issue 12): refused, never resolved silently
    ("no-lock-and-lock", ["simulate", "--store", "{json}", "--no-lock", "--lock", "file-lock"], "choose one"),
    ("receipts-only-alone", ["simulate", "--store", "{json}", "--receipts-only"], "only with --purchase"),
    ("keep-and-tickets", ["simulate", "--store", "{json}", "--keep", "--tickets", "50"], "--tickets 50 does not apply"),
    (
        "purchase-and-lock",
        ["simulate", "--store", "{json}", "--purchase", "booking.examples.counter:racy_buy", "--lock", "mp-lock"],
        "--lock mp-lock does not apply",
    ),
    ("durable-on-sqlite", ["simulate", "--store", "{sqlite}", "--durable"], "--durable applies to db.json only"),
]


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """An initialised SQLite store's bytes: made once, copied into each test (112 tests, one set-up)."""
    path = tmp_path_factory.mktemp("made") / "tickets.db"
    init_store(str(path), 3)
    with sqlite3.connect(path) as conn:  # one file: the WAL checkpointed into it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.read_bytes()


@pytest.fixture
def files(tmp_path: Path, sqlite_store: bytes) -> dict[str, str]:
    """A good db.json, an initialised SQLite store and an empty history, by placeholder."""
    (tmp_path / "db.json").write_text(GOOD)
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "tickets.db").write_bytes(sqlite_store)
    return {
        "json": str(tmp_path / "db.json"),
        "sqlite": str(tmp_path / "tickets.db"),
        "history": str(tmp_path / "empty.jsonl"),
    }


@pytest.mark.parametrize(("args", "words"), [c[1:] for c in NUMBERS], ids=[c[0] for c in NUMBERS])
def test_numbers_out_of_range_or_not_numbers(
    cli: Any, tmp_path: Path, files: dict[str, str], args: list[str], words: str
) -> None:
    before = tree(tmp_path)
    ran = cli(*(a.format(**files) for a in args))
    assert_one_line(ran, 2, words)
    assert ran.out == ""
    assert tree(tmp_path) == before


# -- hostile files: (id, how to make the file at `path`, args, code, words)
def _write(text: str | bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return make


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _directory(path: Path) -> None:
    path.mkdir()


def _truncated_sqlite(path: Path) -> None:
    whole = path.with_name("whole.db")
    init_store(str(whole), 5)
    path.write_bytes(whole.read_bytes()[:3000])
    whole.unlink()


def _loop(path: Path) -> None:
    path.with_name("other").symlink_to(path)
    path.symlink_to(path.with_name("other"))


def _two_revisions(path: Path) -> None:
    init_store(str(path), 2)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO alembic_version VALUES ('0001')")  # beside the head's: two rows
    conn.execute("PRAGMA journal_mode=DELETE")  # one file: reading it leaves its bytes as they are
    conn.close()


ATTEMPT = '{"kind": "attempt", "buyer": 1, "attempt": 0, "outcome": "ok", "ticket": 1}\n'
LONG = "x" * 300  # a name no file system takes
HOSTILE = [
    ("json-duplicate-key", "db.json", _write('{"count": 1, "count": 5}'), ["simulate", "--keep"], 2, "duplicate key"),
    ("json-count-huge", "db.json", _write('{"count": 1' + "0" * 30 + "}"), ["simulate", "--keep"], 2, "at most"),
    ("json-count-infinity", "db.json", _write('{"count": 1e999}'), ["simulate", "--keep"], 2, "whole number"),
    ("json-count-nan", "db.json", _write('{"count": NaN}'), ["simulate", "--keep"], 2, "whole number"),
    ("json-two-documents", "db.json", _write('{"count": 1}{"count": 2}'), ["simulate", "--keep"], 2, "not JSON"),
    ("json-fifo", "db.json", _fifo, ["simulate", "--keep"], 2, "not a regular file"),
    ("json-fifo-verify", "db.json", _fifo, ["verify", "--history", "{history}"], 2, "not a regular file"),
    ("json-dev-zero", "db.json", _dev_zero, ["simulate"], 2, "not a regular file"),
    ("json-directory", "db.json", _directory, ["simulate"], 2, "is a directory"),
    ("json-foreign-init", "db.json", _write("my notes"), ["init", "--tickets", "3"], 2, "not JSON"),
    ("sqlite-text", "t.db", _write("hello, not a database\n"), ["simulate", "--keep"], 2, "file is not a database"),
    ("sqlite-text-init", "t.db", _write("hello, not a database\n"), ["init"], 2, "file is not a database"),
    ("sqlite-truncated", "t.db", _truncated_sqlite, ["simulate", "--keep"], 2, "malformed"),
    ("history-truncated", "h.jsonl", _write(ATTEMPT + ATTEMPT[:30]), ["verify", "--store", "{json}"], 2, "line 2"),
    ("history-binary", "h.jsonl", _write(b"\x00\xff\xfe\n"), ["verify", "--store", "{json}"], 2, "not UTF-8"),
    ("history-fifo", "h.jsonl", _fifo, ["verify", "--store", "{json}"], 2, "not a regular file"),
    ("history-dev-zero", "h.jsonl", _dev_zero, ["verify", "--store", "{json}"], 2, "not a regular file"),
    ("history-directory", "h.jsonl", _directory, ["verify", "--store", "{json}"], 2, "is a directory"),
    ("history-missing", "h.jsonl", lambda p: None, ["verify", "--store", "{json}"], 2, "no such file"),
    (
        "history-long-line",
        "h.jsonl",
        _write('{"x": "' + "a" * 100_000 + '"}\n'),
        ["verify", "--store", "{json}"],
        2,
        "longer than",
    ),
    ("history-array", "h.jsonl", _write("[1, 2]\n"), ["verify", "--store", "{json}"], 2, "expected a JSON object"),
    (
        "history-bad-status",
        "h.jsonl",
        _write('{"kind": "buyer", "buyer": 1, "status": "zombie"}\n'),
        ["verify", "--store", "{json}"],
        2,
        "line 1",
    ),
    # contract misses (issue 12): each was an "unexpected" exit 3
    ("json-symlink-loop", "db.json", _loop, ["simulate", "--keep"], 2, "a symlink loop"),
    ("json-name-too-long", LONG + ".json", lambda p: None, ["simulate", "--keep"], 2, "name too long"),
    ("sqlite-name-too-long", LONG + ".db", lambda p: None, ["simulate"], 2, "name too long"),
    ("sqlite-two-revisions", "t.db", _two_revisions, ["simulate", "--keep"], 2, "several revisions"),
    (
        "history-5000-digits",
        "h.jsonl",
        _write('{"kind": "attempt", "buyer": 1' + "0" * 5000 + ', "attempt": 0, "outcome": "ok"}\n'),
        ["verify", "--store", "{json}"],
        2,
        "a number too large",
    ),
    ("history-name-too-long", LONG + ".jsonl", lambda p: None, ["simulate", "--store", "{json}"], 2, "name too long"),
    (
        "history-unwritable-target",
        "h.jsonl",
        _directory,
        ["simulate", "--store", "{json}"],
        2,
        "cannot be written",
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "args", "code", "words"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_hostile_files(
    cli: Any,
    tmp_path: Path,
    files: dict[str, str],
    name: str,
    make: Callable[[Path], None],
    args: list[str],
    code: int,
    words: str,
) -> None:
    (tmp_path / "hostile").mkdir()
    path = tmp_path / "hostile" / name
    make(path)
    argv = [a.format(**files) for a in args]
    argv += ["--history", str(path)] if name.endswith(".jsonl") else ["--store", str(path)]
    before = tree(tmp_path)
    ran = cli(*argv)
    assert_one_line(ran, code, words)
    assert tree(tmp_path) == before


# -- URLs: parsed and refused before anything is opened (exit 2), or refused by the network (exit 3).
# In this process: an unreachable server is bounded by booking's own connect timeout (stores/limits.py).
URLS = [
    ("unknown-scheme", f"oracle://scott:{PASSWORD}@127.0.0.1/orcl", 2, "unknown store URL scheme 'oracle'"),
    ("unknown-pg-driver", f"postgresql+nosuchdriver://u:{PASSWORD}@127.0.0.1/db", 2, "Can't load plugin"),
    ("unknown-mysql-driver", f"mysql+nosuchdriver://u:{PASSWORD}@127.0.0.1/db", 2, "Can't load plugin"),
    ("bad-port", f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:abc/db", 2, "not a database URL"),
    ("sqlite-in-memory", "sqlite://", 2, "in-memory SQLite database cannot be shared"),
    ("pg-closed-port", f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/db", 3, "Connection refused"),
    ("mysql-closed-port", f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:1/db", 3, "Can't connect"),
    ("unresolvable-host", f"postgresql+psycopg://postgres:{PASSWORD}@no-such-host.invalid/db", 3, "resolve"),
    ("sqlite-missing-directory", "sqlite:////no/such/directory/t.db", 3, "directory /no/such/directory does not exist"),
    # contract misses (issue 12)
    ("sqlite-timeout-word", "sqlite:////no/such/directory/t.db?timeout=abc", 2, "could not convert string to float"),
    ("sqlite-uri-in-memory", "sqlite:///file::memory:?uri=true", 2, "in-memory SQLite database cannot be shared"),
    ("pg-sslmode-bogus", f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:5432/db?sslmode=bogus", 2, "sslmode"),
    ("pg-no-database", f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:5432/", 2, "names no database"),
]
COMMANDS = [
    ["simulate"],
    ["simulate", "--keep"],
    ["init"],
    ["verify", "--history", "{history}"],
    ["db", "current"],
    ["db", "upgrade"],
]


# By default every URL with `simulate`, and every command with two URLs (one refused as written, one
# unreachable): 23 runs. The whole matrix (78 runs) under -m slow.
URL_CASES = [
    pytest.param(
        command,
        *case[1:],
        id=f"{case[0]}-" + "-".join(command[:2]).replace("--", ""),
        marks=() if command == ["simulate"] or case[0] in ("unknown-scheme", "pg-closed-port") else pytest.mark.slow,
    )
    for case in URLS
    for command in COMMANDS
]


@pytest.mark.parametrize(("command", "url", "code", "words"), URL_CASES)
def test_urls_that_cannot_be_used(
    cli: Any, tmp_path: Path, files: dict[str, str], command: list[str], url: str, code: int, words: str
) -> None:
    before = tree(tmp_path)
    ran = cli(*(a.format(**files) for a in command), "--store", url)
    assert_one_line(ran, code, words)
    assert tree(tmp_path) == before


def test_compare_refuses_an_unknown_scheme_and_an_unreachable_server(cli: Any) -> None:
    ran = cli("compare", "--stores", f"oracle://s:{PASSWORD}@h/db")
    assert_one_line(ran, 2, "unknown store URL scheme 'oracle'")
    url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/db"
    ran = cli("compare", "--stores", url, "--strategies", "atomic", "--trials", "1", "--buyers", "1")
    assert ran.code == 3 and "Connection refused" in ran.err and PASSWORD not in ran.out + ran.err


# -- servers: wrong credentials, a missing database, a schema from a newer booking; tables unchanged
def _wrong_password(url: str) -> str:
    return url.replace(f":{MYSQL_PASSWORD}@", f":{PASSWORD}@")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: "-".join(c[:2]).replace("--", ""))
def test_wrong_password_is_exit_3_within_seconds(
    cli: Any, mysql_password_url: str, files: dict[str, str], command: list[str]
) -> None:
    init_store(mysql_password_url, 2)
    before = table_digest(mysql_password_url)
    args = [a.format(**files) for a in command]
    ran = cli(*args, "--store", _wrong_password(mysql_password_url))
    assert_one_line(ran, 3, "Access denied")
    assert table_digest(mysql_password_url) == before


def test_unknown_role_and_database_on_postgresql(cli: Any, postgresql_url: str) -> None:
    init_store(postgresql_url, 2)
    before = table_digest(postgresql_url)
    for url, words in [
        (postgresql_url.replace("postgres@", "booking_no_such_role@"), 'role "booking_no_such_role" does not exist'),
        (postgresql_url.rsplit("/", 1)[0] + "/booking_no_such_db", 'database "booking_no_such_db" does not exist'),
    ]:
        ran = cli("simulate", "--store", url)
        assert_one_line(ran, 3, words)
    assert table_digest(postgresql_url) == before


NEWER = "ffff_from_the_future"


def _stamp(url: str, revision: str) -> None:
    conn = plain_connect(url)
    try:
        cur = conn.cursor()
        cur.execute(
            "UPDATE alembic_version SET version_num = " + ("?" if url.startswith("sqlite") else "%s"), (revision,)
        )
        conn.commit()
    finally:
        conn.close()


NEWER_COMMANDS = [*COMMANDS[:4], ["db", "upgrade"], ["db", "downgrade"]]


@pytest.mark.parametrize("command", NEWER_COMMANDS, ids=lambda c: "-".join(c[:2]).replace("--", ""))
def test_a_store_from_a_newer_schema_is_left_alone(
    cli: Any, tmp_path: Path, files: dict[str, str], command: list[str]
) -> None:
    store = files["sqlite"]
    _stamp(f"sqlite:///{store}", NEWER)
    before = tree(tmp_path)
    ran = cli(*(a.format(**files) for a in command), "--store", store)
    assert_one_line(ran, 3, f"schema revision '{NEWER}' is unknown to this booking")
    assert tree(tmp_path) == before


def test_db_current_names_a_newer_revision_exit_3(cli: Any, tmp_path: Path, files: dict[str, str]) -> None:
    _stamp(f"sqlite:///{files['sqlite']}", NEWER)
    before = tree(tmp_path)
    ran = cli("db", "current", "--store", files["sqlite"])
    assert ran.code == 3 and "unknown to this booking, made by a newer one" in ran.out
    assert tree(tmp_path) == before


def test_a_newer_schema_on_postgresql(cli: Any, postgresql_url: str) -> None:
    init_store(postgresql_url, 2)
    _stamp(postgresql_url, NEWER)
    try:
        before = table_digest(postgresql_url)
        for command in (["simulate", "--keep"], ["init"], ["db", "upgrade"]):
            ran = cli(*command, "--store", postgresql_url)
            assert_one_line(ran, 3, "unknown to this booking")
        assert table_digest(postgresql_url) == before
    finally:
        _stamp(postgresql_url, head())  # as it was: the session's database is shared


# -- a read-only store directory: SQLite needs its -wal/-shm files beside the store (db.json: test_cli)
@pytest.mark.parametrize("command", [["simulate"], ["simulate", "--keep"], ["init"]], ids="-".join)
def test_sqlite_in_a_read_only_directory(cli: Any, tmp_path: Path, command: list[str]) -> None:
    directory = tmp_path / "locked"
    directory.mkdir()
    store = directory / "t.db"
    init_store(str(store), 2)
    with sqlite3.connect(store) as conn:  # checkpoint and drop the WAL: only t.db remains
        conn.execute("PRAGMA journal_mode=DELETE")
    before = tree(tmp_path)
    with unwritable(directory):
        ran = cli(*command, "--store", store)
    assert_one_line(ran, 3, f"directory {directory} cannot be written")
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    ("module", "args", "extra"),
    [
        ("h11", ["simulate", "--target", "http://127.0.0.1:9/", "--buyers", "2"], "service"),
        ("h11", ["target", "check", "race.toml"], "service"),
    ],
)
def test_a_feature_without_its_extra_says_what_to_install(module: str, args: list[str], extra: str) -> None:
    """As on a machine where `pip install -e .` left the extra out: one line naming the extra, exit 3."""
    import subprocess
    import sys

    code = f"import sys; sys.modules[{module!r}] = None; from booking.cli import main; sys.exit(main({args!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip() == (
        f"booking: error: {module} is not installed (it comes with an extra): pip install 'booking-race-lab[{extra}]'"
    )
