"""One worker's purchases: booking's strategies and stores, run for HTTP requests instead of buyer processes.

Each worker process makes what its strategy declares for itself, as any web service's worker does:
`mp-lock` is a multiprocessing.Lock made in this worker, so it serializes this worker's requests and
nobody else's (the lesson: a lock inside one worker process does not protect the other workers);
`file-lock` locks the file beside the store, which every worker on the host shares; the database
strategies are referred by the database. A worker runs up to `threads` purchases at once, each on a
store connection of its own, taken from a pool that never holds more than `threads` of them.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from booking.errors import BadInput
from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.i18n.words import one_line
from booking.kit.points import AFTER_READ
from booking.service.settings import ServeConfig
from booking.stores import Store, StoreKind, open_store
from booking.strategies import BuyerContext, Made, StrategyInfo, default_strategy, get_strategy
from booking.strategies.contract import BOUGHT, DECLINED, SOLD_OUT

FAILED = 500  # the purchase failed (the store or the lock did): the answer says why in one line


def serving_strategy(settings: ServeConfig) -> StrategyInfo:
    """The strategy every purchase of the service runs under; BadInput for one a service cannot run."""
    kind = settings.store_url.kind
    info = get_strategy(settings.strategy or default_strategy(kind), kind)
    if info.needs.sellers:
        raise BadInput(
            _(
                "--lock {name} does not apply to booking serve: its sellers would be the workers "
                "themselves (choose a lock or a database strategy)"
            ).format(name=info.name)
        )
    if settings.isolation is not None and kind is StoreKind.COUNTER:
        raise BadInput(_("--isolation applies to SQL stores only (db.json has no transactions)"))
    return info


def scope(info: StrategyInfo) -> str:
    """Whom the strategy protects inside a service: a lock made in each process protects one worker."""
    return "one worker process" if info.needs.mp_lock else info.scope


@dataclass
class _Holder:
    """Who holds this worker's mp-lock (the strategy records it; only a run's parent reads it)."""

    value: int = 0


@dataclass
class _Slot:
    """One purchase at a time: a store connection and the strategy's per-connection state (its file lock)."""

    store: Store
    local: dict[str, Any] = field(default_factory=dict)


class Shop:
    """The purchases of one worker process."""

    def __init__(self, settings: ServeConfig) -> None:
        self.settings = settings
        self.info = serving_strategy(settings)
        self.made = Made()
        self.worker = os.getpid()
        self._idle: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards _slots, the count of connections made
        self._slots = 0
        self._t0 = time.monotonic()

    def open(self) -> None:
        """At the worker's start-up: its own lock if the strategy needs one, and a first connection (fail fast)."""
        if self.info.needs.mp_lock:
            self.made.mp_lock, self.made.mp_holder = multiprocessing.Lock(), _Holder()
        self._idle.put(self._new_slot())

    def close(self) -> None:
        self.made.mp_lock = None  # its semaphore is unlinked now, not reported leaked at exit
        while True:
            try:
                self._idle.get_nowait().store.close()
            except queue.Empty:
                return

    def _new_slot(self) -> _Slot:
        s = self.settings
        store = open_store(s.store_url, None if s.isolation is None else s.isolation.value, timeout_s=s.timeout_s)
        if self.info.needs.lock_file and self.made.lock_path is None:
            self.made.lock_path = str(store.lock_path())
        slot = _Slot(store)
        if self.info.setup is not None:
            self.info.setup(self._context(0, slot))  # e.g. the file lock, made in this process
        with self._lock:
            self._slots += 1
        return slot

    def _take(self) -> _Slot:
        """An idle connection, or a new one: callers are limited to `threads` at once, so are connections."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._new_slot()

    def _discard(self, slot: _Slot) -> None:
        """A connection whose purchase failed is not reused (it may be broken): the next one is made anew."""
        slot.store.close()
        with self._lock:
            self._slots -= 1

    def _clock(self) -> float:
        return time.monotonic() - self._t0

    def _point(self, name: str) -> None:
        if name == AFTER_READ and self.settings.think_ms:
            time.sleep(self.settings.think_ms / 1000)  # the notes' time.sleep, inside the race window

    def _context(self, buyer: int, slot: _Slot) -> BuyerContext:
        deadline = time.monotonic() + self.settings.timeout_s
        return BuyerContext(buyer, self._point, self._clock, deadline, self.made, slot.local)

    def buy(self, buyer: int) -> Attempt:
        """One purchase for `buyer` under the strategy (blocking: run it in a worker thread)."""
        slot = self._take()
        rec = Attempt(buyer, 0, t_start=self._clock())
        try:
            self.info.purchase(slot.store, self._context(buyer, slot), rec)
        except Exception as exc:  # one failed purchase is an answer, not a crash of the worker
            rec.outcome, rec.error = Outcome.ERROR, one_line(exc, self.settings.store_url.secrets)
            self._discard(slot)
        else:
            self._idle.put(slot)
        rec.t_end = self._clock()
        return rec

    def look(self) -> int:
        """The look (the notes' search): free tickets, counted up to the store's cap."""
        slot = self._take()
        try:
            return slot.store.remaining()
        finally:
            self._idle.put(slot)


def answer(rec: Attempt, worker: int) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of a purchase, by the contract (booking/strategies/contract.py)."""
    about = {"buyer": rec.buyer, "worker": worker, "lock_wait_ms": round(rec.lock_wait_s * 1000, 3)}
    if rec.retries or rec.conflicts:
        about |= {"retries": rec.retries, "conflicts": rec.conflicts}
    if rec.outcome is Outcome.OK:
        return BOUGHT, {"outcome": "ok", "ticket": rec.ticket, "read": rec.read, "wrote": rec.wrote, **about}
    if rec.outcome is Outcome.SOLD_OUT:
        return SOLD_OUT, {"outcome": "sold-out", **about}
    if rec.outcome is Outcome.CONFLICT:
        return DECLINED, {"outcome": "declined", "reason": rec.error, **about}
    return FAILED, {"outcome": "error", "error": rec.error or "the purchase failed", **about}
