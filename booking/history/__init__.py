"""What buyers report: one Attempt per try to buy, one BuyerEnd per buyer; JSON lines on disk."""

from __future__ import annotations

import enum
import io
import json
import operator
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

from booking.files import write_text
from booking.redact import redact


class Outcome(enum.StrEnum):
    """How an attempt ended."""

    OK = "ok"  # a receipt: the buyer believes it bought `ticket`
    SOLD_OUT = "sold-out"  # turned away: the buyer saw no stock
    CONFLICT = "conflict"  # gave up after losing every compare-and-swap / serialization retry
    ERROR = "error"  # the store or the lock failed the attempt (`unavailable`: the environment did)


@dataclass
class Attempt:
    """One try to buy one ticket. Times are seconds since the run started (one host clock)."""

    buyer: int
    attempt: int
    outcome: Outcome = Outcome.ERROR
    ticket: int | None = None  # the ticket the receipt names (counter store: the count decremented)
    looked: int | None = None  # stock seen by the look (the notes' search), outside the lock
    read: int | None = None  # what the read inside the window saw (count, or a free ticket id)
    wrote: int | None = None  # what the write stored (count after, or the ticket id taken)
    t_start: float = 0.0
    t_acquired: float | None = None  # when the lock was held (None: no lock on this path)
    t_window: float | None = None  # when the buyer reached its strategy's race window (lockstep holds it there)
    t_read: float | None = None
    t_write: float | None = None
    t_end: float = 0.0
    lock_wait_s: float = 0.0
    queue_wait_s: float | None = None  # --lock queue: from the buyer's put to a seller's get (None: not queued)
    retries: int = 0
    conflicts: int = 0
    error: str | None = None
    trace: str | None = None  # the failure's traceback, kept with --debug
    served_by: str | None = None  # --target: the service's process that answered, when the service says
    host: str | None = None  # --run: the host whose buyer made the attempt
    unavailable: bool = False  # the error was the environment's (a deadline, a timeout, a lost server)
    seller: int | None = None  # --lock queue: the seller that read and wrote the store for this attempt
    redelivered: bool = False  # --broker: the broker delivered this request again (a seller died holding it)
    status: int | None = None  # --target: the HTTP status the service answered
    t_sent: float | None = None  # --target: when the request's last byte went out
    arrived_at: float | None = None  # --target: when the server had it (Unix time, as its Server-Timing says)
    answered_at: float | None = None  # --target: when its answer was read (Unix time)
    released: bool = False  # --target: its last byte was written by the run's parent, in one loop with the others'
    tries: int = 0  # how many times the attempt passed its race window (your code's retries pass it again)
    round: int | None = None  # lockstep on your own code: the round of its last window hold (None: not held so)
    # Your code's statements the schedule could hold it before (booking.connect): (when, "sql: SELECT ...")
    statements: list[tuple[float, str]] = field(default_factory=list)
    t_commit: float | None = None  # your code's connection began its last COMMIT or ROLLBACK (its locks go)

    def __reduce__(self) -> tuple[type[Attempt], tuple[Any, ...]]:
        """Pickled (a buyer's batch to the parent) as the class and its fields' values in order, so the
        parent unpickles `Attempt(*values)`: no field names in every record (about 100 bytes, not 170,
        so twice as many records fit one atomic pipe write) and about half the parent's unpickling."""
        return Attempt, field_values(self)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        for name in ("seller", "status", "t_sent", "arrived_at", "answered_at"):
            if data[name] is None:
                del data[name]  # said only by a queue's attempts, or an HTTP target's
        if not self.redelivered:
            del data["redelivered"]  # said only when it happened
        if not self.released:
            del data["released"]
        if self.round is None:
            del data["tries"], data["round"]  # said only where every visit is held (your own code, lockstep)
        if not self.statements:
            del data["statements"]  # said only by your code's connections (booking.connect)
        if self.t_commit is None:
            del data["t_commit"]
        return {"kind": "attempt", **data}


# An Attempt's every field, in __init__'s order: Attempt(*field_values(a)) == a
field_values = operator.attrgetter(*(f.name for f in fields(Attempt)))


class BuyerStatus(enum.StrEnum):
    DONE = "done"  # finished its attempts and said so
    STUCK = "stuck"  # still running at the deadline, or died without finishing
    KILLED = "killed"  # killed on purpose (--kill-buyer, --chaos): its last attempt is indeterminate


