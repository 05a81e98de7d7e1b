"""A run for a person: the buyers' events in time order, then the verdict and its stories.

Every line fits the width it is printed at (the terminal's, 80 columns when piped): a long line goes
on, indented, on the next; nothing is cut.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from booking.i18n.lang import _
from booking.redact import redact
from booking.render import orders, stories
from booking.render.judgement import SAFETY_FIGURES
from booking.render.leases import tell as tell_pauses
from booking.render.live import EventLines, header, replay
from booking.render.text import Printer, pad
from booking.render.verdict import TONES, explain, figures, judge, landed, render_verdict, verdict_head
from booking.run.result import RunResult

__all__ = ["EventLines", "Printer", "emit", "explain", "render_run", "render_runs", "render_verdict", "run_line"]


def _schedule_note(result: RunResult) -> str:
    """What the header says of a seeded, PCT or replayed schedule."""
    c = result.config
    seed = (
        _(" (seed {seed}: --seed {seed} gives this order again)").format(seed=result.seed)
        if result.seed is not None
        else ""
    )
    if result.pct is not None:
        seed += _("; PCT depth {d}: finds a given depth-{d} bug with probability >= {p} a run").format(
            d=c.depth, p=f"{result.pct:.2%}"
        )
    if result.replay is not None:
        seed = _(" (order {order})").format(order=result.replay)
    return seed


def _header(result: RunResult) -> str:
    """A finished run's first line, with its seed or order (told live, the watcher said it)."""
    c = result.config
    return header(
        c.buyers, result.initial, result.strategy + result.note, c.schedule.value, _schedule_note(result), result.store
    )


def _hosts(result: RunResult, out: Printer) -> None:
    """--run: this host's buyers, in a verdict over every host's."""
    if "run" in result.extras:
        x = result.extras
        said = _("  run {run}: this is host {host}, one of {hosts}; the verdict covers every host")
        out.line(said.format(run=x["run"], host=x["host"], hosts=x["hosts"]))


def render_run(result: RunResult, out: Printer, quiet: bool = False, live: EventLines | None = None) -> None:
    """A run: its header and events (unless `live` printed them as they happened), the verdict, the
    stories, the lanes. `quiet` (-q): the verdict's word and why, sold and remaining, nothing else."""
    if quiet:
        _quietly(result, out)
        return
    told = live is not None  # the header and the events were printed as they happened
    if live is None:
        out.line((_header(result), "bold"))
        _hosts(result, out)
        live = EventLines(out, result.kind.counts)
        live.queue = "sellers" in result.extras
        live.http = "spread" in result.extras
        live.own = result.config.purchase is not None
        live.names()
        replay(result, live)
    if live is not None:
        live.finish()
    if told:
        _hosts(result, out)
    if result.interrupted:
        return  # no verdict for a run cut short: the one line on stderr says what finished
    render_verdict(
        result.verdict, out, result.elapsed_s, judge(result), unread=result.extras.get("store_read") is False
    )
    if result.extras.get("spread") is not None:  # a target's run always says how close its requests landed
        out.line((_("  spread: "), "dim"), landed(result.extras["spread"]))
    if result.extras.get("reconciliation") is not None:  # seckill: the three books, always said
        out.line((_("  books: "), "dim"), orders.books(result.extras["reconciliation"]))
    tell_pauses(result.pauses, result.strategy, out)
    if result.aborted:
        out.line((_("  run stopped: "), "bold red"), result.aborted)
    for missing in result.extras.get("missing", []):
        out.line((_("  missing: "), "bold red"), missing)
    traced = next((a for a in result.history.attempts if a.trace), None)
    if traced is not None and traced.trace:  # --debug: the first failure's traceback, down into your code
        where = _("  traceback of buyer {buyer}, attempt {attempt}:").format(
            buyer=traced.buyer, attempt=traced.attempt + 1
        )
        out.line((where, "dim"))
        for row in traced.trace.rstrip().splitlines():
            out.line(row)
    if result.verdict.anomalies and (result.history.attempts or result.history.stuck):
        from booking.render.timeline import lanes

        sellers = any(a.seller is not None for a in result.history.attempts)
        said = _("  timeline, a lane per seller involved:") if sellers else _("  timeline, a lane per buyer involved:")
        out.line((said, "dim"))
        for row in lanes(result, width=out.width).splitlines():
            out.line(row)


