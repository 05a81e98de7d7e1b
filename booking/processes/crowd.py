"""The parent's side of a run: start the buyers, read their reports, keep the schedule, reap.

Everything a buyer tells the parent arrives on one channel: attempts (in batches), arrivals at a
schedule point, a kill about to land (fault injection), and its last word, done. The parent waits
on events only: the channel's reader and every child's sentinel, in one selector. A child that
exits is seen the moment it exits, and what it sent before is read first.
"""

from __future__ import annotations

import gc
import selectors
import time
from dataclasses import dataclass, field
from typing import Any

from booking.history import Attempt, BuyerEnd, BuyerStatus, History, Opened
from booking.history.watch import Watcher
from booking.i18n.lang import N_, _
from booking.i18n.words import exit_status
from booking.kit.points import START
from booking.processes import kills, signals, teardown
from booking.processes.buyer import BuyerPlan, Links
from booking.processes.messages import Arrive, Done, Dying, Message, Pausing, Progress, Records, Released
from booking.processes.schedule import Barrier, Gates, LockstepBarrier
from booking.processes.sellers import Sellers
from booking.processes.stepper import NO_STEPS, Stepper
from booking.processes.telling import Teller
from booking.processes.warm import WarmBuyers, fork_buyers
from booking.types import Peers

GRACE_S = 2.0  # after the deadline: how long buyers get to stop by themselves and report
JOIN_S = 0.5  # at the end: how long exiting buyers get before they are terminated
EXIT_WAIT_S = 1.0  # a child whose sentinel fired: how long its exit status may take to be readable
REPORTS = "reports"
PEERS = "peers"  # another host said something (a run across hosts)
SIGNALLED = "signalled"  # SIGINT, SIGTERM or SIGHUP came (processes/signals.py)

ABANDONED_MP_LOCK = N_(
    "{who} died holding the multiprocessing.Lock: a multiprocessing.Lock is never released when "
    "its holder dies; use file-lock or a database strategy"
)