@dataclass
class BuyerEnd:
    """How one buyer process (or, with --lock queue, one seller process) ended."""

    buyer: int
    status: BuyerStatus
    reason: str = ""
    who: str = "buyer"  # or "seller": its number is then the seller's
    t: float | None = None  # when the parent learned it, in seconds since the run started (not saved)
    printed: str = ""  # what your code printed in this buyer (its stdout), kept here and never in --json

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": "buyer", "buyer": self.buyer, "status": self.status.value}
        data["reason"] = self.reason
        if self.printed:
            data["printed"] = self.printed
        return data if self.who == "buyer" else {**data, "who": self.who}


@dataclass
class Opened:
    """A gate the parent opened: the start barrier, or the race window."""

    t: float  # seconds since the run started
    point: str  # "start", or the window point the buyers were held at
    buyers: list[int]  # who was let through
    why: str  # "all" (everyone was there), "stalled" (the others were blocked inside the purchase), "next" (random)
    last_ready: float | None = None  # the start gate: when the parent heard the last buyer say it was ready

    def to_json(self) -> dict[str, Any]:
        data = {"kind": "gate", "t": self.t, "point": self.point, "buyers": self.buyers, "why": self.why}
        return data if self.last_ready is None else {**data, "last_ready": self.last_ready}


@dataclass
class Paused:
    """A buyer the parent stopped (SIGSTOP) at a point and resumed (SIGCONT): --pause-buyer."""

    buyer: int
    point: str
    t_stopped: float  # seconds since the run started
    t_resumed: float | None = None  # None: the run ended first

    def to_json(self) -> dict[str, Any]:
        return {"kind": "pause", **asdict(self)}


@dataclass
class RunRecord:
    """A history's first line: what the run was, so `booking verify` needs only the history and the store."""

    store: str  # display form, secrets masked
    tickets: int  # the stock the run started with
    strategy: str
    settings: dict[str, Any] = field(default_factory=dict)  # the run's options (RunConfig's fields)
    booking: str = ""  # the version that wrote it

    def to_json(self) -> dict[str, Any]:
        return {"kind": "run", **asdict(self)}


@dataclass
class History:
    """Everything the buyers reported, in the order the parent received it, and the gates it opened."""

    attempts: list[Attempt] = field(default_factory=list)
    ends: list[BuyerEnd] = field(default_factory=list)
    gates: list[Opened] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # faults asked for that could not be injected, said why
    runs: list[RunRecord] = field(default_factory=list)  # one per run (several: histories joined)
    pauses: list[Paused] = field(default_factory=list)  # buyers stopped and resumed on purpose (--pause-buyer)

    @property
    def receipts(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome is Outcome.OK]

    @property
    def stuck(self) -> list[BuyerEnd]:
        return [e for e in self.ends if e.status is BuyerStatus.STUCK]

    @property
    def killed(self) -> list[BuyerEnd]:
        return [e for e in self.ends if e.status is BuyerStatus.KILLED]

    def write(self, out: TextIO) -> None:
        for record in self.records():
            out.write(json.dumps(record, separators=(",", ":")) + "\n")

    def records(self) -> Iterator[dict[str, Any]]:
        for r in self.runs:
            yield r.to_json()
        for g in self.gates:
            yield g.to_json()
        for a in sorted(self.attempts, key=lambda a: (a.t_start, a.buyer, a.attempt)):
            yield a.to_json()
        for e in sorted(self.ends, key=lambda e: e.buyer):
            yield e.to_json()
        for what in self.missed:
            yield {"kind": "missed", "what": what}
        for pause in self.pauses:
            yield pause.to_json()

    @property
    def started(self) -> float | None:
        """When the start barrier opened (None: a history from before there was one)."""
        return next((g.t for g in self.gates if g.point == "start"), None)

    @property
    def last_ready(self) -> float | None:
        """When the last buyer said it was ready at the start barrier (None: not recorded)."""
        return next((g.last_ready for g in self.gates if g.point == "start"), None)


def save(history: History, path: Path, secrets: AbstractSet[str] = frozenset(), never: Iterable[Path] = ()) -> None:
    """Write the history as JSON lines, URL passwords and `secrets` masked, never into one of `never` (the
    store's files); when the path refuses it, the error names the temporary file that keeps it."""
    out = io.StringIO()
    history.write(out)
    write_text(path, redact(out.getvalue(), secrets), "history", never)
