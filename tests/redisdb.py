"""The Redis fixture: one database number (10-15) per test, on the server at BOOKING_TEST_REDIS.

A test gets a database that is empty or booking's own (its mark key); booking's are flushed before and
after, another application's are never touched. Each database is claimed with a file lock for the
test's length, so parallel workers (pytest -n) and two suites on one machine never flush each other's.
An unreachable server skips the test with the reason, and fails it when BOOKING_REQUIRE_SERVERS=1
(CI), as the SQL server fixtures do.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from filelock import FileLock, Timeout

SERVER = os.environ.get("BOOKING_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
DATABASES = range(10, 16)


def _unreachable(reason: str) -> NoReturn:
    if os.environ.get("BOOKING_REQUIRE_SERVERS") == "1":
        pytest.fail(f"BOOKING_REQUIRE_SERVERS=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """redis://host:port/N: a database booking owns for this test, flushed before and after."""
    import redis

    from booking.stores.redis.keys import MARK

    claim: FileLock | None = None
    for n in DATABASES:
        lock = FileLock(Path(tempfile.gettempdir()) / f"booking-test-redis-{n}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:
            continue  # another test (another worker or suite) has this one
        client = redis.Redis.from_url(f"{SERVER}/{n}", socket_connect_timeout=2, socket_timeout=5)
        try:
            ours = client.get(MARK) is not None
            if ours or client.dbsize() == 0:
                claim = lock
                break
        except redis.RedisError as exc:
            client.close()
            lock.release()
            _unreachable(f"redis server unreachable at {SERVER}: {exc}")
        client.close()
        lock.release()
    if claim is None:
        _unreachable(f"redis at {SERVER}: databases 10-15 are all busy or hold another application's keys")
    if ours:
        client.flushdb()
    try:
        yield f"{SERVER}/{n}"
    finally:
        try:
            if client.get(MARK) is not None:  # booking's: seeded by the test
                client.flushdb()
        finally:
            client.close()
            claim.release()
