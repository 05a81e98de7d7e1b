"""One shape for every strategy: what it is called, whom it protects, what it needs, how it buys.

A strategy declares what it needs (`Needs`: a multiprocessing lock from the parent, a lock file
beside the store, seller processes) and the run makes exactly that; it declares where lockstep
holds its buyers (`window`) and where it can be killed (`kill_points`). The run never asks for a
strategy by name: it reads these fields.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from booking.errors import Unavailable
from booking.history import Attempt, Outcome
from booking.kit import points
from booking.stores.base import Store, StoreKind

ANY_STORE = frozenset(StoreKind)
SQL_STORES = frozenset({StoreKind.SQLITE, StoreKind.POSTGRESQL, StoreKind.MYSQL})
SERVERS = frozenset({StoreKind.POSTGRESQL, StoreKind.MYSQL})
EVERY_CLIENT = "every client of the database"


class LockTimeout(Unavailable):
    """A lock was not acquired before the run's deadline."""


MAX_RETRIES = 32  # a strategy that retries a lost race (optimistic, serializable, watch, a seller): then `conflict`
BACKOFF_BASE_S = 0.0005
BACKOFF_CAP_S = 0.02


def backoff(n: int) -> None:
    """Before retry n: full jitter, so buyers that collided do not collide again in step."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**n)))


@dataclass(frozen=True)
class Needs:
    """What the run must make before the buyers start."""

    mp_lock: bool = False  # a multiprocessing.Lock (and who holds it), made by the parent: one process tree
    lock_file: bool = False  # a lock file path beside the store: one host
    sellers: bool = False  # seller processes own the store; buyers send them requests
    lease: bool = False  # a lock that expires (--lock-ttl): a paused holder loses it
    last_bytes: bool = False  # lockstep: the buyers hand their held last bytes to the parent, which writes them

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            self.mp_lock or other.mp_lock,
            self.lock_file or other.lock_file,
            self.sellers or other.sellers,
            self.lease or other.lease,
            self.last_bytes or other.last_bytes,
        )


class SellerLink(Protocol):
    """A buyer's way to the sellers (booking.processes.seller makes it)."""

    def buy(self, ctx: BuyerContext, rec: Attempt) -> None: ...

    def leave(self, buyer: int) -> None:
        """This buyer sends no more requests."""

    def let_go(self) -> None:
        """Flush what this process put on the shared request queue (before it is killed)."""


@dataclass
class Made:
    """What the run made for the strategies, as its `Needs` asked: handed to every buyer and seller."""

    mp_lock: Any = None  # multiprocessing.Lock
    mp_holder: Any = None  # a shared int: the buyer holding the mp-lock, 0 when free
    lock_path: str | None = None
    contenders: int = 1  # processes that may wait for the lock at once (file-lock backs off by it)
    seller: SellerLink | None = None
    lease_ms: float = 0.0  # a lease's time to live (--lock-ttl), for strategies that need one
    last_bytes: Any = None  # lockstep: the socket a buyer hands its held last byte over on (target/handover.py)


@dataclass
class BuyerContext:
    """What a purchase needs from its process (all made in that process, or inherited from the parent)."""

    buyer: int
    point: Callable[[str], None]  # pass a named point: the schedule may hold here, a fault may fire
    clock: Callable[[], float]  # seconds since the run started
    deadline: float  # time.monotonic() value
    made: Made = field(default_factory=Made)
    local: dict[str, Any] = field(default_factory=dict)  # a strategy's per-process state (its file lock)
    holder: int = 0  # who this process is in the mp-lock's holder record: the buyer, or -seller for a seller
    # Watched: say the sale just written, before the lock that guards it is let go (live output).
    written: Callable[[], None] = lambda: None
    # Watched: say the attempt so far now (an HTTP request just sent: its line before its answer's).
    tell: Callable[[str], None] = lambda name: None
    # What the gate said when the schedule last let this buyer go: the parent wrote its last byte, and when.
    said: Callable[[], bytes] = lambda: b""

    def time_left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)


class Purchase(Protocol):
    """One attempt: fill `rec` (outcome, ticket, read, wrote, times) from one try to buy."""

    def __call__(self, store: Any, ctx: BuyerContext, rec: Attempt) -> None: ...


@dataclass(frozen=True)
class StrategyInfo:
    """A strategy. Its description is its row label in reports; `scope` says whom it protects."""

    name: str
    description: str
    scope: str
    stores: frozenset[StoreKind]
    safe: bool  # documented as preventing every anomaly
    # Where lockstep holds buyers: before-lock when a lock is held across the read (all contend at
    # once; never a barrier inside a critical section), after-read when none is (all read, then write).
    window: str
    purchase: Purchase
    needs: Needs = Needs()
    kill_points: tuple[str, ...] = points.KILL_POINTS  # where a buyer running it can be killed
    setup: Callable[[BuyerContext], None] | None = None  # once per process, before its first attempt
    opens_store: bool = True  # False: the buyer never touches the store (a seller or your own code does)
    imports: tuple[str, ...] = ()  # modules its buyers use: imported once in the parent, shared by every fork
    # Lockstep holds at every visit of the window (your own code: a retry is raced as hard as a first try);
    # booking's strategies keep one hold per attempt, so their measured figures stay comparable.
    every_visit: bool = False
    # The notes' search() before each attempt (a read outside the lock). False where the purchase is one
    # call that checks the stock itself (the seckill script): a seckill client never reads first.
    looks: bool = True


Guard = Callable[[BuyerContext], contextlib.AbstractContextManager[Any]]


def read_then_write(store: Store, ctx: BuyerContext, rec: Attempt, guard: Guard | None) -> None:
    """The notes' get(): read, check, write — under `guard` if there is one."""
    ctx.point(points.BEFORE_LOCK)
    asked = ctx.clock()
    with guard(ctx) if guard else contextlib.nullcontext():
        if guard:
            rec.t_acquired = ctx.clock()
            rec.lock_wait_s = rec.t_acquired - asked
        points.hit(points.IN_CRITICAL)
        seen = store.read()
        rec.t_read, rec.read = ctx.clock(), seen.value
        ctx.point(points.AFTER_READ)
        if seen.ticket is None:
            rec.outcome, rec.t_end = Outcome.SOLD_OUT, ctx.clock()
            ctx.written()  # still under the guard, like a sale: said before the next buyer reads
            return
        rec.wrote = store.write(seen, ctx.buyer)
        rec.t_write, rec.ticket, rec.outcome = ctx.clock(), seen.ticket, Outcome.OK
        ctx.written()  # still under the guard: the next buyer's read is said after this write
