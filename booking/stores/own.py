"""Your purchase function's own tables: seeded by your setup(store, tickets), counted by your stock(store).

booking adds nothing to them and reads nothing of them itself. Without a stock function, what
needs the store's count (remaining, lost_updates, unreceipted, undersold) is not measured.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from booking.errors import BadInput, CannotRun
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.kit import apart
from booking.kit.hooks import check_call, name_of, resolve
from booking.options.store_url import StoreKind, StoreURL
from booking.stores.base import FinalState
from booking.types import Hook

UNREAD = "not read (receipts alone are judged; --store reads the service's store)"


class OwnTables:
    """The store of a run with --receipts-only, --setup or --stock.

    Your setup and stock functions are imported and called in a short-lived child each time
    (kit/apart.py), never in booking's parent: an import or a call that ends its process, hangs, forks
    or prints cannot end, hang or corrupt the run."""

    def __init__(
        self,
        url: StoreURL | None,
        setup: Hook | None,
        stock: Hook | None,
        deadline_s: float = 60.0,
        method: str = "fork",
    ) -> None:
        spec = url.text if url is not None else ""  # what your setup and stock functions are handed
        self.spec = spec
        self.secrets = url.secrets if url is not None else frozenset()
        self.kind = url.kind if url is not None else StoreKind.COUNTER
        self.display = url.display if url is not None else ""
        self.deadline_s, self.method = deadline_s, method
        self._setup, self._stock = setup, stock
        self._kept: apart.Kept | None = None  # a search's: one child for all its calls
        if setup is not None:
            self._apart("--setup", _check, setup, "--setup", "shop:seed", (spec, 1), "setup(store, tickets)")
        if stock is not None:
            self._apart("--stock", _check, stock, "--stock", "shop:count_free", (spec,), "stock(store)")

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
        return self._apart(option, _call, hook, option, self.secrets, self.spec, *args)

    def _apart(self, option: str, work: Callable[..., Any], hook: Any, *args: Any) -> Any:
        what = f"{option} {name_of(hook)}"
        if self._kept is not None:
            return self._kept.call(self.deadline_s, what, work, hook, *args)
        return apart.call_apart(self.method, self.deadline_s, what, work, hook, *args)

    def keep_child(self) -> None:
        """A search's runs call your setup and stock in one kept child (kit/apart.py), not a new one each."""
        if self._kept is None:
            self._kept = apart.Kept(self.method)

    def lock_path(self) -> Path:
        raise BadInput(_("file-lock does not apply to your own tables"))

    def tidy(self) -> None:
        pass

    def footprint(self) -> dict[str, int]:
        return {}  # your own tables: their size is yours to tell

    def close(self) -> None:
        if self._kept is not None:
            self._kept.close()
            self._kept = None


def _check(hook: Hook, option: str, example: str, args: tuple[Any, ...], shape: str) -> None:
    """In the child: your function found and callable as `shape`, or BadInput saying why not."""
    check_call(resolve(hook, option, example), args, option, shape)


def _call(hook: Hook, option: str, secrets: frozenset[str], *args: Any) -> Any:
    """In the child: your function called; its failure said in one line (CannotRun)."""
    function = resolve(hook, option, "shop:seed")
    try:
        return function(*args)
    except Exception as exc:  # your code failed before or after the race: the run cannot be judged
        raise CannotRun(
            _("{option} {name_of} failed: {one_line}").format(
                option=option, name_of=name_of(hook), one_line=one_line(exc, secrets)
            )
        ) from exc
