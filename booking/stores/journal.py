"""What the `--keep` runs sharing a store at once tell each other, so that they are judged together.

The journal lives where the store's claim does (stores/claim.py): JSON lines in a file store's claim
file, the keep_runs table on a server. The first of the runs sharing the store empties it (it holds the
claim alone at that moment), so it only ever holds runs that overlapped.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Joined:
    """One of the `--keep` runs sharing a store at once, as the journal holds it."""

    run: str
    initial: int  # the stock when it began
    buyers: int
    receipts: list[tuple[int, int | None]] | None  # (buyer, ticket) per receipt; None: still running


class Journal:
    """What the `--keep` runs sharing a store at once tell each other, so that they are judged together:
    each one's stock when it began and, once it ended, its receipts. It lives where the claim does (the
    claim file; a table on a server) and holds only the runs that overlap: the first of them empties it."""

    lost = False  # a write or read failed (a server that dropped the claim's connection): judged alone

    def began(self, run: str, initial: int, buyers: int) -> None:
        self._said(Joined(run, initial, buyers, None))

    def ended(self, run: str, receipts: list[tuple[int, int | None]]) -> None:
        self._said(Joined(run, 0, 0, receipts))

    def _said(self, entry: Joined) -> None:
        try:
            self._write(entry)
        except Exception:  # the run goes on; it is judged on its own, as before journals
            self.lost = True

    def runs(self) -> list[Joined]:
        """Every run that shared the store with this one, in the order they began, this one included
        (empty when the journal could not be kept)."""
        try:
            entries = [] if self.lost else self._read()
        except Exception:
            entries = []
        began: dict[str, Joined] = {}
        for entry in entries:
            if entry.receipts is None:
                began[entry.run] = entry
            elif entry.run in began:
                began[entry.run] = dataclasses.replace(began[entry.run], receipts=entry.receipts)
        return list(began.values())

    def _write(self, entry: Joined) -> None:
        raise NotImplementedError

    def _read(self) -> list[Joined]:
        raise NotImplementedError


class FileJournal(Journal):
    """The journal as JSON lines in the claim file, each written by one write(2) at its end."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def _write(self, entry: Joined) -> None:
        line = (json.dumps(dataclasses.asdict(entry)) + "\n").encode()
        while line:
            line = line[os.write(self.fd, line) :]

    def _read(self) -> list[Joined]:
        chunks, offset = [], 0
        while chunk := os.pread(self.fd, 1 << 16, offset):
            chunks.append(chunk)
            offset += len(chunk)
        return [e for line in b"".join(chunks).splitlines() if (e := _entry(line)) is not None]


def _entry(line: bytes | str) -> Joined | None:
    """One journal line; None for one a run killed mid-write left unfinished."""
    try:
        data = json.loads(line)
        receipts = data["receipts"]
        return Joined(
            str(data["run"]),
            int(data["initial"]),
            int(data["buyers"]),
            None if receipts is None else [(int(b), None if t is None else int(t)) for b, t in receipts],
        )
    except (ValueError, KeyError, TypeError):
        return None


class TableJournal(Journal):
    """The journal in the store's keep_runs table, on the claim's own connection (autocommit)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def _write(self, entry: Joined) -> None:
        from sqlalchemy import insert, update

        from booking.stores.schema import keep_runs

        if entry.receipts is None:
            self.conn.execute(insert(keep_runs).values(run=entry.run, initial=entry.initial, buyers=entry.buyers))
        else:
            said = json.dumps(entry.receipts)
            self.conn.execute(update(keep_runs).where(keep_runs.c.run == entry.run).values(receipts=said))

    def _read(self) -> list[Joined]:
        from sqlalchemy import select

        from booking.stores.schema import keep_runs

        out: list[Joined] = []
        for run, initial, buyers, receipts in self.conn.execute(select(keep_runs)):
            out.append(Joined(run, initial, buyers, None))  # it began
            if receipts is not None:  # and it ended
                said = json.dumps({"run": run, "initial": initial, "buyers": buyers, "receipts": json.loads(receipts)})
                out += [e for e in [_entry(said)] if e is not None]
        return out
