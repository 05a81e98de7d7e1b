"""A seckill run's store: the SQL store, with the pipeline's Redis and broker beside it. Seeding it claims
the Redis database (as a Redis store's run does), seeds its stock with the same count and empties the
order queue of what an earlier run left; reading it back reads all three books, and judging the run
reconciles them (verdict/reconcile.py)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from booking.errors import CannotRun
from booking.i18n.lang import _
from booking.options.config import RunConfig
from booking.options.store_url import StoreURL
from booking.stores import orders
from booking.stores.base import FinalState
from booking.stores.claim import claim
from booking.stores.sql import SqlStore
from booking.strategies.broker import Broker, connect, declare, pika_module
from booking.verdict.anomalies import Counts
from booking.verdict.reconcile import Books, PipelineFinal, figures, judged, reconcile

if TYPE_CHECKING:
    from booking.run.result import RunResult


class PipelineStore(SqlStore):
    """The SQL store the sellers write orders into, holding the run's claim on its Redis cache."""

    def __init__(self, config: RunConfig, isolation: str | None) -> None:
        assert config.store_url is not None and config.cache is not None and config.broker is not None
        super().__init__(config.store_url, isolation, config.deadline_s)
        self.cache_url, self.broker = StoreURL.parse(config.cache), Broker.parse(config.broker)
        self._held = contextlib.ExitStack()
        self.cache: Any = None
        self.seeded = 0

    def prepare(self, seed: int | None, force: bool = False, beside: bool = False) -> int:
        from booking.stores.redis import RedisStore

        self._held.enter_context(claim(self.cache_url, True, self.timeout_s))  # one run per Redis database
        stock = super().prepare(seed, force, beside)
        self.cache = RedisStore(self.cache_url, self.timeout_s)
        self.seeded = self.cache.prepare(stock)
        self._queue(purge=True)  # orders an earlier run left are not this run's
        return stock

    def final(self) -> FinalState:
        from booking.stores.redis.cache import deducted

        base = super().final()
        books = Books(
            initial=self.seeded,
            deducted=sorted(deducted(self.cache)),
            redis_remaining=self.cache.remaining(),
            queued=self._queue(),
            orders=orders.by_request(self),
        )
        return PipelineFinal(base.remaining, base.owners, books)

    def _queue(self, purge: bool = False) -> int:
        """The orders on the broker's queue (emptied first when `purge`)."""
        conn = connect(self.broker)
        try:
            ch = conn.channel()
            declare(ch, self.broker)
            if purge:
                ch.queue_purge(self.broker.queue)
            return int(ch.queue_declare(queue=self.broker.queue, durable=True, passive=True).method.message_count)
        except pika_module().exceptions.AMQPError as exc:
            said = _("broker {broker}: queue {queue}: {error}")
            error = type(exc).__name__
            raise CannotRun(said.format(broker=self.broker.display, queue=self.broker.queue, error=error)) from None
        finally:
            if conn.is_open:
                conn.close()

    def close(self) -> None:
        try:
            if self.cache is not None:
                self.cache.close()
            super().close()
        finally:
            self._held.close()


def reconciled(result: RunResult) -> None:
    """A seckill run's verdict with its books reconciled, and their figures in `--json`."""
    final = result.final
    if not isinstance(final, PipelineFinal) or final.books is None:
        return
    v = result.verdict
    counts = Counts(v.initial, v.remaining or 0, v.sold, v.initial - (v.remaining or 0), v.refused, v.errors + v.stuck)
    found = reconcile(final.books, result.history, counts, [a.kind for a in v.anomalies])
    judged(found, v)
    result.extras["reconciliation"] = figures(final.books)
