"""--lock seckill's processes: buyers pre-deduct in Redis and publish their order; sellers write it in SQL.

The broker's machinery, with the pipeline's two differences. A buyer's purchase begins in Redis: the
seckill script takes a unit of stock for its request id (`buyer:attempt`), and only a buyer that got one
publishes its order; between the two lies `mid-write` (the stock taken, no order on its way). A seller
writes the order into the SQL store in the sale's own transaction (strategies/seckill.py), and with
--idempotent the request id is unique there: no record beside the store.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from functools import partial
from typing import Any

from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.kit import points
from booking.options.config import RunConfig
from booking.options.store_url import StoreURL
from booking.processes.broker import BrokerLink, BrokerSellerPlan, Seller, run_broker_seller
from booking.processes.broker_sellers import BrokerSellers
from booking.strategies import BuyerContext, Choice
from booking.strategies.seckill import SELLER, sell_order

CACHE_TIMEOUT_S = 10.0


class SeckillLink(BrokerLink):
    """The buyers' side: the pre-deduct in Redis, then the broker's publish and wait for the answer."""

    def __init__(self, broker: str, cache: str, run: str, think_ms: float) -> None:
        super().__init__(broker, run, think_ms)
        self.cache = cache
        self._redis: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "_redis": None}  # each process connects on its own

    def _cache(self) -> Any:
        if self._redis is None:
            from booking.stores.redis import RedisStore

            self._redis = RedisStore(StoreURL.parse(self.cache), timeout_s=CACHE_TIMEOUT_S)
        return self._redis

    def warm(self) -> None:
        """Connected to Redis and the broker before the start barrier."""
        self._cache().remaining()
        self._channel()

    def buy(self, ctx: BuyerContext, rec: Attempt) -> None:
        taken = self._cache().seckill(ctx.buyer, f"{ctx.buyer}:{rec.attempt}")
        rec.t_read, rec.read = ctx.clock(), max(taken, 0)
        if taken == 0:
            rec.outcome = Outcome.SOLD_OUT  # Redis says none left: the database is never asked
            return
        if taken < 0:
            rec.outcome, rec.error = Outcome.CONFLICT, _("this request was already served (the one-per-buyer set)")
            return
        points.hit(points.MID_WRITE)  # the stock deducted in Redis, the order not yet published
        super().buy(ctx, rec)


class SeckillSeller(Seller):
    """A broker seller whose sale is the order written in SQL (idempotent: the request id unique there)."""

    keeps_inbox = False

    def __init__(self, plan: BrokerSellerPlan, store: Any, inbox: Any) -> None:
        super().__init__(plan, store, inbox)
        self.info = replace(SELLER, purchase=partial(sell_order, idempotent=plan.idempotent))


def _seckill_seller(plan: BrokerSellerPlan, closed: Any) -> None:
    run_broker_seller(plan, closed.is_set, SeckillSeller)


class SeckillSellers(BrokerSellers):
    """The broker's sellers, with the pipeline's link and seller."""

    def __init__(self, ctx: Any, config: RunConfig, choice: Choice, t0: float, deadline: float) -> None:
        super().__init__(ctx, config, choice, t0, deadline)
        assert config.broker is not None and config.cache is not None
        self.link = SeckillLink(config.broker, config.cache, uuid.uuid4().hex, config.think_ms)  # type: ignore[assignment]

    def _start(self, plan: BrokerSellerPlan) -> None:
        self._spawn(plan.seller, _seckill_seller, plan, self._closed)
