"""The RabbitMQ fixture: one durable queue per test on the broker at BOOKING_TEST_AMQP, deleted after.

An unreachable broker skips the test with the reason, and fails it when BOOKING_REQUIRE_SERVERS=1 (CI),
as the database fixtures do.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

SERVER = os.environ.get("BOOKING_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture
def broker_url() -> Iterator[str]:
    """amqp://...?queue=booking-t-<random>: a queue of this test's own, deleted at its end."""
    import pika

    try:
        conn = pika.BlockingConnection(pika.URLParameters(SERVER))
    except Exception as exc:
        reason = f"RabbitMQ unreachable at {SERVER.split('@')[-1]}: {type(exc).__name__}"
        if os.environ.get("BOOKING_REQUIRE_SERVERS") == "1":
            pytest.fail(f"BOOKING_REQUIRE_SERVERS=1 but {reason}")
        pytest.skip(reason)
    queue = f"booking-t-{secrets.token_hex(4)}"
    try:
        yield f"{SERVER}?queue={queue}"
    finally:
        if not conn.is_open:
            conn = pika.BlockingConnection(pika.URLParameters(SERVER))
        conn.channel().queue_delete(queue=queue)
        conn.close()