@dataclass
class Crowd:
    """Runs the buyers of one simulation to the end, or to the deadline, or to an abandoned lock."""

    ctx: Any
    plans: list[BuyerPlan]
    links: Links
    gates: Gates  # every buyer's gate: the start barrier releases them all, the window's barrier some
    barrier: Barrier | None  # the window's: lockstep or random; None in the free schedule
    deadline: float
    sellers: Sellers | None = None
    peers: Peers | None = None  # a run across hosts: the other hosts' parents
    watcher: Watcher | None = None  # told what happens as it happens (live output)
    pauses: Any = None  # --pause-buyer: the parent's side of the pause (booking/processes/pauses.py)
    stepper: Stepper = NO_STEPS  # --step: the start barrier (and the window's) held until the go-ahead
    warm: WarmBuyers | None = None  # a search's buyers, kept between its runs (booking/processes/warm.py)
    history: History = field(default_factory=History)
    aborted: str | None = None  # why the run was stopped early
    interrupted: int | None = None  # the signal that stopped the run
    _procs: dict[int, Any] = field(default_factory=dict)
    _ended: dict[int, BuyerEnd] = field(default_factory=dict)
    _dying: dict[int, str] = field(default_factory=dict)  # buyer -> the point it announced it dies at
    _ready: set[int] = field(default_factory=set)  # buyers at the start barrier
    _started: bool = False  # the start barrier has opened
    _last_ready: float = 0.0  # when the last buyer said it was ready
    _selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)

    def __post_init__(self) -> None:
        self._teller = Teller(self.watcher, self.plans[0].t0 if self.plans else 0.0, self.links.channel.order)

    def run(self) -> History:
        try:
            self._start()
            self._watch(self.deadline)
            if self.peers is not None and not self._started and not self._over():
                self.aborted = _("the run's hosts were not all ready by the deadline: {missing}").format(
                    missing=self.peers.missing()
                )
            if not self._over() and self.aborted is None:
                # Past the deadline buyers stop by themselves; keep reading so their last reports are kept.
                self._watch(time.monotonic() + GRACE_S)
        finally:
            self._read()  # not after stopping them: a buyer stopped mid-send leaves half a message
            self._teller.rebuild(self.history)
            if self.pauses is not None:  # nobody is left stopped (SIGSTOP) when the run ends
                self.pauses.close(self.history)
            all_done = len(self._ended) == len(self.plans)
            stopping = self.aborted or self.interrupted
            stopped = self._stop(bool(stopping))
            for buyer, p in self._procs.items():
                why = _("stopped with the run") if stopping else _("still running at the deadline")
                reason = why if p in stopped else _("exited without saying it was done")
                self._end(buyer, BuyerEnd(buyer, BuyerStatus.STUCK, reason), quietly=True)
            for plan in self.plans:  # an interrupted start: the rest never began
                self._end(plan.buyer, BuyerEnd(plan.buyer, BuyerStatus.STUCK, _("never started")), quietly=True)
            sellers_stopped = self.sellers.close(drain=all_done) if self.sellers is not None else {}
            self._selector.close()
        if self.barrier is not None:
            t0 = self.plans[0].t0 if self.plans else 0.0
            self.history.gates += [Opened(t - t0, point, ws, why) for t, point, ws, why in self.barrier.opened]
        if self.sellers is not None and self.sellers.missed_kill:
            self.history.missed.append(self.sellers.missed_kill)
        ends = sorted(self._ended.values(), key=lambda e: e.buyer)
        ends += [BuyerEnd(s, BuyerStatus.STUCK, why, who="seller") for s, why in sorted(sellers_stopped.items())]
        if self.sellers is not None:
            ends += [BuyerEnd(s, BuyerStatus.KILLED, why, who="seller") for s, why in self.sellers.killed.items()]
        self.history.ends = ends
        self._teller.finish()
        return self.history

    def _start(self) -> None:
        self._selector.register(self.links.channel.reader, selectors.EVENT_READ, REPORTS)
        if (wake := signals.wake_fd()) is not None:
            self._selector.register(wake, selectors.EVENT_READ, SIGNALLED)
        if self.peers is not None:
            self._selector.register(self.peers.fileno(), selectors.EVENT_READ, PEERS)
        if self.sellers is not None:
            live = bool(self.plans) and self.plans[0].live
            self.sellers.start(self.links.made, self.links.channel if live else None)
            for sentinel, seller in self.sellers.sentinels.items():
                self._selector.register(sentinel, selectors.EVENT_READ, ("seller", seller))
        # gc.freeze: a forked buyer's collector never writes into (so never copies) what the parent made.
        gc.freeze()
        try:
            self._start_buyers()
        finally:
            gc.unfreeze()

    def _start_buyers(self) -> None:
        if self.warm is not None and self.warm.kept:  # a search's next run: its buyers are started and warm
            self._procs = self.warm.next_run(self.plans, self._selector)
            return
        fork_buyers(self.ctx, self.plans, self.links, self.gates, self._procs, self._selector, self._signalled)
        if self.warm is not None:
            self.warm.started(self._procs, self.links, self.gates)

    def _stop(self, stopping: bool) -> list[Any]:
        """End the buyers, and close their gates; a search keeps its warm buyers for its next run instead."""
        if self.warm is not None and self.warm.keep(self._ended, stopping):
            return []
        if self.warm is not None:
            self.gates.close()  # first: a warm buyer waiting for a next run ends at once
        stopped = teardown.stop(list(self._procs.values()), 0 if stopping else JOIN_S)
        self.gates.close()
        return stopped

    def _watch(self, until: float) -> None:
        """Handle reports and exits as they happen, until everyone is done, the run is aborted, or `until`."""
        while not self._over() and (now := time.monotonic()) < until:
            stall = self.barrier.next_check() if self.barrier is not None and self._started else None
            if self.peers is not None:  # another host may die without a word: look now and then
                stall = min(stall or until, max(self.peers.next_check(), now))
            if self.pauses is not None and (due := self.pauses.next_due()) is not None:
                stall = min(stall or due, due)  # a paused buyer's time is up then
            events = self._selector.select(min(until, stall or until) - now)
            if self.pauses is not None:
                self.pauses.resume_due(time.monotonic())
            if self.peers is not None:
                self._hear_peers()
            if self.barrier is not None and self._started:
                self.barrier.check_stall(time.monotonic())
                self._teller.gates(self.barrier)
            for key, _mask in events:
                if key.data == REPORTS:
                    self._read()
                elif key.data == SIGNALLED:
                    self._signalled()
                elif key.data == PEERS:
                    pass  # heard above
                elif isinstance(key.data, tuple):  # a seller exited
                    self._selector.unregister(key.fileobj)
                    assert self.sellers is not None
                    self.sellers.exited(key.data[1])
                    self._teller.seller_ended(key.data[1], self.sellers, time.monotonic() - self.plans[0].t0)
                    self._check_mp_lock(-key.data[1], _("seller {n}").format(n=key.data[1]))
                else:
                    self._selector.unregister(key.fileobj)
                    self._read()  # its last words are in the channel before its sentinel fires
                    self._exited(key.data)
            self._teller.sync(self._read)  # the parent's own lines, once nothing stamped before them can come

    def _hear_peers(self) -> None:
        """What the other hosts said: they are ready, at a window, gone; this host may go on now."""
        if self.peers is None:  # only a run across hosts listens to peers
            return
        self.peers.receive()
        self.peers.check(time.monotonic())
        if (problem := self.peers.problem()) and self.aborted is None and not self._started:
            self.aborted = problem
        self._maybe_start()
        if isinstance(self.barrier, LockstepBarrier) and self._started:
            self.barrier.retry()

    def _over(self) -> bool:
        return self.aborted is not None or self._signalled() or len(self._ended) == len(self.plans)

    def _signalled(self) -> bool:
        self.interrupted = signals.pending()
        return self.interrupted is not None

    def _read(self) -> None:
        reader = self.links.channel.reader
        while reader.poll(0):
            for message in self.links.channel.receive():
                self._handle(message)

    def _handle(self, message: Message) -> None:
        if isinstance(message, Attempt | Records):  # one record, or a buyer's batch (processes/reporter.py)
            self._teller.records(message, self.history)
        elif isinstance(message, Arrive):
            if message.point == START:
                self._ready.add(message.buyer)
                self._last_ready = time.monotonic()
                self._maybe_start()
            elif self.barrier is not None:
                self.barrier.arrive(message.buyer, message.point)
                self._teller.gates(self.barrier)
        elif isinstance(message, Progress | Released):
            self._teller.progress(message)
        elif isinstance(message, Dying):
            self._dying[message.buyer] = message.point
        elif isinstance(message, Pausing):
            self.pauses.stop(message, self._procs[message.buyer])
        elif isinstance(message, Done):
            self._done(message)

    def _done(self, message: Done) -> None:
        if message.missed_kill:  # the fault was not injected: the run cannot show what it was asked to
            self.history.missed.append(kills.missed(message.missed_kill, message.buyer, message.points))
        status = BuyerStatus.STUCK if message.unfinished else BuyerStatus.DONE
        self._end(message.buyer, BuyerEnd(message.buyer, status, message.unfinished, printed=message.printed))

    def _exited(self, buyer: int) -> None:
        """A buyer's process ended: done, killed on purpose, or dead without finishing."""
        if buyer in self._ended:
            return
        p = self._procs[buyer]
        p.join(EXIT_WAIT_S)  # its sentinel closes a moment before the exit status can be read
        if buyer in self._dying:
            why = _("killed at {point} (injected)").format(point=self._dying[buyer])
            self._end(buyer, BuyerEnd(buyer, BuyerStatus.KILLED, why))
        else:
            why = _("{how} before finishing").format(how=exit_status(p.exitcode))
            self._end(buyer, BuyerEnd(buyer, BuyerStatus.STUCK, why))
        self._check_mp_lock(buyer, _("buyer {n}").format(n=buyer))

    def _check_mp_lock(self, holder_id: int, who: str) -> None:
        """A dead process that held the multiprocessing.Lock: nobody will ever get it again, stop the run."""
        holder = self.links.made.mp_holder
        if holder is not None and holder.value == holder_id and self.aborted is None:
            self.aborted = _(ABANDONED_MP_LOCK).format(who=who)

    def _maybe_start(self) -> None:
        """The start barrier: once every buyer still running is ready, release them all at once."""
        if self._started or len(self._ready) + len(self._ended) < len(self._procs):
            return  # O(1) on each arrival; the exact check below is O(buyers)
        waiting = set(self._procs) - set(self._ended)
        if self._started or not waiting or not waiting <= self._ready:
            return
        if self.peers is not None:  # a run across hosts: every host's buyers are warm before any starts
            self.peers.ready()
            if not self.peers.all_ready:
                return
        if not self.stepper.hold(START, sorted(waiting), "all"):
            return  # stopped while held: nobody starts
        self._started = True
        now = time.monotonic()  # before the first release: no attempt starts earlier
        for buyer in sorted(waiting):
            self.gates.release(buyer)
        if self.barrier is not None:
            self.barrier.started(now)
        t0 = self.plans[0].t0
        self.history.gates.append(Opened(now - t0, START, sorted(waiting), "all", self._last_ready - t0))
        self._teller.opened(self.history.gates[-1])

    def _end(self, buyer: int, end: BuyerEnd, quietly: bool = False) -> None:
        """A buyer is done, or will never be (`quietly`: the run is over, nobody is let go or answered)."""
        if buyer in self._ended:
            return
        self._ended[buyer] = end
        end.t = time.monotonic() - self.plans[0].t0
        self._teller.ended(end, end.t)
        if quietly:
            return
        if self.peers is not None and len(self._ended) == len(self.plans):
            self.peers.leave()  # no more rounds from this host
        self._maybe_start()
        if self.barrier is not None:
            self.barrier.leave(buyer)
            self._teller.gates(self.barrier)
        if self.sellers is not None and end.status is not BuyerStatus.DONE:
            self.sellers.buyer_died(buyer)
