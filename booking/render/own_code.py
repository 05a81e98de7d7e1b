"""A double sale by your own purchase code, in words: only its points, its statements and its receipts are
known (what it read and wrote is its own business), so the story says which statements met, or in which
round and on which try the buyers passed their window, or that all passed it before any returned."""

from __future__ import annotations

from typing import Any

from booking.history import Attempt
from booking.i18n.lang import _
from booking.kit.points import STATEMENT
from booking.kit.statements import WRITES


def _statements_met(rs: list[Attempt]) -> tuple[str, str] | None:
    """(the read, the write) when every receipt ran the same last read before any of them ran its write,
    from the statements your connection was held before (booking.connect); None when that is not shown."""
    found = []
    for r in rs:
        names = [(t, name.removeprefix(STATEMENT)) for t, name in r.statements]
        reads = [(t, sql) for t, sql in names if sql.upper().startswith("SELECT")]
        if not reads:
            return None
        t_read, read = reads[-1]
        writes = [(t, sql) for t, sql in names if t > t_read and sql.split(" ", 1)[0].upper() in WRITES]
        if not writes:
            return None
        found.append((t_read, read, *writes[0]))
    if len({read for _, read, _, _ in found}) != 1 or max(f[0] for f in found) >= min(f[2] for f in found):
        return None
    return found[0][1], found[0][3]


def own_code_sale(rs: list[Attempt], said: dict[str, Any], read_first: bool) -> str:
    """A ticket your code returned to several buyers: all passed after-read before any returned (in which
    round and on which try, when lockstep held every visit), or each returned it."""
    if (ran := _statements_met(rs)) is not None:
        said["read"], said["write"] = ran
        if len(rs) == 2:
            return _("{who} both ran {read} before either ran {write}: ticket #{ticket} sold {times}").format(**said)
        return _("{who} all ran {read} before any ran {write}: ticket #{ticket} sold {times}").format(**said)
    if not (all(r.t_read is not None for r in rs) and read_first):
        return _("{who} each returned ticket #{ticket}: sold {times}").format(**said)
    rounds, tries = {r.round for r in rs}, {r.tries for r in rs}
    if len(rounds) == 1 and None not in rounds and max(tries) > 1:
        said["round"] = rounds.pop()
        if len(tries) == 1:
            said["try"] = tries.pop()
            if len(rs) == 2:
                said_text = _(
                    "{who} both passed after-read on try {try}, in round {round}, and both answered success: "
                    "ticket #{ticket} sold {times}"
                )
            else:
                said_text = _(
                    "{who} all passed after-read on try {try}, in round {round}, and all answered success: "
                    "ticket #{ticket} sold {times}"
                )
            return said_text.format(**said)
        return _(
            "{who} all passed after-read in round {round} before any returned: ticket #{ticket} sold {times}"
        ).format(**said)
    if len(rs) == 2:
        return _("{who} both passed after-read before either returned: ticket #{ticket} sold {times}").format(**said)
    return _("{who} all passed after-read before any returned: ticket #{ticket} sold {times}").format(**said)
