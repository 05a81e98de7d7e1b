"""Your own purchase function under the harness: `--purchase module:function`, or `race(function)`.

The function is called in each buyer process as `function(store: str, buyer: int, point)` and
returns the id of the ticket it bought, None when sold out, or declines (raises booking.Declined,
or returns booking.DECLINED) when it lost a race and turns the buyer away. It calls
`point("after-read")` where its race window is, so lockstep and random schedules can hold it
there, and may name other points (`point("in-critical")`, ...) where fault injection can kill it.
An optional `prepare(store)` runs once in each buyer before the start barrier: connecting, an
ORM's first query, anything whose cost must not count as the race.
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import sys
from collections.abc import Callable
from typing import Any

from booking.history import Attempt, Outcome
from booking.i18n.lang import _
from booking.kit import apart, printed, statements
from booking.kit.hooks import check_call, name_of, resolve
from booking.kit.outcomes import DECLINED, Declined
from booking.kit.points import AFTER_READ, BEFORE_LOCK
from booking.stores.base import Store, StoreKind
from booking.strategies.base import BuyerContext, StrategyInfo
from booking.types import Hook

PurchaseFunction = Callable[[str, int, Callable[[str], None]], Any]
EXAMPLE = "booking.examples.sqlite:racy_buy"
# Statement points an attempt records, the latest kept (the stories name them): an attempt travels to
# the parent in one atomic pipe write (processes/messages.py), so this stays well under PIPE_BUF.
MAX_STATEMENTS = 12


def call_user_purchase(
    function: PurchaseFunction, store_spec: str, store: Store | None, ctx: BuyerContext, rec: Attempt
) -> None:
    """Fill an Attempt from one call of the user's function."""

    def held(name: str) -> None:  # a statement your connection is about to run (kit/statements.py)
        if len(rec.statements) >= MAX_STATEMENTS:
            del rec.statements[0]
        rec.statements.append((ctx.clock(), name))
        ctx.point(name)

    def ending() -> None:
        rec.t_commit = ctx.clock()

    with statements.listening(held, ending) as said:

        def point(name: str) -> None:
            if name == AFTER_READ and rec.t_read is None:
                rec.t_read = ctx.clock()
            ctx.point(str(name))
            said.covered = True  # explicit points take precedence: the next statement is held here

        ctx.point(BEFORE_LOCK)  # the random schedule starts each call in its chosen order
        try:
            ticket = function(store_spec, ctx.buyer, point)
        except Declined as exc:
            ticket, rec.error = DECLINED, str(exc) or None
    if ticket is DECLINED:
        rec.outcome, rec.t_write = Outcome.CONFLICT, ctx.clock()
        rec.error = _("declined: {error}").format(error=rec.error) if rec.error else "declined"
        return
    if ticket is None:
        rec.outcome = Outcome.SOLD_OUT
        return
    if isinstance(ticket, bool) or not isinstance(ticket, int):
        raise TypeError(
            _(
                "the purchase function returned {ticket!r}; expected a ticket id (int), None (sold out) or DECLINED"
            ).format(ticket=ticket)
        )
    # What the function read and wrote is its own business: the receipt is the ticket it returned.
    rec.ticket, rec.t_write, rec.outcome = ticket, ctx.clock(), Outcome.OK


def check_user_code(purchase: Hook, store_spec: str, prepare: Hook | None = None) -> tuple[Any, Any]:
    """Import your purchase function (and prepare) and check they can be called as booking calls them:
    BadInput (exit 2) saying why not. Returns them."""
    function = resolve(purchase, "--purchase", EXAMPLE)
    check_call(function, (store_spec, 1, print), "--purchase", "function(store, buyer, point)")
    warm = resolve(prepare, "--prepare", "shop:connect") if prepare is not None else None
    if warm is not None:
        check_call(warm, (store_spec,), "--prepare", "prepare(store)")
    return function, warm


def check_apart(purchase: Hook, store_spec: str, prepare: Hook | None, method: str, deadline_s: float) -> None:
    """check_user_code, done where your import cannot end, hang or print into the run (kit/apart.py).
    Functions given by value are imported already: they are checked here."""
    if callable(purchase) and (prepare is None or callable(prepare)):
        check_user_code(purchase, store_spec, prepare)
        return
    named = [("--purchase", purchase)] + ([("--prepare", prepare)] if prepare is not None else [])
    what = ", ".join(f"{option} {name_of(hook)}" for option, hook in named)
    apart.check_apart(method, deadline_s, what, check_user_code, purchase, store_spec, prepare)


def user_strategy(
    purchase: Hook, store_spec: str, prepare: Hook | None = None, auto_points: bool = False
) -> StrategyInfo:
    """The user's function as a strategy: its point("after-read") is where lockstep holds it, and
    any point it names (`point("in-critical")`, ...) is where fault injection can kill it.

    Your code is imported by the buyer that runs it (its setup), never here: the parent had it
    checked apart (check_apart)."""
    name = name_of(purchase)
    loaded: list[tuple[Any, Any]] = []

    def purchase_once(store: Store, ctx: BuyerContext, rec: Attempt) -> None:
        call_user_purchase(loaded[0][0], store_spec, store, ctx, rec)

    def setup(ctx: BuyerContext) -> None:
        _forget_inherited_pools()
        printed.capture()  # shown on stderr, kept for the history: never booking's stdout
        if auto_points:
            statements.auto_points()  # every SQLAlchemy engine in this buyer
        if not loaded:
            loaded.append(check_user_code(purchase, store_spec, prepare))
            _warm_facade(loaded[0][0])
        warm = loaded[0][1]
        if warm is not None:
            warm(store_spec)

    return StrategyInfo(
        f"purchase {name}",
        f"your purchase function {name}",
        "whatever your code protects",
        frozenset(StoreKind),
        safe=False,
        window=AFTER_READ,
        purchase=purchase_once,
        setup=setup,
        # Your code opens its own connections: the buyer does not open booking's (no look, and a
        # spawned buyer need not import SQLAlchemy).
        opens_store=False,
        every_visit=True,
    )


def _warm_facade(function: Any) -> None:
    """Your module uses booking's facade (booking.connect, booking.Declined): its first use imports the
    public API, a fifth of a second here and seconds on a loaded host. Done before the start barrier, it
    never counts as the race (nor makes the first round's stall rule take a slow buyer for a blocked one)."""
    inner = getattr(function, "func", None) or getattr(function, "__func__", None) or function
    module = sys.modules.get(getattr(inner, "__module__", "") or "")
    facade = sys.modules.get("booking")
    if module is not None and facade is not None and any(v is facade for v in vars(module).values()):
        importlib.import_module("booking.api")


def _forget_inherited_pools() -> None:
    """A forked buyer inherits the parent's SQLAlchemy engines with their pooled connections (your
    module-level engine, used by --setup in the parent): sharing one connection between processes
    corrupts both sessions. SQLAlchemy's recipe: dispose(close=False) in the child, which forgets
    the pool without closing the parent's connections. A spawned buyer has nothing to forget."""
    sqlalchemy = sys.modules.get("sqlalchemy.engine")
    if sqlalchemy is None or multiprocessing.parent_process() is None:
        return
    engine_type = sqlalchemy.Engine
    frozen = gc.get_freeze_count() > 0  # the parent froze what it made before forking (processes/crowd.py)
    if frozen:
        gc.unfreeze()  # get_objects() does not list frozen objects; unfreezing only relinks two lists
    try:
        engines = [obj for obj in gc.get_objects() if isinstance(obj, engine_type)]
    finally:
        if frozen:
            gc.freeze()
    for engine in engines:
        engine.dispose(close=False)
