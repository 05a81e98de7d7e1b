"""Starting buyers, and keeping them warm between the runs of a search.

A search (`--runs N` or `--schedule exhaustive` with a one-at-a-time schedule) runs the same buyers
many times. Starting them costs far more than a schedule's purchases: a spawned buyer starts Python,
imports booking and your code, connects; that was about one schedule a second. So a search's buyers
are started once. A warm buyer that has finished a run says it is done as every buyer does, then
waits on its gate for the next run: the parent resets the store, writes the next run's clock (its
zero and its deadline) on each gate, and the buyers go through the start barrier again. A run that
did not end with every buyer done (stopped, stuck, a buyer dead) is not trusted with the next one:
its buyers are stopped and the next run starts fresh ones.
"""

from __future__ import annotations

import multiprocessing.process
import os
import selectors
from collections.abc import Callable, Iterable
from typing import Any

from booking.history import BuyerEnd, BuyerStatus
from booking.i18n import lang
from booking.processes import signals, teardown
from booking.processes.buyer import BuyerPlan, Links, run_buyer
from booking.processes.schedule import NEXT_RUN, Gates

CLOSE_S = 0.5  # at the end of a search: how long warm buyers get to exit by themselves


def fork_buyers(
    ctx: Any,
    plans: Iterable[BuyerPlan],
    links: Links,
    gates: Gates,
    procs: dict[int, Any],
    selector: selectors.BaseSelector,
    signalled: Callable[[], bool],
) -> None:
    """Start a process per plan into `procs`, each watched by `selector` (its data: the buyer's number)."""
    for plan in plans:
        if signalled():
            break
        gate = gates.make(plan.buyer)
        args = (os.getpid(), lang.spoken(), run_buyer, plan, links, gate)
        p = ctx.Process(target=signals.run_child, args=args, name=f"buyer-{plan.buyer}")
        p.daemon = True
        with signals.forking(ctx.get_start_method()):
            p.start()
        # Process.start() polls every child still listed (a waitpid each): O(buyers^2) per run. This run
        # waits on its buyers' sentinels and reaps them itself (teardown.stop): they need not be listed.
        multiprocessing.process._children.discard(p)  # type: ignore[attr-defined]
        gate.close()  # the buyer has its end
        procs[plan.buyer] = p
        selector.register(p.sentinel, selectors.EVENT_READ, plan.buyer)


class WarmBuyers:
    """A search's buyers, kept between its runs with what they inherited (the channel, their gates)."""

    def __init__(self) -> None:
        self.procs: dict[int, Any] = {}  # buyer -> its process; empty: none kept, the next run starts them
        self.links: Links | None = None
        self.gates: Gates | None = None

    @property
    def kept(self) -> bool:
        return bool(self.procs)

    def started(self, procs: dict[int, Any], links: Links, gates: Gates) -> None:
        """A run started these buyers: keep them for the next run if it ends well."""
        self.procs, self.links, self.gates = dict(procs), links, gates

    def next_run(self, plans: Iterable[BuyerPlan], selector: selectors.BaseSelector) -> dict[int, Any]:
        """Send each kept buyer the next run's clock; it answers at the start barrier, as a new buyer does."""
        assert self.gates is not None
        for plan in plans:
            self.gates.send(plan.buyer, NEXT_RUN.pack(plan.t0, plan.deadline))
            selector.register(self.procs[plan.buyer].sentinel, selectors.EVENT_READ, plan.buyer)
        return dict(self.procs)

    def keep(self, ends: dict[int, BuyerEnd], stopping: bool) -> bool:
        """After a run: True when every buyer finished it and waits for the next; else none is kept (the
        caller stops them), and the next run starts fresh buyers."""
        finished = len(ends) == len(self.procs) and all(e.status is BuyerStatus.DONE for e in ends.values())
        done = finished and not stopping and all(p.exitcode is None for p in self.procs.values())  # alive, waiting
        if not done:
            self.procs, self.links, self.gates = {}, None, None
        return done

    def close(self) -> None:
        """The search is over: a closed gate tells each buyer so; those that do not exit at once are stopped."""
        if self.gates is not None:
            self.gates.close()
        teardown.stop(list(self.procs.values()), CLOSE_S)
        self.procs, self.links, self.gates = {}, None, None
