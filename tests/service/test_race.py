"""Issue 16 items 2 and 4: `booking serve` with 4 real worker processes, 50 HTTP buyers sent together.

`none` and the per-worker `mp-lock` oversell (the lock lives in each worker, so the workers race each
other); `atomic` and `db-lock` do not, on SQLite and on PostgreSQL. The default suite races mp-lock on
SQLite, the race that is about worker processes (one service start, a few seconds); atomic's answers to
requests sent together are tested in-process (test_http.py), and `-m slow` races atomic across real
workers and the whole matrix on both stores, three races a cell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from booking import RunConfig, simulate
from booking.render.stories import stories
from booking.run.result import RunResult
from tests.service.conftest import Service, stop

BUYERS = 50
OVERSELLS = {"none", "mp-lock"}
MATRIX = [(k, s) for k in ("sqlite", "postgresql") for s in ("none", "mp-lock", "atomic", "db-lock")]


def serve_for(serve: Callable[..., Service], store: str, lock: str) -> Service:
    # The window (--think, after the read) is wide where the race must show: a worker that a loaded host
    # does not schedule for tens of ms must still find the others inside it. Where the strategy must hold,
    # a narrow one keeps the serialized runs short (db-lock sleeps inside its lock).
    return serve(store, lock, "--think", "250" if lock in OVERSELLS else "10")


def until_it_shows(run: Callable[[], Any], shown: Callable[[Any], bool], tries: int = 3) -> Any:
    """The race across workers is a race of the OS's scheduling: on a starved machine one run's requests
    may reach the workers one at a time. It must show within `tries` runs (each run is a fresh chance);
    the last run is returned either way, for the assertion to speak of it."""
    for _ in range(tries - 1):
        outcome = run()
        if shown(outcome):
            return outcome
    return run()


def race(service: Service, store: str | None, buyers: int = BUYERS) -> RunResult:
    return simulate(RunConfig(target=service.url, store=store or "", buyers=buyers, tickets=1))


def check(result: RunResult, lock: str) -> None:
    v = result.verdict
    assert result.extras["store_read"] is True and result.extras["served"].startswith(f"booking serve: {lock},")
    assert v.overlap == result.config.buyers  # every request was sent inside the window: the run proves something
    if lock not in OVERSELLS:
        assert result.exit_code == 0 and v.sold == 1 and v.remaining == 0, v.anomalies
        return
    assert result.exit_code == 1 and v.double_sold == 1 and v.oversold >= 1
    if lock == "mp-lock":  # each worker's lock let one of its requests through: the workers raced each other
        assert len({a.served_by for a in result.history.receipts}) >= 2
        assert "cross-worker double sale" in stories(v.anomalies[1])[0], v.anomalies


class TestPerWorkerLocks:
    """A lock inside each worker process protects that worker only; the database's protects them all."""

    def test_mp_lock_oversells_across_workers_and_says_so(self, cli: Any, serve: Any, race_store: Any) -> None:
        """The acceptance, as two terminals would run it; then the same without --store: receipts alone."""
        store = race_store("sqlite")
        service = serve_for(serve, store, "mp-lock")
        # 12 buyers, 3 a worker: each worker's lock serializes its own (250 ms each), the workers race
        shows = until_it_shows(lambda: race(service, store, buyers=12), lambda r: r.verdict.double_sold > 0)
        check(shows, "mp-lock")
        ran = until_it_shows(
            lambda: cli("simulate", "--target", service.url, "--store", store, "--buyers", 12), lambda r: r.code == 1
        )
        assert ran.code == 1 and "cross-worker double sale" in ran.out, ran.out + ran.err
        said = " ".join(ran.out.split())  # lines are wrapped to 80 columns in a pipe
        assert (
            f"store{store}" in "".join(said.split())
            and "(booking serve: mp-lock, one worker process, 4 workers)" in said
        )

        def receipts_only() -> Any:  # a fresh ticket each time: this run does not seed the service's store
            assert cli("init", "--store", store, "--tickets", 1).code == 0
            return cli("simulate", "--target", service.url, "--buyers", 12)

        ran = until_it_shows(receipts_only, lambda r: r.code == 1)
        said = " ".join(ran.out.split())
        assert ran.code == 1 and "store not read (receipts alone are judged" in said
        assert "not measured" in said and "receipts alone: --store reads the service's store" in said
        assert stop(service) == 0  # SIGTERM: every worker stopped (stop checks the session is empty)

    @pytest.mark.slow
    def test_atomic_holds_across_workers(self, cli: Any, serve: Any, race_store: Any) -> None:
        store = race_store("sqlite")
        service = serve_for(serve, store, "atomic")
        check(race(service, store), "atomic")
        ran = cli("simulate", "--target", service.url, "--store", store, "--buyers", 20, "--json")
        data = ran.json()
        assert ran.code == 0 and data["verdict"] == "OK" and data["store_read"] is True, ran.out + ran.err

    @pytest.mark.slow
    @pytest.mark.parametrize(("kind", "lock"), MATRIX)
    def test_the_whole_matrix_three_times(self, serve: Any, race_store: Any, kind: str, lock: str) -> None:
        store = race_store(kind)
        service = serve_for(serve, store, lock)
        for _ in range(3):
            check(race(service, store), lock)
