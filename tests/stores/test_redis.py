"""The Redis store: its URL, ownership of its database, the race measured from its ledger, history,
verify, --json, a killed lease holder, and its password masked everywhere (a real server, no fakes)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from booking.errors import BadInput
from booking.options.store_url import StoreKind, StoreURL
from tests.helpers import run_command


def test_a_redis_url_is_parsed_and_its_password_masked() -> None:
    url = StoreURL.parse("redis://app:s3cr%40t@127.0.0.1:6379/12")
    assert (url.kind, url.display, url.sqlalchemy) == (StoreKind.REDIS, "redis://app:***@127.0.0.1:6379/12", None)
    assert {"s3cr%40t", "s3cr@t"} <= url.secrets
    assert StoreURL.parse("rediss://:pw@h:6380/3").display == "rediss://:***@h:6380/3"


@pytest.mark.parametrize("text", ["redis://127.0.0.1:6379", "redis://127.0.0.1:6379/", "redis://h/x"])
def test_a_redis_url_must_name_its_database(text: str) -> None:
    with pytest.raises(BadInput, match="database number"):
        StoreURL.parse(text)


def test_init_seeds_and_the_ledger_names_every_sale(redis_url: str) -> None:
    from booking.stores import init_store, open_store

    init_store(redis_url, 3)
    store = open_store(redis_url)
    try:
        seen = store.read()
        store.write(seen, 4)
        store.write(seen, 5)  # the race by hand: both took ticket #3
        assert store.final().remaining == 2
        assert store.final().owners == {3: [4, 5]}
    finally:
        store.close()


def test_another_applications_database_is_refused_and_left_alone(redis_url: str, tmp_path: Path) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set("app:session", "keep me")
    try:
        for args in (("init", "--store", redis_url), ("init", "--store", redis_url, "--force")):
            done = run_command(*args, cwd=tmp_path)
            assert done.code == 2 and "booking did not make" in done.err, done.err
        assert client.get("app:session") == b"keep me" and client.dbsize() == 1
    finally:
        client.delete("app:session")
        client.close()


def test_the_race_history_verify_and_json(redis_url: str, tmp_path: Path) -> None:
    history = tmp_path / "run.jsonl"
    done = run_command(
        "simulate", "--store", redis_url, "--buyers", "4", "--no-lock", "--json", "--history", history, cwd=tmp_path
    )
    assert done.code == 1, done.err
    result = json.loads(done.out)
    assert (result["sold"], result["double_sold"], result["lost_updates"], result["remaining"]) == (4, 1, 3, 0)
    verified = run_command(
        "verify", "--store", redis_url, "--history", history, "--tickets", "1", "--json", cwd=tmp_path
    )
    assert verified.code == 1 and json.loads(verified.out)["double_sold"] == 1


def test_a_killed_lease_holder_is_outlived(redis_url: str, tmp_path: Path) -> None:
    """Unlike a multiprocessing.Lock, a lease whose holder died expires: the others go on."""
    args = ["simulate", "--store", redis_url, "--buyers", "3", "--tickets", "2", "--lock", "redis-lock"]
    done = run_command(*args, "--lock-ttl", "100", "--kill-buyer", "1", "--kill-at", "in-critical", "--json")
    result = json.loads(done.out)
    assert (result["killed"], result["stuck"], result["oversold"], result["double_sold"]) == (1, 0, 0, 0), done.err


@pytest.fixture
def password_url(redis_url: str) -> Iterator[tuple[str, str]]:
    """The test's database through an ACL user with a password (removed at the end)."""
    import redis

    user, password = f"booking_pw_{secrets.token_hex(3)}", f"pw@{secrets.token_hex(6)}"
    admin: Any = redis.Redis.from_url(redis_url)
    admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all"])
    try:
        host = redis_url.split("://", 1)[1]
        yield f"redis://{user}:{password.replace('@', '%40')}@{host}", password
    finally:
        admin.acl_deluser(user)
        admin.close()


def test_a_redis_password_never_shows(password_url: tuple[str, str], tmp_path: Path) -> None:
    url, password = password_url
    history = tmp_path / "run.jsonl"
    said = []
    for args in (
        ("init", "--store", url, "--tickets", "2"),
        ("simulate", "--store", url, "--buyers", "2", "--tickets", "2", "--history", history),
        ("simulate", "--store", url, "--buyers", "2", "--tickets", "2", "--json"),
        ("verify", "--store", url, "--history", history, "--tickets", "2", "--json"),
        ("strategies", "--store", url),
        ("simulate", "--store", url.replace(password.split("@")[1], "wrong"), "--buyers", "2"),
    ):
        done = run_command(*args, cwd=tmp_path)
        said.append(done.out + done.err)
    said.append(history.read_text())
    spellings = {password, password.replace("@", "%40"), password.split("@")[1]}
    assert not [s for s in said if any(p in s for p in spellings)]
    assert "***" in said[2]
