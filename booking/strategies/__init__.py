"""The strategies: how a purchase is protected. One mapping by name, one shape (`StrategyInfo`).

`choose(config, kind)` turns a run's options into a `Choice`: what the buyers run, what sellers
run if the strategy has them, where lockstep holds whom, and what must be made before the run
starts. It is the only place that reads strategy options; the run reads the Choice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from booking.errors import BadInput
from booking.history import History
from booking.i18n.lang import _
from booking.kit.hooks import check_portable
from booking.options.config import RunConfig, Schedule
from booking.options.store_url import StoreURL, masked_url
from booking.stores.base import KIND_NAMES, StoreKind
from booking.strategies import queue, seckill
from booking.strategies.base import BuyerContext, Made, Needs, StrategyInfo
from booking.strategies.locks import LOCKS
from booking.strategies.redis import REDIS_STRATEGIES
from booking.strategies.seckill import ASKED_ONLY, asked_options
from booking.strategies.sql import SQL
from booking.types import Hook

__all__ = ["ASKED_ONLY", "STRATEGIES", "BuyerContext", "Choice", "Made", "Needs", "StrategyInfo"]
__all__ += ["asked_options", "choose", "get_strategy"]

STRATEGIES: dict[str, StrategyInfo] = {
    s.name: s for s in (*LOCKS, queue.QUEUE, *SQL, *REDIS_STRATEGIES, seckill.SECKILL)
}

# --lock when none is given: the notes' mutex for db.json; "SQLite rows guarded by a filelock";
# on a server, where buyers may run on many hosts, the conditional UPDATE.
DEFAULT_STRATEGY = {
    StoreKind.COUNTER: "mp-lock",
    StoreKind.SQLITE: "file-lock",
    StoreKind.POSTGRESQL: "atomic",
    StoreKind.MYSQL: "atomic",
    StoreKind.REDIS: "lua",
}


def default_strategy(kind: StoreKind) -> str:
    return DEFAULT_STRATEGY[kind]


def get_strategy(name: str, kind: StoreKind) -> StrategyInfo:
    """The strategy called `name`, refused with the list of those that apply to this store."""
    applicable = [s.name for s in STRATEGIES.values() if kind in s.stores]
    info = STRATEGIES.get(name)
    if info is None:
        raise BadInput(
            _("unknown strategy {name!r} (choose from: {value})").format(name=name, value=", ".join(applicable))
        )
    if kind not in info.stores:
        raise BadInput(
            _("strategy {name!r} does not apply to a {value} store (choose from: {value2})").format(
                name=name, value=kind.value, value2=", ".join(applicable)
            )
        )
    return info


@dataclass(frozen=True)
class Choice:
    """A run's strategy, decided once: plain data (names) that every process can look up again."""

    strategy: str  # the buyers' strategy name (your own code: "purchase module:function")
    purchase: Hook | None = None  # your own purchase code: module:function, or the function
    prepare: Hook | None = None  # ... and its per-buyer warm-up
    seller_strategy: str | None = None  # what sellers write under (strategies with sellers)
    sellers: int = 0
    hold_buyers: bool = True  # the schedule holds buyers; False: lockstep holds the sellers instead
    store: str = ""  # passed to your own code
    target: str | None = None  # --target: the service the buyers send their purchases to
    target_map: str | None = None  # ... and where it differs from booking's contract
    served: str = ""  # --target: what the service says it runs (booking serve: its strategy and workers)
    broker: str | None = None  # --broker: the broker the requests go through (masked)
    cache: str | None = None  # --lock seckill: the Redis database the stock is pre-deducted in (masked)
    target_spec: Any = None  # --target: the endpoint's Spec (strategies/target/spec.py), plain data
    auto_points: bool = False  # your own code: its SQLAlchemy engines' statements are points (--auto-points)

    def buyer_info(self) -> StrategyInfo:
        """The buyers' strategy, looked up in the process that runs it (your code is imported there)."""
        if self.target is not None:
            from booking.strategies.http import http_strategy

            return http_strategy(self.target, self.target_spec)
        if self.purchase is not None:
            from booking.strategies.custom import user_strategy

            return user_strategy(self.purchase, self.store, self.prepare, self.auto_points)
        return STRATEGIES[self.strategy]

    def holds_buyers(self, schedule: Schedule) -> bool:
        """Are buyers held at their window under `schedule` (free never holds; with several sellers, lockstep
        holds the sellers)?"""
        return self.hold_buyers and schedule is not Schedule.FREE

    def seller_info(self) -> StrategyInfo | None:
        return STRATEGIES[self.seller_strategy] if self.seller_strategy is not None else None

    @property
    def label(self) -> str:
        """The strategy's name, or `purchase module:function` for your own purchase code."""
        return self.strategy

    @property
    def safe(self) -> bool | None:
        """Documented as preventing the race here; None for your own code or a service (booking cannot know)."""
        if self.purchase is not None or self.target is not None:
            return None
        seller = self.seller_info()
        if seller is not None and self.sellers > 1:  # several sellers race unless their lock prevents it
            return seller.safe
        return STRATEGIES[self.strategy].safe

    @property
    def needs(self) -> Needs:
        if self.target is not None:
            return self.buyer_info().needs
        if self.purchase is not None:
            return Needs()
        seller = self.seller_info()
        return STRATEGIES[self.strategy].needs | (seller.needs if seller else Needs())

    @property
    def note(self) -> str:
        """What the run's header adds to the strategy's name."""
        if self.target is not None:
            return f" at {masked_url(self.target)}" + (f" ({self.served})" if self.served else "")
        if self.seller_strategy is None:
            return ""
        from booking.i18n.words import count

        if self.cache is not None:
            said = _(" ({sellers} writing orders, broker {broker}, cache {cache})")
            return said.format(sellers=count(self.sellers, "seller"), broker=self.broker, cache=self.cache)
        via = _(", broker {broker}").format(broker=self.broker) if self.broker is not None else ""
        return _(" ({sellers}, seller lock {strategy}{via})").format(
            sellers=count(self.sellers, "seller"), strategy=self.seller_strategy, via=via
        )

    def extras(self, history: History) -> dict[str, Any]:
        """What `--json` adds for this strategy (sellers and queue waits for a queue run; the target of an HTTP run)."""
        if self.target is not None:
            from booking.strategies.target.spread import spread

            said = {"target": masked_url(self.target), "served": self.served or None}
            http = getattr(self.target_spec, "http", "1.1")
            return {**said, "spread": {**spread(history, foreign=not self.served), "http": http}}
        if self.seller_strategy is None:
            return {}
        if self.cache is not None:  # seckill: its sellers write orders under no lock of another strategy's
            return {**queue.extras(self.sellers, "", history), "seller_lock": None, "cache": self.cache}
        return queue.extras(self.sellers, self.seller_strategy, history)


