"""What buyers report: one Attempt per try to buy, one BuyerEnd per buyer; JSON lines on disk."""

from __future__ import annotations

import enum
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

from booking.errors import BadInput, CannotRun
from booking.files import opened, write_text
from booking.redact import redact

MAX_HISTORY_LINE = 64 * 1024  # a longer line is not something booking wrote


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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return {"kind": "attempt", **data}


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

    def to_json(self) -> dict[str, Any]:
        data = {"kind": "buyer", "buyer": self.buyer, "status": self.status.value, "reason": self.reason}
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

    @property
    def started(self) -> float | None:
        """When the start barrier opened (None: a history from before there was one)."""
        return next((g.t for g in self.gates if g.point == "start"), None)

    @property
    def last_ready(self) -> float | None:
        """When the last buyer said it was ready at the start barrier (None: not recorded)."""
        return next((g.last_ready for g in self.gates if g.point == "start"), None)


def save(history: History, path: Path) -> None:
    """Write the history as JSON lines, secrets masked; when the path refuses it, CannotRun naming the
    temporary file that keeps it."""
    out = io.StringIO()
    history.write(out)
    write_text(path, redact(out.getvalue()), "history")


def load(path: Path) -> History:
    """Read a history file, refusing anything booking would not have written (never evaluated)."""
    try:
        with opened(path, "history", encoding="utf-8", errors="strict") as src:
            return parse(_bounded_lines(src), str(path))
    except UnicodeDecodeError:
        raise BadInput(f"history {path}: not UTF-8 text") from None
    except OSError as exc:
        raise CannotRun(f"cannot read history {path}: {exc.strerror or exc}") from None


def _bounded_lines(src: IO[str]) -> Iterator[str]:
    """The file's lines, none read past MAX_HISTORY_LINE + 1 characters (parse refuses a longer one)."""
    while line := src.readline(MAX_HISTORY_LINE + 1):
        yield line


def parse(lines: Iterable[str], name: str = "history") -> History:
    history = History()
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_HISTORY_LINE:
            raise BadInput(f"{name} line {number}: longer than {MAX_HISTORY_LINE} characters")
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise BadInput(f"{name} line {number}: not JSON") from None
        except ValueError:  # an integer of thousands of digits: Python refuses to convert it
            raise BadInput(f"{name} line {number}: a number too large") from None
        if not isinstance(record, dict):
            raise BadInput(f"{name} line {number}: expected a JSON object")
        try:
            kind = record.pop("kind", None)
            if kind == "attempt":
                history.attempts.append(_attempt(record))
            elif kind == "gate":
                history.gates.append(_opened(record))
            elif kind == "missed":
                history.missed.append(str(record["what"])[:300])
            elif kind == "run":
                history.runs.append(_run(record))
            elif kind == "buyer":
                who = record.get("who", "buyer")
                if who not in ("buyer", "seller"):
                    raise ValueError(f"unknown process {who!r}")
                end = BuyerEnd(
                    _int(record, "buyer"), BuyerStatus(record["status"]), str(record.get("reason", ""))[:300]
                )
                history.ends.append(BuyerEnd(end.buyer, end.status, end.reason, who))
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (KeyError, ValueError, TypeError) as exc:
            raise BadInput(f"{name} line {number}: {_reason(exc)}") from None
    return history


_INT_FIELDS = ("ticket", "looked", "read", "wrote")
_TIME_FIELDS = ("t_acquired", "t_window", "t_read", "t_write", "queue_wait_s")  # optional numbers


def _opened(record: dict[str, Any]) -> Opened:
    buyers = record["buyers"]
    if not isinstance(buyers, list) or not all(isinstance(b, int) and not isinstance(b, bool) for b in buyers):
        raise ValueError("buyers must be a list of integers")
    t = _float(record, "t", optional=False)
    return Opened(t, str(record["point"])[:40], buyers, str(record["why"])[:40], _float(record, "last_ready", True))


def _attempt(record: dict[str, Any]) -> Attempt:
    unknown = set(record) - set(Attempt.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    fields: dict[str, Any] = {"buyer": _int(record, "buyer"), "attempt": _int(record, "attempt")}
    fields["outcome"] = Outcome(record["outcome"])
    for name in _INT_FIELDS:
        fields[name] = _int(record, name, optional=True)
    for name in _TIME_FIELDS:
        fields[name] = _float(record, name, optional=True)
    for name in ("t_start", "t_end", "lock_wait_s"):
        fields[name] = _float(record, name, optional=False) if name in record else 0.0
    for name in ("retries", "conflicts"):
        fields[name] = _int(record, name) if name in record else 0
    for name, most in (("error", 1000), ("trace", 20_000), ("served_by", 60), ("host", 128)):
        text = record.get(name)
        fields[name] = None if text is None else str(text)[:most]
    unavailable = record.get("unavailable", False)
    if not isinstance(unavailable, bool):
        raise ValueError("unavailable must be true or false")
    fields["unavailable"] = unavailable
    return Attempt(**fields)


def _run(record: dict[str, Any]) -> RunRecord:
    unknown = set(record) - set(RunRecord.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    tickets = _int(record, "tickets")
    if tickets < 0:
        raise ValueError("tickets must not be negative")
    settings = record.get("settings", {})
    if not isinstance(settings, dict) or len(settings) > 64:
        raise ValueError("settings must be an object of at most 64 options")
    if any(not isinstance(v, (str, int, float, bool, type(None))) for v in settings.values()):
        raise ValueError("settings must hold plain values")
    text = {name: record.get(name, "") for name in ("store", "strategy", "booking")}
    if any(not isinstance(v, str) for v in text.values()):
        raise ValueError("store, strategy and booking must be strings")
    return RunRecord(text["store"], tickets, text["strategy"], settings, text["booking"])


def _int(record: dict[str, Any], name: str, optional: bool = False) -> Any:
    value = record.get(name) if optional else record[name]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    return value


def _float(record: dict[str, Any], name: str, optional: bool) -> Any:
    value = record.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _reason(exc: Exception) -> str:
    return f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
