"""The verdict for a past run (`booking verify`): the same verifier, fed from a history file and the
store as it is now, or, for a run across hosts, from the database alone (booking/hosts/)."""

from __future__ import annotations

from pathlib import Path

from booking.errors import BadInput
from booking.history import History
from booking.history.file import load
from booking.i18n.lang import _
from booking.options.config import RunConfig
from booking.options.store_url import StoreURL
from booking.run.result import VerifyResult
from booking.stores import open_store
from booking.verdict.verify import verify


def verify_run(
    store: StoreURL | str, history: Path, tickets: int | None = None, run: str | None = None, deadline_s: float = 60.0
) -> VerifyResult:
    """The verdict for a past run, from the store as it is now and its history file (or, for a run across
    hosts, from the database alone). The starting stock is the one the history records; `tickets` is
    needed only for a history that records none. A server silent for `deadline_s` fails it (CannotRun)."""
    if run is not None:
        from booking import hosts  # SQLAlchemy: a db.json verify never loads it

        judged = hosts.verify_run(store, run, deadline_s)
        return VerifyResult(judged.store, judged.verdict, run, judged.missing)
    if tickets is not None:
        if isinstance(tickets, bool) or tickets < 0:
            raise BadInput(_("--tickets must be at least 0, got {tickets}").format(tickets=tickets))
        RunConfig(tickets=tickets).validate()  # the upper limit, named
    url = StoreURL.of(store)
    kind = url.kind
    past: History = load(history)
    opened = open_store(url, timeout_s=deadline_s)
    try:
        opened.check()
        final = opened.final()
    finally:
        opened.close()
    initial = _starting_stock(past, tickets, history)
    for done in past.runs:
        if done.store and StoreURL.parse(done.store).kind is not kind:  # the display the history records
            raise BadInput(
                _("--store {mask_url} is not the kind of store the run used ({store}, in {history})").format(
                    mask_url=url.display, store=done.store, history=history
                )
            )
    return VerifyResult(opened.display, verify(initial, final, past, kind))


def _starting_stock(past: History, tickets: int | None, path: Path) -> int:
    """The stock the run started with: what the history records, or --tickets (refused when they disagree)."""
    recorded = sorted({r.tickets for r in past.runs})
    if tickets is None:
        if len(recorded) == 1:
            return recorded[0]
        if not recorded:
            raise BadInput(
                _(
                    "history {path} does not record the starting stock (an older booking wrote it): give --tickets"
                ).format(path=path)
            )
        raise BadInput(
            _("history {path} joins runs that started with different stock ({value}): give --tickets").format(
                path=path, value=", ".join(map(str, recorded))
            )
        )
    if len(recorded) == 1 and recorded[0] != tickets:
        raise BadInput(
            _("--tickets {tickets} contradicts history {path}: the run started with {recorded}").format(
                tickets=tickets, path=path, recorded=recorded[0]
            )
        )
    return tickets
