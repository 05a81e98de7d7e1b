"""A verdict for a person: its word, then safety apart from availability, then each anomaly's story.

Also what a failing test shows (`explain`): who raced, the verdict and the lanes, fitted to a width.
"""

from __future__ import annotations

from typing import Any

from booking.i18n.lang import _
from booking.i18n.words import count
from booking.render.judgement import (
    AVAILABILITY_FIGURES,
    OPTIONAL_FIGURES,
    SAFETY_FIGURES,
    Judgement,
    figure_name,
    is_broken_invariant,
    judgement,
    not_measured,
)
from booking.render.stories import could_not_run, handed_off, stories, unproved
from booking.render.text import DEFAULT_WIDTH, Part, Printer, pad, plain, wrap_parts
from booking.run.result import RunResult
from booking.verdict.verify import Verdict

TONES = {
    "good": "bold green",
    "luck": "bold yellow",
    "cost": "bold yellow",
    "unproved": "bold yellow",
    "bad": "bold red",
}


def judge(result: RunResult) -> Judgement:
    """The verdict's word for a run: what its anomalies mean, and whether an OK was luck."""
    v = result.verdict
    said = judgement(
        [a.kind for a in v.anomalies],
        by_luck=result.by_luck,
        strategy=result.strategy,
        lockstep=result.config.schedule.value == "lockstep",
        inconclusive=unproved(v.inconclusive),
        stopped=result.aborted is not None,
        unavailable=bool(v.unavailable),
    )
    spread = result.extras.get("spread")
    if said.tone == "good" and spread is not None and not spread["proved"]:
        return Judgement(
            _("OK (not proved)"),
            landed(spread) + _(": nothing shows they met inside the endpoint (--runs N says how likely a failure is)"),
            "unproved",
        )
    return said


def landed(spread: dict[str, Any]) -> str:
    """How close a target's requests landed, in one line: the send spread, and the arrival spread where measured."""
    sent = _("{n} requests sent within {ms} ms").format(n=spread["requests"], ms=_ms(spread["sent_ms"]))
    if spread.get("one_process") and spread.get("http") == "2":
        sent += _(" (one HTTP/2 connection, every final frame in one write)")
    elif spread.get("one_process"):
        sent += _(" (every last byte written by one process)")
    if spread["arrived_ms"] is None:
        return sent + _("; arrival at the server not measured (it sends no Server-Timing arrival)")
    said = sent + _(", arrived within {ms} ms at the server").format(ms=_ms(spread["arrived_ms"]))
    if spread["together"]:
        return said + _(", every one in before the first answer")
    return said


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def judge_verdict(v: Verdict) -> Judgement:
    """The word for a verdict without its run (`booking verify`)."""
    why = unproved(v.inconclusive)
    return judgement([a.kind for a in v.anomalies], inconclusive=why, unavailable=bool(v.unavailable))


def figures(v: Verdict, names: tuple[str, ...], group: str = "", sep: str = "  ") -> str:
    """'oversold 3  double_sold 1 ...': some of the verdict's figures, and the optional ones of `group`
    that are not zero, in one line ('-': not measured)."""
    extra = tuple(name for name, g in OPTIONAL_FIGURES.items() if g == group and getattr(v, name))
    return sep.join(
        f"{figure_name(name)} {'-' if getattr(v, name) is None else getattr(v, name)}" for name in (*names, *extra)
    )


def label(text: str) -> str:
    """A verdict line's label, its figures aligned after it: '  safety:       '."""
    return "  " + pad(text, 14)


def verdict_head(v: Verdict, judged: Judgement, elapsed_s: float | None = None) -> list[list[Part]]:
    """The verdict's first two lines, all that -q prints: its word and why, then sold and remaining."""
    took = "  " + _("({s} s)").format(s=f"{elapsed_s:.2f}") if elapsed_s is not None else ""
    why = f"  {judged.why}" if judged.why else ""
    killed = _("  killed {n} (injected)").format(n=v.killed) if v.killed else ""
    remaining = "-" if v.remaining is None else v.remaining
    return [
        [(_("verdict: {head}").format(head=judged.head), TONES[judged.tone]), f"{why}{took}"],
        [_("  sold {sold}  remaining {remaining}").format(sold=v.sold, remaining=remaining) + killed],
    ]


def verdict_lines(
    v: Verdict, judged: Judgement, elapsed_s: float | None = None, unread: bool = False
) -> list[list[Part]]:
    """The verdict: its word and why, sold and remaining, a safety line, an availability line, the
    stories. `unread`: a service raced without --store (receipts alone were judged)."""
    broken = any(is_broken_invariant(a.kind) for a in v.anomalies)
    costly = any(not is_broken_invariant(a.kind) for a in v.anomalies)
    lines: list[list[Part]] = [
        *verdict_head(v, judged, elapsed_s),
        [(label(_("safety:")), "red" if broken else "dim"), " " + figures(v, SAFETY_FIGURES, "safety")],
        [
            (label(_("availability:")), "yellow" if costly else "dim"),
            " " + figures(v, AVAILABILITY_FIGURES, "availability"),
        ],
    ]
    if v.remaining is None:
        lines.append([(label(_("not measured:")), "dim"), not_measured(unread)])
    if (chain := handed_off(v.serialized)) is not None:
        lines.append([(label(_("serialized:")), "green"), " " + chain])
    for anomaly in v.anomalies:
        style = "red" if is_broken_invariant(anomaly.kind) else "yellow"
        named = _("  {kind}: ").format(kind=figure_name(anomaly.kind))
        lines.extend([(named, style), story] for story in stories(anomaly))
    lines.extend([(f"  {_('could not run:')} ", "red"), story] for story in could_not_run(v.could_not_run))
    return lines


def render_verdict(
    v: Verdict, out: Printer, elapsed_s: float | None = None, judged: Judgement | None = None, unread: bool = False
) -> None:
    for parts in verdict_lines(v, judged or judge_verdict(v), elapsed_s, unread):
        out.line(*parts)


def explain(
    result: RunResult,
    width: int = DEFAULT_WIDTH,
    taken: int = 0,
    note: str | None = None,
    again: str | None = None,
    kept: str = "--history FILE",
) -> str:
    """A run in lines of at most `width` columns (`taken` of them already used on the first line): who
    raced, `note`, the verdict, the stories and the lanes (what a failing test shows), then `again`, the
    line that gives the run again. `kept`: where every attempt is kept (a test's outcome.result.history)."""
    from booking.render.timeline import lanes

    c, v = result.config, result.verdict
    head = f"{result.strategy}: {count(c.buyers, 'buyer')}{_(', ')}{count(result.initial, 'ticket')}"
    first = [plain(row) for row in wrap_parts([" " * taken + head], width, indent=4)]
    rows: list[list[Part]] = [[note]] if note else []
    rows += verdict_lines(v, judge(result), unread=result.extras.get("store_read") is False)
    if result.aborted:
        rows.append([_("  run stopped: {why}").format(why=result.aborted)])
    text = [first[0][taken:], *first[1:]] + [plain(r) for parts in rows for r in wrap_parts(parts, width, indent=4)]
    if v.anomalies and result.history.attempts:
        text.extend([_("timeline, a lane per buyer involved:"), lanes(result, width=width, kept=kept)])
    if again:
        text.extend(plain(r) for r in wrap_parts([again], width, indent=4))
    return "\n".join(text)
