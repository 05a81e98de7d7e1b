"""A run for a person: the buyers' events in time order, then the verdict and its stories.

Every line fits the width it is printed at (the terminal's, 80 columns when piped): a long line goes
on, indented, on the next; nothing is cut.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from booking.redact import redact
from booking.render.text import Printer
from booking.render.verdict import TONES, explain, figures, judge, render_verdict
from booking.result import RunResult
from booking.stores.base import StoreKind
from booking.words import SAFETY_FIGURES, count, steps

__all__ = ["Printer", "emit", "event_lines", "explain", "render_run", "render_runs", "render_verdict", "run_line"]

MAX_EVENT_LINES = 60  # beyond this, the head and the tail of the run; --history has all of it
EVENT_INDENT = 26  # where an event's words start: '  {ms:8.1f} ms  buyer {n:<4} '


def event_lines(result: RunResult) -> list[tuple[float, int, str]]:
    """(time, buyer, words) for every look, read, write and refusal, in the spirit of the notes."""
    counter = result.kind is StoreKind.COUNTER
    events = [(s.t, s.buyer, s.long) for a in result.history.attempts for s in steps(a, counter) if s.long]
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def render_run(result: RunResult, out: Printer, quiet: bool = False) -> None:
    c = result.config
    seed = f" (seed {result.seed}: --seed {result.seed} gives this order again)" if result.seed is not None else ""
    if result.pct is not None:
        seed += f"; PCT depth {c.depth}: finds a given depth-{c.depth} bug with probability >= {result.pct:.2%} a run"
    if result.replay is not None:
        seed = f" (order {result.replay})"
    out.line(
        (
            f"{count(c.buyers, 'buyer')}, {count(result.initial, 'ticket')}, strategy {result.strategy}"
            f"{result.note}, {c.schedule.value} schedule{seed}, store {result.store}",
            "bold",
        )
    )
    if "run" in result.extras:  # --run: this host's buyers, in a verdict over every host's
        x = result.extras
        out.line(f"  run {x['run']}: this is host {x['host']}, one of {x['hosts']}; the verdict covers every host")
    if not quiet:
        events = event_lines(result)
        shown = events if len(events) <= MAX_EVENT_LINES else events[:40] + events[-10:]
        for i, (t, buyer, words) in enumerate(shown):
            if len(events) > MAX_EVENT_LINES and i == 40:
                out.line((f"  ... {len(events) - 50} more events (--history FILE keeps all of them)", "dim"))
            out.line(f"  {t * 1000:8.1f} ms  buyer {buyer:<4} {words}", indent=EVENT_INDENT)
    if result.interrupted:
        return  # no verdict for a run cut short: the one line on stderr says what finished
    render_verdict(
        result.verdict, out, result.elapsed_s, judge(result), unread=result.extras.get("store_read") is False
    )
    if result.aborted:
        out.line(("  run stopped: ", "bold red"), result.aborted)
    for missing in result.extras.get("missing", []):
        out.line(("  missing: ", "bold red"), missing)
    traced = next((a for a in result.history.attempts if a.trace), None)
    if traced is not None and traced.trace:  # --debug: the first failure's traceback, down into your code
        out.line((f"  traceback of buyer {traced.buyer}, attempt {traced.attempt + 1}:", "dim"))
        for row in traced.trace.rstrip().splitlines():
            out.line(row)
    if not quiet and result.verdict.anomalies and result.history.attempts:
        from booking.render.timeline import lanes

        out.line(("  timeline, a lane per buyer involved:", "dim"))
        for row in lanes(result, width=out.width).splitlines():
            out.line(row)


def run_line(result: RunResult, out: Printer) -> None:
    """--runs: one line a run, as it ends."""
    v, judged = result.verdict, judge(result)
    which = f"order {result.replay}" if result.replay is not None else f"seed {result.seed}"
    sold = f"sold {v.sold}  {figures(v, SAFETY_FIGURES, 'safety')}  errors {v.errors}"
    out.line((f"  {judged.head:<15}", TONES[judged.tone]), f" {which}  {sold}  ({result.elapsed_s:.2f} s)")


def render_runs(runs: Any, out: Printer, quiet: bool = False) -> None:
    """--runs: how likely a failure is, and the first failing run in full, with how to get it again."""
    low, high = runs.interval
    tried = len(runs.results)
    unproved = f"; {runs.inconclusive_runs} inconclusive" if runs.inconclusive_runs else ""
    if runs.exhaustive:  # not a sample: every order tried is a fact, not an estimate
        every = "every order of the buyers' points" if runs.complete else "not every order: raise --runs for more"
        if runs.failed is not None:
            every = "stopped at the first failing order"
        out.line((f"{runs.anomaly_runs} of {tried} orders showed an anomaly", "bold"), f" ({every}){unproved}")
    else:
        out.line(
            (f"{runs.anomaly_runs} of {tried} runs showed an anomaly: ", "bold"),
            f"P(anomaly) {runs.anomaly_runs / tried:.0%}, 95% interval [{low:.0%}, {high:.0%}]{unproved}",
        )
    failed = runs.failed
    if failed is None:
        return
    again = f"--replay {failed.replay}" if failed.replay is not None else f"--seed {failed.seed} --runs 1"
    out.line((f"the first failing run, run {tried}", "bold red"), f" ({again} gives it again):")
    render_run(failed, out, quiet=quiet)


def emit(outcome: RunResult | Any, as_json: bool, quiet: bool) -> int:
    """Print a run (or repeated runs) as JSON or for a person; returns the exit code."""
    if as_json:
        sys.stdout.write(redact(json.dumps(outcome.to_json(), indent=2)) + "\n")
    elif isinstance(outcome, RunResult):
        render_run(outcome, Printer(), quiet=quiet)
    else:
        render_runs(outcome, Printer(), quiet=quiet)
    return int(outcome.exit_code)


@contextlib.contextmanager
def shown_when_interrupted(as_json: bool, quiet: bool) -> Iterator[None]:
    """A run a signal stopped is shown as far as it went (no verdict); exits.py says the one line."""
    from booking.processes.signals import Interrupted

    try:
        yield
    except Interrupted as exc:
        if exc.result is not None:
            emit(exc.result, as_json, quiet)
        raise
