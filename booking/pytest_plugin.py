"""pytest fixtures for your own purchase code: `race` runs it under booking's harness, `race_store` gives
each test a store of its own. Registered through the `pytest11` entry point: installing booking is enough.

    def test_no_oversell(race, race_store):
        assert race(buy, buyers=10, tickets=1, store=race_store("sqlite")).ok

`race(function, **options)` takes RunConfig's fields as keywords (buyers, tickets, store, attempts,
until_sold_out, schedule, seed, runs, depth, prepare, setup, stock, receipts_only, deadline_s,
start_method, ...) and returns a Race: `.ok` (no anomaly, and the buyers did overlap), `.verdict`,
`.result` (the RunResult; with runs > 1 the first failing run, else the last), `.runs` (with runs > 1)
and `.explain()`. `race(target="http://127.0.0.1:8000", ...)` races a service instead of a function
(`target_map` for its shape, `store` to read its store). A failed assertion in a test that ran a race
gets the race's story as its message.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from booking.i18n.lang import _
from booking.options.config import RunConfig
from booking.options.store_url import masked_url, url_secrets
from booking.redact import redact
from booking.run.repeat import Runs, simulate_runs
from booking.run.result import RunResult
from booking.verdict.verify import Verdict

# Where race_store (and booking's own suite) create throw-away databases: the admin URL of each server,
# from BOOKING_POSTGRES_URL / BOOKING_MYSQL_URL (the older BOOKING_TEST_POSTGRES / BOOKING_TEST_MYSQL too).
ADMIN_ENV = {
    "postgresql": ("BOOKING_POSTGRES_URL", "BOOKING_TEST_POSTGRES"),
    "mysql": ("BOOKING_MYSQL_URL", "BOOKING_TEST_MYSQL"),
}
ADMIN_DEFAULTS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def admin_url(kind: str) -> str:
    """The admin URL of the `kind` server, read when a database is made (a test may set the variables)."""
    if kind not in ADMIN_DEFAULTS:
        raise ValueError(_("race_store: unknown kind {kind!r} (sqlite, postgresql or mysql)").format(kind=kind))
    return next((os.environ[n] for n in ADMIN_ENV[kind] if os.environ.get(n)), ADMIN_DEFAULTS[kind])


class Race:
    """The outcome of a race: `.ok`, `.verdict`, `.result`, and a repr that tells what went wrong."""

    def __init__(self, runs: Runs) -> None:
        self.runs = runs
        self.result: RunResult = runs.failed or runs.results[-1]
        self.verdict: Verdict = self.result.verdict

    @property
    def ok(self) -> bool:
        """No run showed an anomaly, none failed to run, and the buyers did overlap in the race window."""
        return self.runs.exit_code == 0

    def explain(self) -> str:
        """Who raced, the verdict, and for a failure its stories and lanes, fitted to pytest's `E   ` lines."""
        from booking.render.run import explain

        r = self.result
        note = None
        tried = len(self.runs.results)
        if tried > 1:
            low, high = self.runs.interval
            planned = self.runs.config.runs
            note = _("run {tried} of {planned} (seed {seed}); P(anomaly) 95% interval [{low:.0%}, {high:.0%}]").format(
                tried=tried, planned=planned, seed=r.seed, low=low, high=high
            )
        width = max(shutil.get_terminal_size().columns - len("E       "), 72)
        return explain(r, width, taken=len("AssertionError: "), note=note)

    def __repr__(self) -> str:
        v = self.verdict
        return f"<Race {self.result.strategy}: {v.word}, sold {v.sold} of {v.initial}>"


_RACES = pytest.StashKey[list[Race]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed assertion in a test that ran a race: its message becomes the race's story."""
    if call.excinfo is not None and isinstance(call.excinfo.value, AssertionError):
        bad = [r for r in item.stash.get(_RACES, []) if not r.ok]
        if bad:
            exc = call.excinfo.value
            original = str(exc.args[0]) if exc.args else ""
            exc.args = ("\n\n".join(r.explain() for r in bad) + ("\n\n" + original if original else ""),)
    return (yield)


RaceRunner = Callable[..., Race]


@pytest.fixture
def race(tmp_path: Path, request: pytest.FixtureRequest) -> RaceRunner:
    """Run a purchase function under booking's harness and return a Race."""
    races = request.node.stash.setdefault(_RACES, [])

    def run(buy: Callable[..., Any] | str | None = None, *, store: str | None = None, **options: Any) -> Race:
        if options.get("target") is not None:  # race a service: its store is read only when named
            config = RunConfig(store=store or "", purchase=buy, **options)
        else:
            config = RunConfig(store=store or str(tmp_path / "db.json"), purchase=buy, **options)
        outcome = Race(simulate_runs(config))
        races.append(outcome)
        return outcome

    return run


@pytest.fixture
def race_store(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """race_store(kind) -> a store URL of its own for this test: "sqlite" (a file in tmp_path), "postgresql"
    or "mysql" (a fresh database on the server of BOOKING_POSTGRES_URL / BOOKING_MYSQL_URL, dropped after).
    Database names carry the xdist worker and a random part, so parallel tests never share one."""
    with contextlib.ExitStack() as made:

        def make(kind: str = "sqlite") -> str:
            if kind == "sqlite":
                return f"sqlite:///{tmp_path / f'race-{secrets.token_hex(4)}.db'}"
            return made.enter_context(throwaway_database(kind))

        yield make


@contextlib.contextmanager
def throwaway_database(kind: str, prefix: str = "booking_race") -> Iterator[str]:
    """CREATE DATABASE <prefix>_<xdist worker>_<random> on the `kind` server, yield its URL, DROP it after.

    An unreachable server skips the test with the reason, or fails it when BOOKING_REQUIRE_SERVERS=1 (CI).
    Either way the message shows the admin URL masked, and not the driver's exception: its conninfo may
    carry the password."""
    import sqlalchemy as sa

    admin_spec = admin_url(kind)
    admin = sa.engine.make_url(admin_spec)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{prefix}_{worker}_{secrets.token_hex(4)}"
    engine = sa.create_engine(
        admin, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3}
    )
    reason = None
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:  # the server's refusal, or its driver missing
        said = str(getattr(exc, "orig", None) or exc).strip()
        why = said.splitlines()[0] if said else type(exc).__name__
        reason = redact(f"race_store: {kind} at {masked_url(admin_spec)} unreachable: {why}", url_secrets(admin_spec))
    if reason is not None:  # outside the except block: no chained driver exception in the report
        engine.dispose()
        if os.environ.get("BOOKING_REQUIRE_SERVERS") == "1":
            pytest.fail(f"BOOKING_REQUIRE_SERVERS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            force = " WITH (FORCE)" if kind == "postgresql" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        engine.dispose()
