"""The `race` fixture: your purchase function, N buyer processes in lockstep, and the verdict.

    def test_no_oversell(race):
        assert race(buy, buyers=10, tickets=1, store="sqlite:///t.db").ok

On failure the assertion message is the anomaly's timeline. Registered through the `pytest11`
entry point, so installing booking is enough.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from booking.config import RunConfig
from booking.errors import BadInput
from booking.result import RunResult
from booking.simulation import simulate
from booking.strategies.custom import PurchaseFunction, spec_of
from booking.verify import Verdict
from booking.words import count


class Race:
    """The outcome of one race: `.ok`, `.verdict`, and a repr that tells what went wrong."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.verdict: Verdict = result.verdict

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    def explain(self) -> str:
        from booking.render.run import figures
        from booking.render.timeline import story

        v, r = self.verdict, self.result
        head = f"{r.strategy}: {count(r.config.buyers, 'buyer')}, {count(v.initial, 'ticket')}: {figures(v, ', ')}"
        if v.ok:
            return head + " (OK)"
        if not v.anomalies and v.inconclusive:
            return f"{head}\nINCONCLUSIVE: {v.inconclusive}"
        return "\n".join([head, story(r)])

    def __repr__(self) -> str:
        v = self.verdict
        return f"<Race {self.result.strategy}: {v.word}, sold {v.sold} of {v.initial}>"


_RACES = pytest.StashKey[list[Race]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed assertion in a test that ran a race: its message becomes the anomaly's timeline."""
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

    def run(buy: PurchaseFunction, *, store: str | None = None, **options: Any) -> Race:
        """`options` are RunConfig's fields (buyers, tickets, attempts, schedule, seed, deadline_s, ...)."""
        spec = spec_of(buy)
        if "<locals>" in spec:
            raise BadInput(f"{spec}: define the purchase function at module level, so buyer processes can find it")
        config = RunConfig(store=store or str(tmp_path / "db.json"), purchase=spec, **options)
        outcome = Race(simulate(config))
        races.append(outcome)
        return outcome

    return run
