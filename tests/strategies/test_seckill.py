"""--lock seckill: Lua pre-deducts in a real Redis, the order goes through a real RabbitMQ, a seller writes it
into a SQL store; the verifier reconciles the three books.

A seller killed after writing an order and before its acknowledgement has the order redelivered: without
--idempotent the next seller writes it again (duplicate_orders, UNSAFE); with it the request id is unique in
the sale's own transaction and the redelivery is answered from the row (OK). A buyer killed between its
pre-deduct and its publish leaves stock Redis took for an order that never arrives (orders_lost, UNSAFE).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from booking import RunConfig, simulate
from booking.errors import BadInput
from booking.render.stories import said
from booking.run.result import RunResult

DEADLINE_S = 60.0  # reached only when something hangs


def run(store: str, broker: str, cache: str, **options: Any) -> RunResult:
    config = dict(buyers=6, tickets=8, strategy="seckill", deadline_s=DEADLINE_S) | options
    return simulate(RunConfig(store=store, broker=broker, cache=cache, **config))


def story(result: RunResult, kind: str) -> str:
    return " ".join(s for a in said(result)["anomalies"] if a["kind"] == kind for s in a["story"])


def check_clean(store: str, broker: str, cache: str) -> None:
    result = run(store, broker, cache, tickets=4)
    books = result.extras["reconciliation"]
    assert result.verdict.ok and result.exit_code == 0, said(result)
    assert result.verdict.sold == 4 and result.verdict.refused == 2
    assert books["redis_deducted"] == books["orders"] == books["order_requests"] == 4
    assert books["redis_remaining"] == 0 and books["broker_queued"] == 0
    assert books["duplicate_orders"] == books["orders_lost"] == books["oversold"] == 0
    assert sorted(a.ticket for a in result.history.receipts) == [1, 2, 3, 4]  # the database's rows


def check_killed_seller(store: str, broker: str, cache: str, idempotent: bool) -> None:
    result = run(store, broker, cache, kill_seller=1, kill_at="after-sale", idempotent=idempotent)
    books = result.extras["reconciliation"]
    again = [a for a in result.history.attempts if a.redelivered]
    assert len(again) == 1 and again[0].seller == 2, result.history.attempts
    assert [e.who for e in result.history.killed] == ["seller"]
    assert books["redis_deducted"] == 6 and books["order_requests"] == 6 and books["orders_lost"] == 0
    if idempotent:
        assert result.verdict.ok and result.exit_code == 0, said(result)
        assert books["orders"] == 6 and books["duplicate_orders"] == 0
        assert result.verdict.sold == 6 and result.verdict.remaining == 2
    else:
        assert result.verdict.unsafe and result.exit_code == 1, said(result)
        kinds = [a.kind for a in result.verdict.anomalies]
        assert "duplicate_orders" in kinds and "orders_lost" not in kinds, kinds
        assert books["orders"] == 7 and books["duplicate_orders"] == 1
        told = story(result, "duplicate_orders")
        assert f"buyer {again[0].buyer}'s request has 2 orders in the database" in told
        assert f"buyer {again[0].buyer}'s order was redelivered by the broker to seller 2" in told


def check_killed_buyer(store: str, broker: str, cache: str) -> None:
    result = run(store, broker, cache, kill_buyer=1, kill_at="mid-write")
    books = result.extras["reconciliation"]
    assert result.verdict.unsafe and result.exit_code == 1, said(result)
    assert [a.kind for a in result.verdict.anomalies] == ["orders_lost"]
    assert books["redis_deducted"] == 6 and books["orders"] == 5 and books["orders_lost"] == 1
    assert "buyer 1 was killed after its pre-deduct in Redis" in story(result, "orders_lost")


def test_a_clean_run_reconciles_redis_the_broker_and_the_database(
    sqlite_url: str, broker_url: str, redis_url: str
) -> None:
    check_clean(sqlite_url, broker_url, redis_url)


@pytest.mark.parametrize("idempotent", [False, True], ids=["at-least-once", "idempotent"])
def test_a_seller_killed_after_the_sale_duplicates_the_order_unless_idempotent(
    sqlite_url: str, broker_url: str, redis_url: str, idempotent: bool
) -> None:
    check_killed_seller(sqlite_url, broker_url, redis_url, idempotent)


def test_a_buyer_killed_after_its_pre_deduct_loses_its_order(sqlite_url: str, broker_url: str, redis_url: str) -> None:
    check_killed_buyer(sqlite_url, broker_url, redis_url)


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_on_a_server_the_unique_request_holds_in_the_sale_s_transaction(
    store_url: Any, broker_url: str, redis_url: str, kind: str
) -> None:
    check_killed_seller(store_url(kind), broker_url, redis_url, idempotent=True)
    check_killed_seller(store_url(kind), broker_url, redis_url, idempotent=False)


@pytest.mark.slow
@pytest.mark.parametrize("idempotent", [False, True], ids=["at-least-once", "idempotent"])
def test_sweep_killed_seller(sqlite_url: str, broker_url: str, redis_url: str, idempotent: bool) -> None:
    for _ in range(10):
        check_killed_seller(sqlite_url, broker_url, redis_url, idempotent)


@pytest.mark.slow
def test_sweep_killed_buyer_and_clean(sqlite_url: str, broker_url: str, redis_url: str) -> None:
    for _ in range(10):
        check_killed_buyer(sqlite_url, broker_url, redis_url)
        check_clean(sqlite_url, broker_url, redis_url)


@pytest.mark.parametrize(
    "options",
    [
        {"cache": None},  # the pipeline needs its Redis
        {"broker": None},  # ... and its broker
        {"strategy": "atomic"},  # --cache with another strategy
        {"seller_lock": "atomic"},  # its seller writes in one transaction of its own
        {"sellers": 0},  # `booking seller` writes no orders
        {"keep": True, "tickets": 1},  # Redis and the database are seeded together
        {"schedule": "random"},  # one buyer at a time cannot hold the sellers
        {"kill_buyer": 1, "kill_at": "after-sale"},  # a buyer never acknowledges
        {"kill_seller": 1, "kill_at": "in-critical"},  # a seller never waits for an answer
    ],
)
def test_combinations_that_make_no_sense_are_refused(
    sqlite_url: str, broker_url: str, redis_url: str, options: dict[str, Any]
) -> None:
    config = {"store": sqlite_url, "broker": broker_url, "cache": redis_url, "strategy": "seckill"} | options
    with pytest.raises(BadInput):
        simulate(RunConfig(**config))


def test_not_a_sql_store_or_not_a_redis_cache_is_refused(tmp_path: Path, broker_url: str, redis_url: str) -> None:
    with pytest.raises(BadInput, match="does not apply to a counter store"):
        simulate(RunConfig(store=str(tmp_path / "db.json"), strategy="seckill", broker=broker_url, cache=redis_url))
    with pytest.raises(BadInput, match="not a redis:// URL"):
        simulate(RunConfig(store=f"sqlite:///{tmp_path}/a.db", strategy="seckill", broker=broker_url, cache="x.db"))


def test_an_unreachable_cache_is_one_line_exit_3_without_its_password(
    sqlite_url: str, broker_url: str, cli: Any
) -> None:
    away = "redis://:s3cr3tpw@127.0.0.1:1/12"
    ran = cli("simulate", "--store", sqlite_url, "--lock", "seckill", "--broker", broker_url, "--cache", away)
    assert ran.code == 3, ran
    assert "--cache" in ran.err and len(ran.err.strip().splitlines()) == 1
    assert "s3cr3tpw" not in ran.err + ran.out


def test_another_application_s_redis_database_is_refused(sqlite_url: str, broker_url: str, redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set("their-key", "1")
    try:
        with pytest.raises(BadInput, match="booking did not make"):
            simulate(RunConfig(store=sqlite_url, strategy="seckill", broker=broker_url, cache=redis_url))
        assert client.get("their-key") == b"1"  # never touched
    finally:
        client.delete("their-key")
        client.close()


def test_an_unreachable_broker_is_refused_before_the_cache_is_touched(
    sqlite_url: str, redis_url: str, cli: Any
) -> None:
    ran = cli("simulate", "--store", sqlite_url, "--lock", "seckill", "--broker", "amqp://guest:pw9x@127.0.0.1:1/",
              "--cache", redis_url)  # fmt: skip
    assert ran.code == 3 and "cannot reach the broker" in ran.err and "pw9x" not in ran.err + ran.out
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0  # refused before anything was seeded
    finally:
        client.close()


def test_compare_adds_seckill_only_when_given_a_broker_and_a_cache(sqlite_url: str) -> None:
    from booking.compare.cells import CompareConfig
    from booking.compare.plan import plan
    from booking.options.store_url import StoreURL

    store = (StoreURL.parse(sqlite_url),)
    rows = {k.strategy for k in plan(CompareConfig(stores=store))}
    assert "seckill" not in rows and "atomic" in rows
    given = CompareConfig(stores=store, broker="amqp://h/", cache="redis://h:6379/12")
    assert "seckill" in {k.strategy for k in plan(given)}
    with pytest.raises(BadInput, match="go together"):
        plan(CompareConfig(stores=store, broker="amqp://h/"))


def test_compare_runs_seckill(sqlite_url: str, broker_url: str, redis_url: str) -> None:
    from booking import compare_strategies

    comparison = compare_strategies(
        stores=[sqlite_url], strategies=["atomic", "seckill"], buyers=[3], trials=1, duration_s=0.2,
        repetitions=1, max_repetitions=1, broker=broker_url, cache=redis_url,
    )  # fmt: skip
    seckill = [c for c in comparison.cells if c.strategy == "seckill"]
    assert {c.question for c in seckill} == {"cost", "correctness"}, comparison.cells
    assert not any(c.broken for c in seckill) and comparison.exit_code == 0


def test_with_one_ticket_the_redelivered_order_finds_none_and_is_not_written_twice(
    sqlite_url: str, broker_url: str, redis_url: str
) -> None:
    result = run(sqlite_url, broker_url, redis_url, tickets=1, kill_seller=1, kill_at="after-sale")
    books = result.extras["reconciliation"]
    assert [a.kind for a in result.verdict.anomalies] == ["unreceipted"], said(result)
    assert books["orders"] == books["redis_deducted"] == 1 and books["duplicate_orders"] == 0
    assert "found nothing left: the first sale stands, and the buyer was told sold out" in story(result, "unreceipted")
