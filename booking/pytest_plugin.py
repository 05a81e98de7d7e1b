"""pytest fixtures for your own purchase code: `race` runs it under booking's harness, `race_store` gives
each test a store of its own. Registered through the `pytest11` entry point: installing booking is enough.

    def test_no_oversell(race, race_store):
        assert race(buy, buyers=10, tickets=1, store=race_store("sqlite")).ok

`race(function, **options)` takes RunConfig's fields as keywords (buyers, tickets, store, attempts,
until_sold_out, schedule, seed, runs, depth, prepare, setup, stock, receipts_only, deadline_s,
start_method, ...) and returns a Race: `.ok` (no anomaly, and the buyers did overlap), `.verdict`,
`.result` (the RunResult; with runs > 1 the first failing run, else the last), `.runs` (every run, in
order: `for run in outcome.runs`) and `.explain()` (the story once, to pytest's width, ending with the
seed and the race(...) call that gives it again). `race(target="http://127.0.0.1:8000", ...)` races a
service instead of a function (`target_map` for its shape, `store` to read its store). A failed
assertion in a test that ran a race gets the race's story as its message, unless it already says it.

Buyers start with fork where it is safe: your modules hold no database connection made at import
(engines are fine: a forked buyer disposes their pools). Else with spawn, and the session's summary
says why. `@pytest.mark.race(runs=20, schedule="random")` gives a test's race(...) calls defaults;
`--race-runs N` and `--race-seed S` give every race(...) call in the session the same.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from booking.i18n.lang import _
from booking.kit.forking import shared_connections
from booking.options.choices import START_METHOD_ENV
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
    """The outcome of a race: `.ok`, `.verdict`, `.result`, `.runs`, and a repr that tells what went wrong."""

    def __init__(self, runs: Runs, spawned_because: str | None = None) -> None:
        self.runs = runs
        self.result: RunResult = runs.failed or runs.results[-1]
        self.verdict: Verdict = self.result.verdict
        self.spawned_because = spawned_because  # why the buyers started with spawn, not fork (None: they forked)

    @property
    def ok(self) -> bool:
        """No run showed an anomaly, none failed to run, and the buyers did overlap in the race window."""
        return self.runs.exit_code == 0

    def explain(self) -> str:
        """Who raced, the verdict, and for a failure its stories and lanes, fitted to pytest's `E   ` lines;
        last, the seed and the race(...) call that gives the run again."""
        from booking.render.replay import race_call
        from booking.render.run import explain

        r = self.result
        notes = []
        tried = len(self.runs.results)
        if tried > 1:
            low, high = self.runs.interval
            planned = self.runs.config.runs
            notes.append(
                _("run {tried} of {planned} (seed {seed}); P(anomaly) 95% interval [{low:.0%}, {high:.0%}]").format(
                    tried=tried, planned=planned, seed=r.seed, low=low, high=high
                )
            )
        if self.spawned_because:
            notes.append(self.spawned_because)
        again = _("seed {seed}; again: {call}").format(seed=r.seed, call=race_call(r.config, r.seed, r.replay))
        width = max(shutil.get_terminal_size().columns - len("E       "), 72)
        note = "\n".join(notes) or None
        kept = "outcome.result.history"
        return explain(r, width, taken=len("AssertionError: "), note=note, again=again, kept=kept)

    def __repr__(self) -> str:
        v = self.verdict
        return f"<Race {v.word}: sold {v.sold} of {v.initial}>"


_RACES = pytest.StashKey[list[Race]]()
_SPAWNED = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("booking", "booking's race fixture")
    group.addoption("--race-runs", type=int, default=None, metavar="N", help="Run every race(...) N times.")
    group.addoption(
        "--race-seed", type=int, default=None, metavar="S", help="Give every race(...) this seed (a failure's)."
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "race(**options): defaults for the race(...) calls of a test, e.g. race(runs=20, schedule='random')"
    )
    config.stash[_SPAWNED] = []


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Tests whose buyers could not fork, and why, once at the end of the session."""
    spawned = config.stash.get(_SPAWNED, [])
    if spawned:
        terminalreporter.section(_("booking: buyers started with spawn"))
        for line in spawned:
            terminalreporter.write_line(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed assertion in a test that ran a race: its message becomes the race's story (said once: not
    again when the assertion's own message is already that story)."""
    if call.excinfo is not None and isinstance(call.excinfo.value, AssertionError):
        exc = call.excinfo.value
        original = str(exc.args[0]) if exc.args else ""
        told = [r.explain() for r in item.stash.get(_RACES, []) if not r.ok]
        if told:
            exc.args = (_message(told, original),)
    return (yield)


def _message(told: list[str], original: str) -> str:
    """The stories, then the assertion's own message. pytest indents a multi-line message by two columns,
    which would push an 80-column story past 80: a story the message already is (`assert outcome.ok,
    outcome.explain()`) is said once, as made, followed by pytest's 'assert ...' explanation."""
    flat = " ".join(original.split())
    said = [text for text in told if " ".join(text.split()) in flat]
    if said:
        rest = original.split("\nassert ", 1)
        tail = "\nassert " + rest[1] if len(rest) == 2 else ""
        return "\n\n".join(told) + tail
    return "\n\n".join(told) + ("\n\n" + original if original else "")


RaceRunner = Callable[..., Race]


@pytest.fixture
def race(tmp_path: Path, request: pytest.FixtureRequest) -> RaceRunner:
    """Run a purchase function under booking's harness and return a Race."""
    races = request.node.stash.setdefault(_RACES, [])
    defaults = _defaults(request)

    def run(buy: Callable[..., Any] | str | None = None, *, store: str | None = None, **options: Any) -> Race:
        options = {**defaults, **options}
        spawned = _start_method(buy, options)
        if spawned:
            request.config.stash.get(_SPAWNED, []).append(f"{request.node.nodeid}: {spawned}")
        if options.get("target") is not None:  # race a service: its store is read only when named
            config = RunConfig(store=store or "", purchase=buy, **options)
        else:
            config = RunConfig(store=store or str(tmp_path / "db.json"), purchase=buy, **options)
        outcome = Race(simulate_runs(config), spawned)
        races.append(outcome)
        return outcome

    return run


def _defaults(request: pytest.FixtureRequest) -> dict[str, Any]:
    """race(...)'s defaults for this test: --race-runs and --race-seed, then the test's race marker."""
    out: dict[str, Any] = {}
    for option, name in (("--race-runs", "runs"), ("--race-seed", "seed")):
        value = request.config.getoption(option, None)
        if value is not None:
            out[name] = value
    marker = request.node.get_closest_marker("race")
    return {**out, **(marker.kwargs if marker is not None else {})}


def _start_method(buy: Any, options: dict[str, Any]) -> str | None:
    """Fork your code's buyers where it is safe (options["start_method"]); say why when it is not."""
    if buy is None or options.get("start_method") is not None or options.get("target") is not None:
        return None
    if os.environ.get(START_METHOD_ENV) or "fork" not in multiprocessing.get_all_start_methods():
        return None  # the environment chose, or the platform cannot fork
    shared = shared_connections(options.get(h) for h in ("prepare", "setup", "stock") if callable(options.get(h)))
    if callable(buy):
        shared = sorted({*shared, *shared_connections([buy])})
    options["start_method"] = "spawn" if shared else "fork"
    if not shared:
        return None
    return _(
        "buyers started with spawn, not fork: {names} holds a database connection made at import, which "
        "forked buyers would share"
    ).format(names=", ".join(shared))


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
