"""One masker for every secret (issue 12, item 3): a URL that carries a password in every form it can
take, run through every command, and every output and file grepped for every spelling of it.

The PostgreSQL URL carries a userinfo password with a space and an `@` (percent-encoded), a
`?password=` and a `?sslpassword=` (the server trusts and ignores them); the MariaDB one gives its real
password as `?passwd=`. Your own purchase code that puts the URL in its error message is run too.

Each command runs in this process through the `command` fixture: what buyer processes print is captured
with the rest, and no command is masked by what an earlier one knew (secrets travel with each StoreURL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.helpers import MYSQL_PASSWORD

SPACED = "sp ace@pw-7Qx"  # in the userinfo, percent-encoded
QUERY = "qu3ry-pw-8Rz"
TOKEN = "t0ken-pw-9Sy"


def spellings(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret)}


@pytest.fixture(params=["postgresql", pytest.param("mysql", marks=pytest.mark.slow)])  # ~16 s each
def secret_url(request: pytest.FixtureRequest) -> tuple[str, set[str]]:
    """(a URL with secrets in every form, every spelling of every secret)."""
    if request.param == "postgresql":
        base = str(request.getfixturevalue("postgresql_url")).rsplit("@", 1)[1]
        url = f"postgresql+psycopg://postgres:{quote(SPACED, safe='')}@{base}?password={QUERY}&sslpassword={TOKEN}"
        return url, spellings(SPACED) | spellings(QUERY) | spellings(TOKEN)
    user_url = str(request.getfixturevalue("mysql_password_url"))
    scheme, rest = user_url.split("://", 1)
    user = rest.split(":", 1)[0]
    url = f"{scheme}://{user}@{rest.rsplit('@', 1)[1]}?passwd={MYSQL_PASSWORD}"
    return url, spellings(MYSQL_PASSWORD)


# A URL's ?passwd= is PyMySQL's old spelling, kept on purpose (a secret in the query): it warns
# DeprecationWarning, which pytest makes an error here.
@pytest.mark.filterwarnings("ignore:'passwd' is deprecated:DeprecationWarning")
def test_no_secret_in_any_output_or_file(
    command: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret_url: tuple[str, set[str]]
) -> None:
    url, secrets = secret_url
    seen: dict[str, str] = {}
    monkeypatch.chdir(tmp_path)

    def run(name: str, *args: str | Path, codes: tuple[int, ...] = (0,)) -> None:
        ran = command(*args)
        assert ran.code in codes, (name, ran.code, ran.err)
        seen[name] = ran.out + ran.err

    history, leaky = tmp_path / "run.jsonl", tmp_path / "leaky.jsonl"
    run("init", "init", "--store", url, "--tickets", "3")
    run("simulate", "simulate", "--store", url, "--buyers", "3", "--tickets", "3")
    run(
        "simulate --json", "simulate", "--store", url, "--buyers", "3", "--tickets", "3", "--json", "--history", history
    )
    run("verify", "verify", "--store", url, "--history", history, "--tickets", "3")
    run("verify --json", "verify", "--store", url, "--history", history, "--tickets", "3", "--json")
    purchase = ["--purchase", "tests.kit.leaky:leaky_buy", "--buyers", "2", "--tickets", "2"]
    run("your code's error", "simulate", "--store", url, *purchase, "--history", leaky, codes=(1, 3))
    run("your code's error --json", "simulate", "--store", url, *purchase, "--json", codes=(1, 3))
    compare = ["compare", "--stores", url, "--strategies", "atomic", "--buyers", "2", "--tickets", "2"]
    compare += ["--trials", "1", "--schedule", "free", "--duration", "0.1", "--repetitions", "2", "--budget", "0", "-q"]
    for fmt, to_file in (("table", False), ("json", False), ("csv", True), ("html", True)):  # every format, both ways
        report = tmp_path / f"report.{fmt}"
        run(f"compare {fmt}", *compare, "--format", fmt, *(["--out", report] if to_file else []))
        if to_file:
            seen[report.name] = report.read_text()
    run("db current", "db", "current", "--store", url)
    run("db upgrade", "db", "upgrade", "--store", url)
    run("strategies", "strategies", "--store", url)
    seen["history"], seen["your code's history"] = history.read_text(), leaky.read_text()
    assert "RuntimeError" in seen["your code's history"]  # the error is kept, masked
    leaks = sorted({name for name, text in seen.items() for s in secrets if s in text})
    assert leaks == [], f"a secret appears in: {leaks}"
    assert "***" in seen["simulate --json"] and "***" in seen["your code's history"]  # masked, not dropped


@pytest.mark.parametrize("args", [["simulate"], ["init"], ["db", "current"], ["compare", "--strategies", "atomic"]])
def test_a_raw_at_sign_in_the_password_is_refused_whole(command: Any, args: list[str]) -> None:
    """`u:p@ss@host`: SQLAlchemy would take `p` for the password and print `ss@host` as the host; refused
    before any use, with the whole password masked (and no stray `p` masked all over the line)."""
    url = "postgresql+psycopg://postgres:p@ss-Tail9@127.0.0.1:5432/db"
    option = "--stores" if args[0] == "compare" else "--store"
    ran = command(*args, option, url)
    assert ran.code == 2, ran.err
    assert "ss-Tail9" not in ran.out + ran.err
    assert "postgresql+psycopg://postgres:***@127.0.0.1:5432/db" in ran.err and "write it as %40" in ran.err
