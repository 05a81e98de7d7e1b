"""Your purchase function's own tables: seeded by your setup(store, tickets), counted by your stock(store).

booking adds nothing to them and reads nothing of them itself. Without a stock function, what
needs the store's count (remaining, lost_updates, unreceipted, undersold) is not measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from booking.errors import BadInput, CannotRun
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.kit.hooks import check_call, name_of, resolve
from booking.options.store_url import StoreKind, StoreURL
from booking.stores.base import FinalState
from booking.types import Hook

UNREAD = "not read (receipts alone are judged; --store reads the service's store)"


class OwnTables:
    """The store of a run with --receipts-only, --setup or --stock."""

    def __init__(self, url: StoreURL | None, setup: Hook | None, stock: Hook | None) -> None:
        spec = url.text if url is not None else ""  # what your setup and stock functions are handed
        self.spec = spec
        self.secrets = url.secrets if url is not None else frozenset()
        self.kind = url.kind if url is not None else StoreKind.COUNTER
        self.display = url.display if url is not None else ""
        self._setup = resolve(setup, "--setup", "shop:seed") if setup is not None else None
        self._stock = resolve(stock, "--stock", "shop:count_free") if stock is not None else None
        if self._setup is not None:
            check_call(self._setup, (spec, 1), "--setup", "setup(store, tickets)")
        if self._stock is not None:
            check_call(self._stock, (spec,), "--stock", "stock(store)")

    @classmethod
    def unread(cls) -> OwnTables:
        """No store at all (--target without --store): the stock is as told, and only receipts are judged."""
        tables = cls(None, None, None)
        tables.display = UNREAD
        return tables

    def prepare(self, seed: int | None, force: bool = False, beside: bool = False) -> int:
        """Seed your tables with `seed` tickets (your setup), or keep them: then your stock says how many."""
        if seed is None:
            if self._stock is None:
                raise BadInput(_("--keep with your own tables needs --stock MODULE:FUNCTION to know the stock"))
            return self._count()
        if self._setup is not None:
            self._call(self._setup, "--setup", seed)
        return seed

    def final(self) -> FinalState | None:
        return None if self._stock is None else FinalState(self._count())

    def _count(self) -> int:
        assert self._stock is not None
        left = self._call(self._stock, "--stock")
        if isinstance(left, bool) or not isinstance(left, int) or left < 0:
            raise CannotRun(
                _("--stock {name_of} returned {left!r}; expected the tickets left (int >= 0)").format(
                    name_of=name_of(self._stock), left=left
                )
            )
        return left

    def _call(self, hook: Any, option: str, *args: Any) -> Any:
        try:
            return hook(self.spec, *args)
        except Exception as exc:  # your code failed before or after the race: the run cannot be judged
            raise CannotRun(
                _("{option} {name_of} failed: {one_line}").format(
                    option=option, name_of=name_of(hook), one_line=one_line(exc, self.secrets)
                )
            ) from exc

    def lock_path(self) -> Path:
        raise BadInput(_("file-lock does not apply to your own tables"))

    def tidy(self) -> None:
        pass

    def footprint(self) -> dict[str, int]:
        return {}  # your own tables: their size is yours to tell

    def close(self) -> None:
        pass
