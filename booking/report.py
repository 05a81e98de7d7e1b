"""Rendering a run for a person: the buyers' events in time order, then the verdict."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from booking.history import Outcome
from booking.simulation import RunResult
from booking.stores.base import StoreKind
from booking.verify import Verdict

MAX_EVENT_LINES = 60  # beyond this, the head and the tail of the run; --history has all of it
VERDICT_FIELDS = ("sold", "remaining", "oversold", "double_sold", "lost_updates", "undersold", "errors", "stuck")


def event_lines(result: RunResult) -> list[tuple[float, int, str]]:
    """(time, buyer, words) for every look, read, write and refusal, in the spirit of the notes."""
    counter = result.kind is StoreKind.COUNTER
    events: list[tuple[float, int, str]] = []
    for a in result.history.attempts:
        if a.looked is not None:
            events.append((a.t_start, a.buyer, f"sees {a.looked} {_tickets(a.looked)} left"))
        if a.t_read is not None:
            waited = f" (waited {a.lock_wait_s * 1000:.1f} ms for the lock)" if a.t_acquired is not None else ""
            if a.queue_wait_s is not None:
                waited = f" (through the queue: waited {a.queue_wait_s * 1000:.1f} ms){waited}"
            seen = f"count={a.read}" if counter else (f"ticket #{a.read} free" if a.read else "no free ticket")
            text = f"reads {seen}{waited}" if a.read is not None else "reaches after-read (your race window)"
            events.append((a.t_read, a.buyer, text))
        if a.outcome is Outcome.OK and a.t_write is not None:
            wrote = f"writes count={a.wrote}: " if counter and a.wrote is not None else ""
            events.append((a.t_write, a.buyer, f"{wrote}bought ticket #{a.ticket}"))
        elif a.outcome is Outcome.SOLD_OUT:
            events.append((a.t_end, a.buyer, "found no tickets left"))
        elif a.outcome is Outcome.CONFLICT:
            events.append((a.t_end, a.buyer, f"gave up after {a.conflicts} conflicts"))
        elif a.outcome is Outcome.ERROR:
            events.append((a.t_end, a.buyer, f"failed: {a.error}"))
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
    sellers = ""
    if c.strategy == "queue":
        sellers = f" ({c.sellers} {_plural(c.sellers, 'seller')}, seller lock {c.seller_lock or 'none'})"
    out.line(
        (
            f"{c.buyers} {_plural(c.buyers, 'buyer')}, {result.initial} {_tickets(result.initial)}, "
            f"strategy {result.strategy}{sellers}, {c.schedule.value} schedule{seed}, store {result.store}",
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
    if not quiet and result.verdict.anomalies and result.history.attempts:
        from booking.timeline import lanes

        out.line(("  timeline, a lane per buyer involved:", "dim"))
        out.line(lanes(result))


def render_verdict(v: Verdict, out: Printer, elapsed_s: float | None = None) -> None:
    figures = "  ".join(f"{name} {getattr(v, name)}" for name in VERDICT_FIELDS)
    if v.killed:
        figures += f"  killed {v.killed} (injected)"
    extra = f"  conflicts {v.conflicts}  retries {v.retries}" if v.conflicts or v.retries else ""
    took = f"  ({elapsed_s:.2f} s)" if elapsed_s is not None else ""
    head = "OK" if v.ok else ("STUCK" if v.stuck else "ANOMALY")
    style = "bold green" if v.ok else "bold red"
    out.line((f"verdict: {head}", style), f"  {figures}{extra}{took}")
    for anomaly in v.anomalies:
        for line in anomaly.story:
            out.line((f"  {anomaly.kind}: ", "red"), line)


def _tickets(n: int) -> str:
    return _plural(n, "ticket")


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"
