"""`booking serve --http2` (Hypercorn) raced with `simulate --target --http2`: 20 buyers' requests on the
parent's one HTTP/2 connection, finished in one write. One connection is served by one worker, so the race
is inside that worker (its threads): `none` oversells there and is judged so, `atomic` holds. Slow: a
service start with four spawned workers, and two races."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("hypercorn", reason="booking[service] is not installed")

from booking import RunConfig, simulate
from tests.service.conftest import stop

BUYERS = 20


@pytest.mark.slow
def test_http2_batch_is_judged_right_and_is_one_connection(serve: Any, race_store: Any) -> None:
    store = race_store("sqlite")
    service = serve(store, "none", "--think", "250", "--http2")
    result = simulate(RunConfig(target=service.url, store=store, buyers=BUYERS, tickets=1, http2=True))
    v, spread = result.verdict, result.extras["spread"]
    assert result.exit_code == 1 and v.double_sold == 1 and v.oversold >= 1, v.anomalies
    assert v.overlap == BUYERS and spread["http"] == "2" and spread["one_process"] is True
    first = [a for a in result.history.attempts if a.attempt == 0]
    assert len(first) == BUYERS and all(a.released for a in first)  # every final frame in the parent's one write
    assert len({a.served_by for a in first}) == 1  # one connection: one worker served every stream
    assert spread["arrived_ms"] is not None and spread["together"] is True
    assert stop(service) == 0


@pytest.mark.slow
def test_http2_batch_against_atomic_is_ok(serve: Any, race_store: Any) -> None:
    store = race_store("sqlite")
    service = serve(store, "atomic", "--think", "10", "--http2")
    result = simulate(RunConfig(target=service.url, store=store, buyers=BUYERS, tickets=1, http2=True))
    assert result.exit_code == 0 and result.verdict.sold == 1, result.verdict.anomalies