def choose(config: RunConfig, kind: StoreKind) -> Choice:
    """The Choice for `config` on a store of `kind`; BadInput for options that do not fit together."""
    seckill.refuse_cache(config)
    if config.target is not None:
        from booking.strategies.http import check_target, http_strategy

        spec = check_target(config)
        info = _check_kills(config, http_strategy(config.target, spec))
        return Choice(info.name, target=config.target, target_map=config.target_map, target_spec=spec)
    if config.purchase is not None:
        info = _check_kills(config, None)
        queue.refuse_seller_options(config)
        if config.processes != "fork":
            check_portable(config.purchase, "--purchase")
            if config.prepare is not None:
                check_portable(config.prepare, "--prepare")
        from booking.strategies.custom import check_apart

        check_apart(config.purchase, _text(config.store_url), config.prepare, config.processes, config.deadline_s)
        return Choice(
            info.name, config.purchase, config.prepare, store=_text(config.store_url), auto_points=config.auto_points
        )
    name = "none" if config.no_lock else config.strategy or default_strategy(kind)
    info = get_strategy(name, kind)
    if not info.needs.sellers:
        queue.refuse_seller_options(config)
        _check_kills(config, info)
        return Choice(name)
    if config.schedule.one_at_a_time:
        raise BadInput(
            _("--schedule {value} does not apply to --lock {name} (choose lockstep or free)").format(
                value=config.schedule.value, name=name
            )
        )
    if name == seckill.NAME:
        return _seckill(config, info)
    seller_name = queue.seller_lock_name(config)
    try:
        seller = get_strategy(seller_name, kind)
    except BadInput as exc:
        raise BadInput(_("--seller-lock: {exc}").format(exc=exc)) from None
    if config.broker is not None:  # reachable and logged in (else exit 3), before the store is touched
        from booking.kit.points import SELLER_POINTS
        from booking.strategies.broker import check_broker

        if seller.needs.mp_lock:
            raise BadInput(_("--seller-lock {name}: a broker's sellers may run anywhere; choose a lock every client "
                             "shares").format(name=seller_name))  # fmt: skip
        check_broker(config.broker)
        seller = replace(seller, kill_points=seller.kill_points + SELLER_POINTS)
    _check_kills(config, info, seller)
    # Lockstep lines up the race window: in the sellers when there are several; with one seller
    # there is no window between sellers, so the buyers are lined up to send at once instead. A
    # broker's sellers share no gate: the buyers are lined up.
    hold_buyers = config.sellers == 1 or config.schedule is not Schedule.LOCKSTEP or config.broker is not None
    choice = Choice(name, seller_strategy=seller_name, sellers=config.sellers, hold_buyers=hold_buyers)
    return replace(choice, broker=masked_url(config.broker)) if config.broker is not None else choice


