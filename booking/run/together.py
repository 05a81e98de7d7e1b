"""--keep runs that shared the store at once, judged together (the journal: booking/stores/journal.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from booking.history import Attempt, History, Outcome
from booking.stores import StoreKind
from booking.stores.journal import Joined


@dataclass(frozen=True)
class Together:
    """The other --keep runs that shared the store with this one: the store's sales they hold receipts
    for are theirs, not unreceipted, and a ticket sold by two of them is a double sale."""

    runs: list[Joined]  # the others, in the order they began

    @classmethod
    def of(cls, me: str, joined: list[Joined]) -> Together:
        return cls([j for j in joined if j.run != me])

    @property
    def initial(self) -> int:
        """The stock when the first of them began (this run's own is counted by the caller)."""
        return max(j.initial for j in self.runs)

    @property
    def selling(self) -> int:
        """How many of them still run: their receipts are not known yet."""
        return sum(j.receipts is None for j in self.runs)

    def receipts(self, base: int, kind: StoreKind) -> list[Attempt]:
        """Their receipts, their buyers numbered after this run's (buyer `base + 1` ...); what each read
        and wrote is what its ticket says (db.json: the count it decremented; SQL: the row it took)."""
        out = []
        counter = kind is StoreKind.COUNTER
        for j in self.runs:
            out += [
                Attempt(base + b, 0, Outcome.OK, ticket=t, read=t, wrote=None if t is None else t - counter)
                for b, t in j.receipts or []
            ]
            base += j.buyers
        return out

    def joint(self, initial: int, history: History, buyers: int, kind: StoreKind) -> tuple[int, History]:
        """What the verdict judges: the stock when the first of the runs began, and every finished run's
        receipts beside this run's own (this run's alone when it shared the store with none)."""
        if not self.runs:
            return initial, history
        attempts = history.attempts + self.receipts(buyers, kind)
        return max(initial, self.initial), dataclasses.replace(history, attempts=attempts)

    def extras(self) -> dict[str, Any]:
        return {"judged_with_runs": len(self.runs), "runs_still_selling": self.selling} if self.runs else {}
