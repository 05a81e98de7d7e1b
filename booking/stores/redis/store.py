"""The Redis store: a stock counter, a ledger stream of every sale, in a database number booking owns.

booking owns a database when its mark key is there (it put it there when it seeded an empty one). A
database holding keys without the mark is another application's: refused, --force or not, the way the
SQL stores refuse another application's tables (Redis keys share one namespace: booking is never put
beside them). Connections are made here, in the process that uses the store; only the URL crosses a
process boundary.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from booking.errors import BadInput, CannotRun, Unavailable
from booking.i18n.lang import _
from booking.kit import points
from booking.options.choices import MAX_TICKETS
from booking.options.store_url import StoreURL
from booking.stores import locks
from booking.stores.base import FinalState, Seen, StoreKind
from booking.stores.redis import keys

DEFAULT_PORT = 6379
CONNECT_S = 5.0  # connecting never waits longer than this (or the run's round-trip limit, if shorter)
LEDGER_BATCH = 10_000  # ledger entries read per round trip after a run
SECKILL_KEYS = (keys.STOCK, keys.LEDGER, keys.BUYERS)  # the seckill script's KEYS[1..3]


class RedisStore:
    """The stock as one integer (a ticket is the value a buyer took, as in db.json) and a ledger stream."""

    kind = StoreKind.REDIS

    def __init__(self, url: StoreURL, timeout_s: float = 60.0) -> None:
        self.url = url
        self.display = url.display
        self.client: Any = redis.Redis.from_url(
            url.text, socket_timeout=timeout_s, socket_connect_timeout=min(timeout_s, CONNECT_S)
        )
        where = self.client.connection_pool.connection_kwargs
        self.host, self.port, self.database = where.get("host"), where.get("port"), int(where.get("db") or 0)
        self.seckill_script = self.client.register_script(keys.SECKILL)  # called as EVALSHA
        self.fenced_script = self.client.register_script(keys.FENCED_WRITE)

    # -- validation and set-up: refuse, change nothing
    def check(self) -> int:
        with self.failing(CannotRun):
            mark, stock = self.client.mget(keys.MARK, keys.STOCK)
            size = self.client.dbsize()
        if mark is None:
            if size:
                raise BadInput(self._foreign(size))
            raise BadInput(_("store {store}: empty (run `booking init --store {store}`)").format(store=self.display))
        if mark.decode() != keys.MARK_VALUE:
            said = _("store {store}: {mark!r} is not a store this booking knows")
            raise BadInput(said.format(store=self.display, mark=mark.decode()[:60]))
        return self._count(stock)

    def prepare(self, seed: int | None, force: bool = False, beside: bool = False) -> int:
        if seed is None:
            return self.check()
        with self.failing(CannotRun):
            mark, size = self.client.get(keys.MARK), self.client.dbsize()
        if mark is None and size:
            raise BadInput(self._foreign(size))  # --force and --init-store never touch another app's keys
        if mark is not None and mark.decode() != keys.MARK_VALUE and not force:
            self.check()
        with self.failing(CannotRun), self.client.pipeline(transaction=True) as pipe:
            pipe.delete(*keys.OWNED)
            pipe.set(keys.MARK, keys.MARK_VALUE)
            pipe.set(keys.STOCK, seed)
            pipe.execute()
        return seed

    # -- the store protocol: the race's own read and write
    def remaining(self) -> int:
        with self.failing(Unavailable):
            return self._count(self.client.get(keys.STOCK))

    def read(self) -> Seen:
        count = self.remaining()
        return Seen(count, count if count > 0 else None)

    def write(self, seen: Seen, buyer: int) -> int:
        """The notes' write over the network: SET what was read minus one, then the ledger entry."""
        count = seen.value - 1
        points.hit(points.BEFORE_COMMIT)
        with self.failing(Unavailable):
            self.client.set(keys.STOCK, count)
            points.hit(points.MID_WRITE)  # the stock written, its ledger entry not yet
            self.client.xadd(keys.LEDGER, {"buyer": buyer, "ticket": seen.value})
        return count

    # -- what the Redis strategies call
    def read_with(self, pipe: Any) -> Seen:
        """watch: the read through a pipeline that WATCHes the stock (its commands run at once until MULTI)."""
        count = self._count(pipe.get(keys.STOCK))
        return Seen(count, count if count > 0 else None)

    def write_with(self, pipe: Any, seen: Seen, buyer: int) -> None:
        """watch: the write queued after MULTI (EXEC applies it whole, or not at all if the stock moved)."""
        pipe.set(keys.STOCK, seen.value - 1)
        pipe.xadd(keys.LEDGER, {"buyer": buyer, "ticket": seen.value})

    def seckill(self, buyer: int, request: str) -> int:
        """The seckill script as one EVALSHA: the ticket taken, 0 sold out, -1 a request already served.
        Once per sale, so its failures are caught here, not by failing()'s context manager (a generator
        and an object made for every call)."""
        try:
            return int(self.seckill_script(keys=SECKILL_KEYS, args=[request, buyer]))
        except redis.RedisError as exc:
            raise self._failure(exc, Unavailable) from None

    def fenced_write(self, seen: Seen, buyer: int, token: int) -> int | None:
        """The write, refused (None) when a token newer than `token` was issued: this lease lapsed."""
        points.hit(points.BEFORE_COMMIT)
        with self.failing(Unavailable):
            wrote = self.fenced_script(
                keys=[keys.STOCK, keys.LEDGER, keys.FENCE], args=[token, seen.value - 1, buyer, seen.value]
            )
        return None if int(wrote) < 0 else int(wrote)

    def final(self) -> FinalState:
        owners: dict[int, list[int]] = {}
        for fields in self._ledger():
            owners.setdefault(int(fields[b"ticket"]), []).append(int(fields[b"buyer"]))
        return FinalState(remaining=self.remaining(), owners=owners)

    def lock_path(self) -> Path:
        return locks.for_server(StoreKind.REDIS, self.host, self.port or DEFAULT_PORT, str(self.database))

    def tidy(self) -> None:
        pass  # nothing a killed writer leaves: every command is whole

    def warm(self) -> None:
        self.remaining()  # connected before the start barrier

    def footprint(self) -> dict[str, int]:
        return {}  # the server's memory is shared with other keys: no size of this store's own to say

    def close(self) -> None:
        self.client.close()

    def server_version(self) -> str:
        """The server's name and version, for a report's machine section."""
        with self.failing(CannotRun):
            return f"Redis {self.client.info('server').get('redis_version', '?')}"

    # -- helpers
    def _ledger(self) -> Iterator[dict[bytes, bytes]]:
        start = "-"
        with self.failing(CannotRun):
            while batch := self.client.xrange(keys.LEDGER, min=start, count=LEDGER_BATCH):
                yield from (fields for _id, fields in batch)
                start = "(" + batch[-1][0].decode()

    def _count(self, raw: Any) -> int:
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        if not text.lstrip("-").isdigit() or not 0 <= int(text) <= MAX_TICKETS:
            said = _("store {store}: the stock {value!r} is not a count of tickets")
            raise BadInput(said.format(store=self.display, value=text[:40]))
        return int(text)

    def _foreign(self, size: int) -> str:
        return _(
            "store {store}: database {n} holds {size} keys booking did not make (another application's); "
            "use a database number of booking's own"
        ).format(store=self.display, n=self.database, size=size)

    @contextlib.contextmanager
    def failing(self, error: Callable[[str], Exception]) -> Iterator[None]:
        """A lost or refused connection in one line (no password in it): CannotRun in set-up, Unavailable in a run."""
        try:
            yield
        except WatchError:
            raise  # watch: a conflict to count and retry, not a failure
        except redis.RedisError as exc:
            raise self._failure(exc, error) from None

    def _failure(self, exc: redis.RedisError, error: Callable[[str], Exception]) -> Exception:
        """What failing() raises for `exc`: `error` for a lost connection or a timeout, else CannotRun."""
        said = _("store {store}: {error}").format(store=self.display, error=str(exc).strip())
        return error(said) if isinstance(exc, RedisConnectionError | RedisTimeoutError) else CannotRun(said)