def _seckill(config: RunConfig, info: StrategyInfo) -> Choice:
    """--lock seckill: its options checked, then the broker and Redis reached (else exit 3), before the store."""
    from booking.strategies.broker import check_broker

    seckill.refuse(config)
    assert config.broker is not None and config.cache is not None
    _check_kills(config, info, seckill.SELLER)
    check_broker(config.broker)
    seckill.check_cache(config.cache)
    choice = Choice(info.name, seller_strategy=info.name, sellers=config.sellers, broker=masked_url(config.broker))
    return replace(choice, cache=masked_url(config.cache))


def _check_kills(config: RunConfig, buyer: StrategyInfo | None, seller: StrategyInfo | None = None) -> StrategyInfo:
    """Every injected kill must be able to fire: refuse a point the process never passes, naming those it does."""
    if buyer is None:  # your own code: any point it names; imported here first, so errors are BadInput
        from booking.strategies.custom import user_strategy

        buyer = user_strategy(config.purchase or "", _text(config.store_url), config.prepare)
    _check_pause(config, buyer)
    for who, info, planned in (("buyer", buyer, config.kill_buyer), ("seller", seller, config.kill_seller)):
        if planned is None or info is None:
            continue
        if config.kill_point not in info.kill_points:
            raise BadInput(
                _("--kill-at {kill_point} does not apply to a {who} of --lock {name} (choose from: {value})").format(
                    kill_point=config.kill_point, who=who, name=info.name, value=", ".join(info.kill_points)
                )
            )
    return buyer


def _check_pause(config: RunConfig, buyer: StrategyInfo) -> None:
    """A pause must land where the buyer passes (refused up front otherwise); --lock-ttl needs a lease."""
    if config.pause_buyer is not None and config.pause_point not in buyer.kill_points:
        raise BadInput(
            _("--pause-at {point} does not apply to a buyer of --lock {name} (choose from: {value})").format(
                point=config.pause_point, name=buyer.name, value=", ".join(buyer.kill_points) or "-"
            )
        )
    if config.lock_ttl_ms is not None and not buyer.needs.lease:
        raise BadInput(
            _("--lock-ttl applies to a lease (redis-lock, fenced), not to --lock {name}").format(name=buyer.name)
        )


def _text(url: StoreURL | None) -> str:
    """The store as your own code is handed it: the text given ("" without a store)."""
    return url.text if url is not None else ""


def strategy_rows(spec: StoreURL | str | None = None) -> list[dict[str, Any]]:
    """Every strategy (or those that apply to `spec`'s store): name, description, stores, scope, default."""
    kind = StoreURL.of(spec).kind if spec is not None else None
    return [
        {
            "name": s.name,
            "description": s.description,
            "stores": [KIND_NAMES[k] for k in StoreKind if k in s.stores],
            "scope": s.scope,
            "default_for": [KIND_NAMES[k] for k, name in DEFAULT_STRATEGY.items() if name == s.name],
            "safe": s.safe,
        }
        for s in STRATEGIES.values()
        if kind is None or kind in s.stores
    ]
