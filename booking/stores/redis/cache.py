"""The seckill pipeline's cache: the stock pre-deducted in a Redis database booking owns (--cache URL).

It is the Redis store's own keys and script (the mark key, the stock, the seckill script's ledger and its
set of request ids), seeded with the run's stock beside the SQL store; after the run it says what it
deducted, and for which requests.
"""

from __future__ import annotations

from booking.errors import BadInput, CannotRun
from booking.options.store_url import StoreURL
from booking.stores.redis import keys
from booking.stores.redis.store import RedisStore

CHECK_S = 5.0


def check_owned(url: StoreURL) -> None:
    """Reachable (else CannotRun, one line, no password), and empty or booking's (else BadInput)."""
    cache = RedisStore(url, timeout_s=CHECK_S)
    try:
        with cache.failing(CannotRun):
            mark, size = cache.client.get(keys.MARK), cache.client.dbsize()
        if mark is None and size:
            raise BadInput(cache._foreign(size))
        if mark is not None and mark.decode() != keys.MARK_VALUE:
            cache.check()  # says whose it is
    finally:
        cache.close()


def deducted(cache: RedisStore) -> set[str]:
    """The requests the seckill script took a unit of stock for (its set of request ids)."""
    with cache.failing(CannotRun):
        return {m.decode() for m in cache.client.smembers(keys.BUYERS)}
