"""The leases redis-lock and fenced take: redis-py's Lock, and the same lock handing out a fencing token.

redis-py's Lock is exactly the lease the strategy names: `SET key token NX PX ttl` with a random token
(uuid4), released by a Lua compare-and-delete, kept by redis-py; it adds no dependency. Its blocking
acquire polls (it sleeps between tries), so booking passes a short interval. The fenced lease takes its
token in the same script as the lease (SET NX PX, then INCR), so no pause can fall between the two.
"""

from __future__ import annotations

from typing import Any

from redis.lock import Lock

from booking.stores.redis import keys


class FencedLease(Lock):
    """A Lock whose every acquisition also takes the next fencing token (`fence`)."""

    def __init__(self, client: Any, name: str, ttl_s: float, poll_s: float) -> None:
        super().__init__(client, name, timeout=ttl_s, sleep=poll_s)
        self._take = client.register_script(keys.LEASE_WITH_TOKEN)
        self.fence = 0  # the token of the last acquisition

    def do_acquire(self, token: str) -> bool:
        issued = self._take(keys=[self.name, keys.FENCE], args=[token, max(int((self.timeout or 0) * 1000), 1)])
        if not issued:
            return False
        self.fence = int(issued)
        return True


def make_lease(store: Any, ttl_s: float, poll_s: float, fenced: bool) -> Lock:
    """The lease on the store's lock key with time to live `ttl_s`, polling every `poll_s` while it waits."""
    if fenced:
        return FencedLease(store.client, keys.LOCK, ttl_s, poll_s)
    return Lock(store.client, keys.LOCK, timeout=ttl_s, sleep=poll_s)
