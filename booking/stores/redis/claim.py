"""The store-in-use guard on Redis: a named client connection the claiming process holds for the run.

Redis keeps no lock for a client that dies, but it forgets a client's connection the moment the client
dies: the claim is the connection's name (CLIENT SETNAME booking-claim-<db>-x|s-...). A claimant names its
connection first, then lists the others; a conflicting name (any other, for an exclusive claim; an
exclusive one, for a shared claim) makes it let go and refuse. Two claimants at once may both refuse,
never both hold.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from booking.errors import CannotRun
from booking.i18n.lang import _
from booking.options.store_url import StoreURL

PREFIX = "booking-claim-"


class RedisClaim:
    def __init__(self, spec: StoreURL, refusal: Callable[[str, bool, str], CannotRun]) -> None:
        self.spec, self.refusal = spec, refusal  # refusal: the words every store's claim refuses with
        self.client: Any = None

    def acquire(self, exclusive: bool) -> None:
        import redis

        client = redis.Redis.from_url(
            self.spec.text, single_connection_client=True, socket_connect_timeout=5, socket_timeout=10
        )
        database = client.connection_pool.connection_kwargs.get("db") or 0
        ours = f"{PREFIX}{database}-"
        name = f"{ours}{'x' if exclusive else 's'}-{secrets.token_hex(6)}"
        try:
            client.client_setname(name)
            others = [c.get("name", "") for c in client.client_list()]
        except redis.RedisError as exc:
            client.close()
            said = _("store {store}: {error}").format(store=self.spec.display, error=str(exc).strip())
            raise CannotRun(said) from None
        rivals = [o for o in others if o.startswith(ours) and o != name]
        if any(exclusive or o.startswith(f"{ours}x-") for o in rivals):
            client.close()
            raise self.refusal(self.spec.display, exclusive, _("a named connection"))
        self.client = client

    def journal(self) -> None:
        """--keep runs sharing a Redis store keep no journal: each is judged on its own."""
        return None

    def release(self) -> None:
        if self.client is not None:
            self.client.close()  # the server forgets the name with the connection
            self.client = None
