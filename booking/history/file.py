"""A history file read back: JSON lines booking wrote, refused line by line when they are not (never evaluated)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from booking.errors import BadInput, CannotRun
from booking.files import opened
from booking.history import Attempt, BuyerEnd, BuyerStatus, History, Opened, Outcome, Paused, RunRecord
from booking.i18n.lang import _
from booking.kit.printed import PRINTED_MAX

MAX_HISTORY_LINE = 64 * 1024  # a longer line is not something booking wrote


def load(path: Path) -> History:
    """Read a history file, refusing anything booking would not have written (never evaluated)."""
    try:
        with opened(path, "history", encoding="utf-8", errors="strict") as src:
            return parse(_bounded_lines(src), str(path))
    except UnicodeDecodeError:
        raise BadInput(_("history {path}: not UTF-8 text").format(path=path)) from None
    except OSError as exc:
        raise CannotRun(_("cannot read history {path}: {value}").format(path=path, value=exc.strerror or exc)) from None


def _bounded_lines(src: IO[str]) -> Iterator[str]:
    """The file's lines, none read past MAX_HISTORY_LINE + 1 characters (parse refuses a longer one)."""
    while line := src.readline(MAX_HISTORY_LINE + 1):
        yield line


def parse(lines: Iterable[str], name: str = "history") -> History:
    history = History()
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_HISTORY_LINE:
            raise BadInput(
                _("{name} line {number}: longer than {MAX_HISTORY_LINE} characters").format(
                    name=name, number=number, MAX_HISTORY_LINE=MAX_HISTORY_LINE
                )
            )
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise BadInput(_("{name} line {number}: not JSON").format(name=name, number=number)) from None
        except ValueError:  # an integer of thousands of digits: Python refuses to convert it
            raise BadInput(_("{name} line {number}: a number too large").format(name=name, number=number)) from None
        if not isinstance(record, dict):
            raise BadInput(_("{name} line {number}: expected a JSON object").format(name=name, number=number))
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
            elif kind == "pause":
                history.pauses.append(_paused(record))
            elif kind == "buyer":
                who = record.get("who", "buyer")
                if who not in ("buyer", "seller"):
                    raise ValueError(_("unknown process {who!r}").format(who=who))
                end = BuyerEnd(
                    _int(record, "buyer"), BuyerStatus(record["status"]), str(record.get("reason", ""))[:300]
                )
                printed = str(record.get("printed", ""))[:PRINTED_MAX]
                history.ends.append(BuyerEnd(end.buyer, end.status, end.reason, who, printed=printed))
            else:
                raise ValueError(_("unknown kind {kind!r}").format(kind=kind))
        except (KeyError, ValueError, TypeError) as exc:
            raise BadInput(
                _("{name} line {number}: {reason}").format(name=name, number=number, reason=_reason(exc))
            ) from None
    return history


_INT_FIELDS = ("ticket", "looked", "read", "wrote", "seller", "status", "round")
_TIME_FIELDS = (  # optional numbers
    "t_acquired",
    "t_window",
    "t_read",
    "t_write",
    "queue_wait_s",
    "t_sent",
    "arrived_at",
    "answered_at",
    "t_commit",
)


def _paused(record: dict[str, Any]) -> Paused:
    return Paused(
        _int(record, "buyer"),
        str(record["point"])[:100],
        _float(record, "t_stopped", optional=False),
        _float(record, "t_resumed", optional=True),
    )


def _opened(record: dict[str, Any]) -> Opened:
    buyers = record["buyers"]
    if not isinstance(buyers, list) or not all(isinstance(b, int) and not isinstance(b, bool) for b in buyers):
        raise ValueError(_("buyers must be a list of integers"))
    t = _float(record, "t", optional=False)
    return Opened(t, str(record["point"])[:80], buyers, str(record["why"])[:40], _float(record, "last_ready", True))


def _attempt(record: dict[str, Any]) -> Attempt:
    unknown = set(record) - set(Attempt.__dataclass_fields__)
    if unknown:
        raise ValueError(_("unknown field {value!r}").format(value=sorted(unknown)[0]))
    fields: dict[str, Any] = {"buyer": _int(record, "buyer"), "attempt": _int(record, "attempt")}
    fields["outcome"] = Outcome(record["outcome"])
    for name in _INT_FIELDS:
        fields[name] = _int(record, name, optional=True)
    for name in _TIME_FIELDS:
        fields[name] = _float(record, name, optional=True)
    for name in ("t_start", "t_end", "lock_wait_s"):
        fields[name] = _float(record, name, optional=False) if name in record else 0.0
    for name in ("retries", "conflicts", "tries"):
        fields[name] = _int(record, name) if name in record else 0
    for name, most in (("error", 1000), ("trace", 20_000), ("served_by", 60), ("host", 128)):
        text = record.get(name)
        fields[name] = None if text is None else str(text)[:most]
    fields["statements"] = _statements(record.get("statements", []))
    unavailable = record.get("unavailable", False)
    if not isinstance(unavailable, bool):
        raise ValueError(_("unavailable must be true or false"))
    fields["unavailable"] = unavailable
    released = record.get("released", False)
    if not isinstance(released, bool):
        raise ValueError(_("released must be true or false"))
    fields["released"] = released
    return Attempt(**fields)


def _statements(value: Any) -> list[tuple[float, str]]:
    """[[t, "sql: SELECT ..."], ...]: the statement points an attempt was held before."""
    if not isinstance(value, list) or len(value) > 100:
        raise ValueError(_("statements must be a list of at most 100 [time, statement] pairs"))
    out = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str)):
            raise ValueError(_("statements must be a list of at most 100 [time, statement] pairs"))
        out.append((_float({"t": pair[0]}, "t", optional=False), pair[1][:80]))
    return out


def _run(record: dict[str, Any]) -> RunRecord:
    unknown = set(record) - set(RunRecord.__dataclass_fields__)
    if unknown:
        raise ValueError(_("unknown field {value!r}").format(value=sorted(unknown)[0]))
    tickets = _int(record, "tickets")
    if tickets < 0:
        raise ValueError(_("tickets must not be negative"))
    settings = record.get("settings", {})
    if not isinstance(settings, dict) or len(settings) > 64:
        raise ValueError(_("settings must be an object of at most 64 options"))
    if any(not isinstance(v, (str, int, float, bool, type(None))) for v in settings.values()):
        raise ValueError(_("settings must hold plain values"))
    text = {name: record.get(name, "") for name in ("store", "strategy", "booking")}
    if any(not isinstance(v, str) for v in text.values()):
        raise ValueError(_("store, strategy and booking must be strings"))
    return RunRecord(text["store"], tickets, text["strategy"], settings, text["booking"])


def _int(record: dict[str, Any], name: str, optional: bool = False) -> Any:
    value = record.get(name) if optional else record[name]
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(_("{name} must be an integer").format(name=name))
    return value


def _float(record: dict[str, Any], name: str, optional: bool) -> Any:
    value = record.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(_("{name} must be a number").format(name=name))
    return float(value)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return _("missing field {value!r}").format(value=exc.args[0])
    return str(exc)
