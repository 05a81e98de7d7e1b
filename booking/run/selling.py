"""`booking seller`: a broker's seller in its own invocation, on this host or another.

It consumes the requests of any `booking simulate --lock queue --broker URL` run that publishes to the
same queue, and sells from the store it is given (the run's store, reached from here). It stops when
told (SIGINT, SIGTERM) or at --deadline.
"""

from __future__ import annotations

import signal
import time
from typing import Any

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.options.store_url import StoreURL
from booking.processes.broker import BrokerSellerPlan, run_broker_seller
from booking.stores import open_store
from booking.strategies import get_strategy
from booking.strategies.broker import check_broker


def sell(
    broker: str,
    store: str,
    seller_lock: str = "none",
    idempotent: bool = False,
    deadline_s: float | None = None,
    number: int = 1,
) -> int:
    """Sell every request on the broker's queue until stopped; returns how many were answered."""
    url = StoreURL.parse(store)
    info = get_strategy(seller_lock, url.kind)
    if info.needs.sellers or info.needs.mp_lock:
        raise BadInput(_("--seller-lock {name}: a seller in its own invocation needs a lock every client shares")
                       .format(name=seller_lock))  # fmt: skip
    check_broker(broker)
    checked = open_store(url, None, False, deadline_s or 60.0)
    try:
        checked.check()  # a store booking made (else: bad input, before any request is taken)
    finally:
        checked.close()
    deadline = None if deadline_s is None else time.time() + deadline_s
    plan = BrokerSellerPlan(number, broker, url, seller_lock, idempotent, deadline)
    stopped: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        stopped.append(signum)

    before = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return run_broker_seller(plan, lambda: bool(stopped))
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
