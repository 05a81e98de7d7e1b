"""The Chinese catalogue reads as Chinese: no English word in a Chinese line except names (commands,
options and their values, strategies, code, products, the figures --json names), and the domain's words
are the glossary's (docs/glossary.md), which lists every one of them."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import i18n  # noqa: E402

from booking.strategies import STRATEGIES  # noqa: E402

CATALOGUE = i18n.read_po(ROOT / "booking/i18n/locale/zh/LC_MESSAGES/booking.po")
LINES = {msgid: " ".join(e.msgstr) for msgid, e in CATALOGUE.items() if msgid}
GLOSSARY = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")

# Names a Chinese line may carry as they are: commands and subcommands, strategies, option values, Python's
# and the notes' code names, programs, libraries and databases. An all-capitals word is a name too (a
# metavar such as FILE, SQL, a verdict word --json says); so is anything with code's punctuation in it.
ALLOWED = {
    *STRATEGIES,
    # commands
    *[
        "booking",
        "simulate",
        "verify",
        "init",
        "compare",
        "lesson",
        "strategies",
        "serve",
        "db",
        "upgrade",
        "downgrade",
        "current",
    ],
    # strategies, and the values options take
    *["none", "queue", "atomic", "serializable", "advisory", "lockstep", "free", "random", "exhaustive"],
    *["fork", "spawn", "forkserver", "text", "table", "md", "json", "csv", "html", "en", "zh"],
    # Python's and the notes' names
    *["Process", "Lock", "Queue", "JoinableQueue", "daemon", "join", "True", "None", "int", "count", "multiprocessing"],
    # programs, libraries, databases, formats
    *[
        "SQLite",
        "Redis",
        "PostgreSQL",
        "MariaDB",
        "MySQL",
        "Alembic",
        "SQLAlchemy",
        "uvicorn",
        "httpx",
        "matplotlib",
        "pgbench",
        "RabbitMQ",
        "Hypercorn",
        # a --target-config file's keys and the answers' names, as the file and the JSON write them
        "url",
        "form",
        "arrival",
        "token",
        "cookie",
        "remaining",
        "pika",
        "pip",
        "install",
        "fsync",
        "shell",
        "booking",
        # the key --step reads to stop the run
        "q",
    ],
}
CODE = re.compile(r"[._\-=(){}\[\]/:#$*<>'\"0-9@%&|\\+~^!?]")
SKIP = re.compile(r"`[^`]*`|\{[^}]*\}|\w+\([^)]*\)")  # code spans, placeholders, calls such as function(a, b)


def english_words(line: str) -> list[str]:
    """The English words in a Chinese line that are not names."""
    words = []
    for run in re.findall(r"[\x21-\x7e]+", SKIP.sub(" ", line)):  # a run of ASCII between spaces and Chinese
        word = run.rstrip(",;")
        if not word or CODE.search(word) or word.isupper() or word in ALLOWED:
            continue
        words.append(word)
    return words


def test_the_scan_finds_english() -> None:
    assert english_words("存储 db.json 的 stock，lockstep 调度，UNSAFE，`store` 和 {store}") == ["stock"]  # noqa: RUF001


@pytest.mark.parametrize("msgid", sorted(LINES), ids=lambda m: m[:40])
def test_no_english_word_in_a_chinese_line(msgid: str) -> None:
    assert english_words(LINES[msgid]) == [], LINES[msgid]


def glossary() -> list[tuple[str, str, str]]:
    """(English, 中文, words not to use) for each row of the glossary's table."""
    rows = []
    for line in GLOSSARY.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and not set(cells[0]) <= set("-: ") and cells[0] != "English":
            rows.append((cells[0], cells[1], cells[2] if len(cells) > 3 else ""))
    return rows


def test_the_glossary_takes_the_notes_words_first() -> None:
    said = {zh for _en, zh, _no in glossary()}
    notes = ["抢票", "查看到剩余票数", "购票成功", "没有足够的票", "互斥锁", "进程", "队列", "守护进程"]
    assert [w for w in notes if not any(w in zh for zh in said)] == []


def test_every_domain_word_is_the_glossarys() -> None:
    """Each glossary word is used in the catalogue, and the words it sets aside never are."""
    everything = "\n".join(LINES.values())
    rows = glossary()
    assert len(rows) >= 30
    for en, zh, instead_of in rows:
        first = re.split(r"[ /（(，,]", zh.replace("`", ""))[0]  # noqa: RUF001
        assert first and first in everything, (en, zh)
        for word in filter(None, re.split(r"[，,、 ]+", instead_of.replace("`", ""))):  # noqa: RUF001
            assert word not in everything, (en, word)


def test_one_unit_style() -> None:
    """Milliseconds and seconds are said in Chinese (毫秒, 秒), never ms or s beside a number."""
    for msgid, line in LINES.items():
        assert not re.search(r"\d\s*ms\b|\}\s*ms\b|\}\s*s\)", line), (msgid, line)
