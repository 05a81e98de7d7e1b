"""A run for a person: the buyers' events in time order, then the verdict and its stories."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from booking.result import RunResult
from booking.stores.base import StoreKind
from booking.verify import Verdict
from booking.words import count, steps

MAX_EVENT_LINES = 60  # beyond this, the head and the tail of the run; --history has all of it
VERDICT_FIELDS = ("sold", "remaining", "oversold", "double_sold", "lost_updates", "undersold", "errors", "stuck")


def event_lines(result: RunResult) -> list[tuple[float, int, str]]:
    """(time, buyer, words) for every look, read, write and refusal, in the spirit of the notes."""
    counter = result.kind is StoreKind.COUNTER
    events = [(s.t, s.buyer, s.long) for a in result.history.attempts for s in steps(a, counter) if s.long]
    events.sort(key=lambda e: (e[0], e[1]))
    return events


Part = str | tuple[str, str]  # plain text, or (text, Rich style)


class Printer:
    """Lines for a person: styled by Rich on a terminal, plain text elsewhere (and no Rich import,
    which is a tenth of a short run's start-up)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._console: Any = None
        if self.stream.isatty():
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True)

    def line(self, *parts: Part) -> None:
        if self._console is None:
            self.stream.write("".join(p if isinstance(p, str) else p[0] for p in parts) + "\n")
            return
        from rich.text import Text

        text = Text()
        for p in parts:
            if isinstance(p, str):
                text.append(p)
            else:
                text.append(p[0], style=p[1])
        self._console.print(text)


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
    if not quiet:
        events = event_lines(result)
        shown = events if len(events) <= MAX_EVENT_LINES else events[:40] + events[-10:]
        for i, (t, buyer, words) in enumerate(shown):
            if len(events) > MAX_EVENT_LINES and i == 40:
                out.line((f"  ... {len(events) - 50} more events (--history FILE keeps all of them)", "dim"))
            out.line(f"  {t * 1000:8.1f} ms  buyer {buyer:<4} {words}")
    render_verdict(result.verdict, out, result.elapsed_s)
    if result.aborted:
        out.line(("  run stopped: ", "bold red"), result.aborted)
    traced = next((a for a in result.history.attempts if a.trace), None)
    if traced is not None:  # --debug: the first failure's traceback, down into your code
        out.line((f"  traceback of buyer {traced.buyer}, attempt {traced.attempt + 1}:", "dim"))
        out.line(traced.trace.rstrip() if traced.trace else "")
    if not quiet and result.verdict.anomalies and result.history.attempts:
        from booking.render.timeline import lanes

        out.line(("  timeline, a lane per buyer involved:", "dim"))
        out.line(lanes(result))


def figures(v: Verdict, sep: str = "  ") -> str:
    """'sold 4  remaining 0  oversold 3 ...': the verdict's figures in one line ('-': not measured)."""
    return sep.join(f"{name} {'-' if getattr(v, name) is None else getattr(v, name)}" for name in VERDICT_FIELDS)


STYLES = {"OK": "bold green", "INCONCLUSIVE": "bold yellow"}


def render_verdict(v: Verdict, out: Printer, elapsed_s: float | None = None) -> None:
    line = figures(v)
    if v.killed:
        line += f"  killed {v.killed} (injected)"
    extra = f"  conflicts {v.conflicts}  retries {v.retries}" if v.conflicts or v.retries else ""
    took = f"  ({elapsed_s:.2f} s)" if elapsed_s is not None else ""
    out.line((f"verdict: {v.word}", STYLES.get(v.word, "bold red")), f"  {line}{extra}{took}")
    if v.inconclusive:
        out.line(("  inconclusive: ", "yellow"), v.inconclusive)
    if v.remaining is None:
        out.line(
            ("  not measured: ", "dim"),
            "remaining, lost_updates, unreceipted and undersold (your own tables: --stock MODULE:FUNCTION counts them)",
        )
    for anomaly in v.anomalies:
        for line in anomaly.story:
            out.line((f"  {anomaly.kind}: ", "red"), line)


def run_line(result: RunResult, out: Printer) -> None:
    """--runs: one line a run, as it ends."""
    v = result.verdict
    which = f"order {result.replay}" if result.replay is not None else f"seed {result.seed}"
    out.line((f"  {v.word:<12}", STYLES.get(v.word, "bold red")), f" {which}  {figures(v)}  ({result.elapsed_s:.2f} s)")


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
        sys.stdout.write(json.dumps(outcome.to_json(), indent=2) + "\n")
    elif isinstance(outcome, RunResult):
        render_run(outcome, Printer(), quiet=quiet)
    else:
        render_runs(outcome, Printer(), quiet=quiet)
    return int(outcome.exit_code)
