"""The Redis fixture: one database number (10-15) per test, on the server at BOOKING_TEST_REDIS.

A test gets a database that is empty or booking's own (its mark key); booking's are flushed before and
after, another application's are never touched. An unreachable server skips the test with the reason,
and fails it when BOOKING_REQUIRE_SERVERS=1 (CI), as the SQL server fixtures do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

SERVER = os.environ.get("BOOKING_TEST_REDIS", "redis://127.0.0.1:6379").rstrip("/")
DATABASES = range(10, 16)


def _unreachable(reason: str) -> None:
    if os.environ.get("BOOKING_REQUIRE_SERVERS") == "1":
        pytest.fail(f"BOOKING_REQUIRE_SERVERS=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """redis://host:port/N: a database booking owns for this test, flushed before and after."""
    import redis

    from booking.stores.redis.keys import MARK

    for n in DATABASES:
        client = redis.Redis.from_url(f"{SERVER}/{n}", socket_connect_timeout=2, socket_timeout=5)
        try:
            ours = client.get(MARK) is not None
            if ours or client.dbsize() == 0:
                break
        except redis.RedisError as exc:
            client.close()
            _unreachable(f"redis server unreachable at {SERVER}: {exc}")
        client.close()
    else:
        _unreachable(f"redis at {SERVER}: databases 10-15 all hold another application's keys")
    if ours:
        client.flushdb()
    try:
        yield f"{SERVER}/{n}"
    finally:
        if client.get(MARK) is not None:  # booking's: seeded by the test
            client.flushdb()
        client.close()
