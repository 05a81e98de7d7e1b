"""A lane per buyer: the reads, writes and lock waits of a run as a sequence diagram in plain text.

The diagram fits a width (the terminal's, 80 columns and up) without cutting a fact: each lane is
as wide as its longest step, as many lanes as fit side by side make a block, and the rest follow
in further blocks. A step too long for a whole line wraps inside its lane.
"""

from __future__ import annotations

from booking.render.text import DEFAULT_WIDTH, wrap
from booking.result import RunResult
from booking.stores.base import StoreKind
from booking.words import lanes_left_out, steps

MAX_LANES = 6  # buyers drawn; the rest are named, and --history has every attempt
GAP = 2  # columns between lanes
MARK, IDLE = "* ", "|"


def lanes(result: RunResult, buyers: list[int] | None = None, width: int = DEFAULT_WIDTH) -> str:
    """The diagram for `buyers` (default: the first anomaly's witnesses, else everyone), at most 6 lanes."""
    if buyers is None:
        witnesses = next((a.buyers for a in result.verdict.anomalies if a.buyers), None)
        buyers = witnesses or sorted({a.buyer for a in result.history.attempts})
    everyone = sorted(set(buyers))
    shown = everyone[:MAX_LANES]
    counter = result.kind is StoreKind.COUNTER
    rows = sorted(
        (s.t, s.buyer, s.short)
        for a in result.history.attempts
        if a.buyer in shown
        for s in steps(a, counter)
        if s.short
    )
    times = {t: f"{t * 1000:.1f}ms" for t, _, _ in rows}
    time_width = max([10, *(len(v) for v in times.values())]) + GAP
    room = max(width - time_width, 12)
    lane_width = {b: min(max([len(f"buyer {b}"), *(len(MARK + x) for _, w, x in rows if w == b)]), room) for b in shown}
    blocks = _blocks(shown, lane_width, room)
    out: list[str] = []
    for block in blocks:
        if out:
            out.append("")
        block_rows = [(t, b, x) for t, b, x in rows if b in block]
        out.extend(_block(block, block_rows, lane_width, times, time_width))
    if len(everyone) > MAX_LANES:
        out.extend(wrap(" " * time_width + lanes_left_out(everyone[MAX_LANES:]), width, indent=time_width))
    return "\n".join(out)


def _blocks(shown: list[int], lane_width: dict[int, int], room: int) -> list[list[int]]:
    """Lanes side by side while they fit in `room` columns, in as few blocks as that takes, as even as
    they fit (4 lanes that need 2 blocks are 2 and 2, not 3 and 1)."""

    def fits(block: list[int]) -> bool:
        return sum(lane_width[b] + GAP for b in block) - GAP <= room

    greedy: list[list[int]] = [[]]
    for b in shown:
        if greedy[-1] and not fits([*greedy[-1], b]):
            greedy.append([])
        greedy[-1].append(b)
    per = -(-len(shown) // len(greedy))
    even = [shown[i : i + per] for i in range(0, len(shown), per)]
    return even if len(even) == len(greedy) and all(map(fits, even)) else greedy


def _block(
    block: list[int], rows: list[tuple[float, int, str]], lane_width: dict[int, int], times: dict[float, str], tw: int
) -> list[str]:
    def line(left: str, cells: dict[int, str]) -> str:
        return (left.rjust(tw - GAP) + " " * GAP + "".join(cells[b].ljust(lane_width[b] + GAP) for b in block)).rstrip()

    idle = dict.fromkeys(block, IDLE)
    out = [line("time", {b: f"buyer {b}" for b in block}), line("", idle)]
    for t, buyer, text in rows:
        pieces = wrap(MARK + text, lane_width[buyer], indent=len(MARK))  # only a very long step wraps
        for i, piece in enumerate(pieces):
            out.append(line(times[t] if i == 0 else "", {**idle, buyer: piece}))
    return out


def story(result: RunResult, width: int = DEFAULT_WIDTH) -> str:
    """The anomalies in words, then a lane per buyer involved: what a failure message shows."""
    stories = [
        line for a in result.verdict.anomalies for s in a.story for line in wrap(f"{a.kind}: {s}", width, indent=4)
    ]
    return "\n".join([*stories, lanes(result, width=width)])