def _quietly(result: RunResult, out: Printer) -> None:
    """-q: the verdict's two first lines; a stopped run also says why, which its verdict points to, and a
    seeded or replayed run keeps its first line, which says how to give it again."""
    if _schedule_note(result):
        out.line(_header(result))
    if result.interrupted:
        return  # no verdict for a run cut short: the one line on stderr says what finished
    for parts in verdict_head(result.verdict, judge(result), result.elapsed_s):
        out.line(*parts)
    if result.aborted:
        out.line((_("  run stopped: "), "bold red"), result.aborted)


def run_line(result: RunResult, out: Printer) -> None:
    """--runs: one line a run, as it ends."""
    v, judged = result.verdict, judge(result)
    which = (
        _("order {order}").format(order=result.replay)
        if result.replay is not None
        else _("seed {seed}").format(seed=result.seed)
    )
    sold = _("sold {sold}  {figures}  errors {errors}").format(
        sold=v.sold, figures=figures(v, SAFETY_FIGURES, "safety"), errors=v.errors
    )
    out.line(
        (f"  {pad(judged.head, 15)}", TONES[judged.tone]),
        f" {which}  {sold}  " + _("({s} s)").format(s=f"{result.elapsed_s:.2f}"),
    )


def render_runs(runs: Any, out: Printer, quiet: bool = False) -> None:
    """--runs: how likely a failure is, and the first failing run in full, with how to get it again."""
    low, high = runs.interval
    tried = len(runs.results)
    unproved = _("; {n} inconclusive").format(n=runs.inconclusive_runs) if runs.inconclusive_runs else ""
    if runs.exhaustive:  # not a sample: every order tried is a fact, not an estimate
        if runs.failed is not None:
            every = _("stopped at the first failing order")
        else:
            every = (
                _("every order of the buyers' points") if runs.complete else _("not every order: raise --runs for more")
            )
        head = _("{n} of {tried} orders showed an anomaly").format(n=runs.anomaly_runs, tried=tried)
        out.line((head, "bold"), f" ({every}){unproved}")
    else:
        head = _("{n} of {tried} runs showed an anomaly: ").format(n=runs.anomaly_runs, tried=tried)
        odds = _("P(anomaly) {p}, 95% interval [{low}, {high}]").format(
            p=f"{runs.anomaly_runs / tried:.0%}", low=f"{low:.0%}", high=f"{high:.0%}"
        )
        out.line((head, "bold"), odds + unproved)
    if runs.searched and runs.per_second is not None:
        rate = (
            _("  {tried} schedules in {s:.1f} s: {rate:.1f} schedules per second")
            if tried != 1
            else _("  1 schedule in {s:.1f} s: {rate:.1f} schedules per second (start-up included)")
        )
        out.line(rate.format(tried=tried, s=runs.elapsed_s, rate=runs.per_second))
    failed = runs.failed
    if failed is None:
        return
    again = f"--replay {failed.replay}" if failed.replay is not None else f"--seed {failed.seed} --runs 1"
    out.line(
        (_("the first failing run, run {n}").format(n=tried), "bold red"),
        _(" ({again} gives it again):").format(again=again),
    )
    render_run(failed, out, quiet=quiet)


def emit(
    outcome: RunResult | Any, as_json: bool, quiet: bool, live: EventLines | None = None, put_back: Path | None = None
) -> int:
    """Print a run (or repeated runs) as JSON or for a person; returns the exit code. `live`: the run's
    events were printed as they happened, by these lines. `put_back`: booking's checkout's db.json, written
    back as it was after the run (said, then what the exit code means, last)."""
    secrets: frozenset[str] = getattr(
        getattr(outcome, "config", None), "secrets", frozenset()
    )  # a verify has no run config
    if as_json:
        sys.stdout.write(redact(json.dumps(stories.said(outcome), indent=2), secrets) + "\n")
    elif isinstance(outcome, RunResult):
        render_run(outcome, live.out if live is not None else Printer(secrets=secrets), quiet=quiet, live=live)
    else:
        render_runs(outcome, Printer(secrets=secrets), quiet=quiet)
    if not as_json and not quiet:
        _last_words(outcome, live.out if live is not None else Printer(secrets=secrets), put_back)
    return int(outcome.exit_code)


def _last_words(outcome: Any, out: Printer, put_back: Path | None) -> None:
    """After a person's run: the checkout's db.json put back, then what the exit code says."""
    if put_back is not None:
        said = _("{file} is put back as the notes have it: your checkout is left as it was")
        out.line((said.format(file=put_back.name), "dim"))
    if int(outcome.exit_code) == 1:
        out.line((_("The race was shown: exit 1 means booking found an anomaly (echo $? says 1)."), "bold"))
