"""A lane per buyer (or per seller, who reads and writes for the buyers with --lock queue): the reads,
writes and lock waits of a run as a sequence diagram in plain text.

The diagram fits a width (the terminal's, 80 columns and up) without cutting a fact: each lane is
as wide as its longest step, as many lanes as fit side by side make a block, and the rest follow
in further blocks. A step too long for a whole line wraps inside its lane.
"""

from __future__ import annotations

from booking.history import BuyerStatus, Outcome
from booking.i18n.lang import _
from booking.i18n.words import buyers as listed
from booking.i18n.words import lanes_left_out, who_is
from booking.render.judgement import figure_name
from booking.render.steps import steps
from booking.render.stories import stories
from booking.render.text import DEFAULT_WIDTH, cells, pad, wrap
from booking.run.result import RunResult

Actor = tuple[str, int]  # ("buyer", 3) or ("seller", 1)

MAX_LANES = 6  # buyers drawn; the rest are named, and --history has every attempt
GAP = 2  # columns between lanes
MARK, IDLE = "* ", "|"


def lanes(
    result: RunResult, buyers: list[int] | None = None, width: int = DEFAULT_WIDTH, kept: str = "--history FILE"
) -> str:
    """The diagram for `buyers` (default: those `involved`), at most 6 lanes: a lane per process that took
    their steps (the buyers, or the sellers that read and wrote for them)."""
    chosen = set(involved(result) if buyers is None else buyers)
    counter = result.kind.counts
    every = sorted(
        [
            *(
                (s.t, s.actor, s.short)
                for a in result.history.attempts
                if a.buyer in chosen
                for s in steps(a, counter)
                if s.short
            ),
            *_ends(result, chosen),
        ]
    )
    everyone = sorted({actor for _, actor, _ in every} or {("buyer", b) for b in chosen})
    shown = everyone[:MAX_LANES]
    rows = [(t, actor, text) for t, actor, text in every if actor in shown]
    unit = _("ms")  # '12.3ms' in English; a Chinese unit gets a space: '12.3 毫秒'
    unit = unit if unit == "ms" else " " + unit
    times = {t: f"{t * 1000:.1f}{unit}" for t, _a, _w in rows}
    time_width = max([10, *(cells(v) for v in times.values())]) + GAP
    room = max(width - time_width, 12)
    lane_width = {
        b: min(max([cells(who_is(*b)), *(cells(MARK + x) for _, w, x in rows if w == b)]), room) for b in shown
    }
    blocks = _blocks(shown, lane_width, room)
    out: list[str] = []
    for block in blocks:
        if out:
            out.append("")
        block_rows = [(t, b, x) for t, b, x in rows if b in block]
        out.extend(_block(block, block_rows, lane_width, times, time_width))
    if len(everyone) > MAX_LANES:
        out.extend(
            wrap(" " * time_width + lanes_left_out(_named(everyone[MAX_LANES:]), kept), width, indent=time_width)
        )
    return "\n".join(out)


def involved(result: RunResult) -> list[int]:
    """The buyers the lanes show by default: the first anomaly's witnesses; an oversell alone names none
    (every receipt is as much to blame), so the buyers who bought, not the first ones, mostly sold out;
    else everyone."""
    witnesses = next((a.buyers for a in result.verdict.anomalies if a.buyers), None)
    if witnesses:
        return witnesses
    bought = sorted({a.buyer for a in result.history.attempts if a.outcome is Outcome.OK})
    if result.verdict.oversold and bought:
        return bought
    return sorted({a.buyer for a in result.history.attempts})


def _ends(result: RunResult, chosen: set[int]) -> list[tuple[float, Actor, str]]:
    """Buyers killed or stuck, in their lanes: where the parent learned of it."""
    return [
        (e.t, ("buyer", e.buyer), e.reason if e.status is BuyerStatus.KILLED else _("stuck"))
        for e in result.history.ends
        if e.who == "buyer" and e.buyer in chosen and e.t is not None and e.status is not BuyerStatus.DONE
    ]


def _named(actors: list[Actor]) -> str:
    """'buyers 7 and 8', 'sellers 5 and 6', or both."""
    said = [listed(ns, role) for role in ("buyer", "seller") if (ns := [n for r, n in actors if r == role])]
    return said[0] if len(said) == 1 else _("{some} and {last}").format(some=said[0], last=said[1])


def _blocks(shown: list[Actor], lane_width: dict[Actor, int], room: int) -> list[list[Actor]]:
    """Lanes side by side while they fit in `room` columns, in as few blocks as that takes, as even as
    they fit (4 lanes that need 2 blocks are 2 and 2, not 3 and 1)."""

    def fits(block: list[Actor]) -> bool:
        return sum(lane_width[b] + GAP for b in block) - GAP <= room

    greedy: list[list[Actor]] = [[]]
    for b in shown:
        if greedy[-1] and not fits([*greedy[-1], b]):
            greedy.append([])
        greedy[-1].append(b)
    per = -(-len(shown) // len(greedy))
    even = [shown[i : i + per] for i in range(0, len(shown), per)]
    return even if len(even) == len(greedy) and all(map(fits, even)) else greedy


def _block(
    block: list[Actor],
    rows: list[tuple[float, Actor, str]],
    lane_width: dict[Actor, int],
    times: dict[float, str],
    tw: int,
) -> list[str]:
    def line(left: str, text: dict[Actor, str]) -> str:
        lanes = "".join(pad(text[b], lane_width[b] + GAP) for b in block)
        return (" " * (tw - GAP - cells(left)) + left + " " * GAP + lanes).rstrip()

    idle = dict.fromkeys(block, IDLE)
    out = [line(_("time"), {b: who_is(*b) for b in block}), line("", idle)]
    for t, buyer, text in rows:
        pieces = wrap(MARK + text, lane_width[buyer], indent=len(MARK))  # only a very long step wraps
        for i, piece in enumerate(pieces):
            out.append(line(times[t] if i == 0 else "", {**idle, buyer: piece}))
    return out


def story(result: RunResult, width: int = DEFAULT_WIDTH) -> str:
    """The anomalies in words, then a lane per buyer involved: what a failure message shows."""
    told = [
        line
        for a in result.verdict.anomalies
        for s in stories(a)
        for line in wrap(_("{kind}: {story}").format(kind=figure_name(a.kind), story=s), width, indent=4)
    ]
    return "\n".join([*told, lanes(result, width=width)])
