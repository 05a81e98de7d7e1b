"""What a RunConfig must satisfy: each rule refuses in one line (BadInput, exit 2), naming the option.

Typed Any, not RunConfig: booking.options.config calls these rules and this module must not import it back.
"""

from __future__ import annotations

from typing import Any

from booking.errors import BadInput
from booking.i18n.lang import _
from booking.kit.points import KILL_POINTS, SELLER_POINTS
from booking.options.choices import (
    MAX_ATTEMPTS,
    MAX_BUYERS,
    MAX_DEPTH,
    MAX_EXHAUSTIVE_BUYERS,
    MAX_HOSTS,
    MAX_RUNS,
    MAX_SELLERS,
    MAX_THINK_MS,
    MAX_TICKETS,
    Schedule,
    check_range,
    check_times,
)


def check(self: Any) -> None:
    """Raise BadInput naming the first option out of range, or two options that do not go together."""
    check_range("--buyers", self.buyers, 1, MAX_BUYERS)
    check_range("--tickets", self.tickets, 0, MAX_TICKETS)
    check_range("--attempts", self.attempts, 1, MAX_ATTEMPTS)
    check_range("--think", self.think_ms, 0, MAX_THINK_MS)
    check_times(self.deadline_s, self.duration_s)  # --deadline, and --duration shorter than it
    check_range("--sellers", self.sellers, 0 if self.broker else 1, MAX_SELLERS)
    check_range("--chaos", self.chaos, 0, 1)
    check_range("--runs", self.runs, 1, MAX_RUNS)
    check_range("--depth", self.depth, 1, MAX_DEPTH)
    if self.schedule is Schedule.EXHAUSTIVE and self.buyers > MAX_EXHAUSTIVE_BUYERS:
        raise BadInput(
            _(
                "--schedule exhaustive tries every order of {buyers} buyers' points: too many; use at "
                "most {MAX_EXHAUSTIVE_BUYERS} buyers, or --schedule random"
            ).format(buyers=self.buyers, MAX_EXHAUSTIVE_BUYERS=MAX_EXHAUSTIVE_BUYERS)
        )
    if self.replay is not None:
        replay_order(self)
    if (self.prepare or self.setup or self.stock) and self.purchase is None and self.target is None:
        raise BadInput(_("--prepare, --setup and --stock go with --purchase (your own purchase function)"))
    if (self.target_config is not None or self.buyers_from is not None) and self.target is None:
        raise BadInput(_("--target-config and --buyers-from go with --target URL (or url = in the file)"))
    if self.target_map is not None and self.target is None:
        raise BadInput(_("--target-map goes with --target (the service it maps)"))
    if self.http2 and self.target is None:
        raise BadInput(_("--http2 goes with --target (the service the buys are sent to)"))
    if self.kill_buyer is not None:
        check_range("--kill-buyer", self.kill_buyer, 1, self.buyers)
    if self.kill_seller is not None:
        check_range("--kill-seller", self.kill_seller, 1, self.sellers)
    if self.kill_buyer is not None and self.kill_seller is not None:
        raise BadInput(_("--kill-buyer and --kill-seller: choose one process to kill"))
    if self.kill_at is not None:
        if self.kill_at not in KILL_POINTS + SELLER_POINTS:
            raise BadInput(
                _("--kill-at: unknown point {kill_at!r} (choose from: {value})").format(
                    kill_at=self.kill_at, value=", ".join(KILL_POINTS + SELLER_POINTS)
                )
            )
        if self.kill_buyer is None and self.kill_seller is None:
            raise BadInput(_("--kill-at needs --kill-buyer K (or use --chaos P)"))
    if self.idempotent and self.broker is None:
        raise BadInput(_("--idempotent applies to the sellers of --lock queue --broker URL and of --lock seckill"))
    _check_pause(self)
    _check_hosts(self)


def _check_pause(self: Any) -> None:
    """--pause-buyer K --pause-at POINT --pause-ms MS, and --lock-ttl: in range, one fault at a time."""
    if self.lock_ttl_ms is not None:
        check_range("--lock-ttl", self.lock_ttl_ms, 1, self.deadline_s * 1000)
    if self.pause_buyer is None:
        if self.pause_at is not None:
            raise BadInput(_("--pause-at needs --pause-buyer K"))
        return
    check_range("--pause-buyer", self.pause_buyer, 1, self.buyers)
    # Only a pause asked for is checked against the deadline: its default must not refuse a short one.
    check_range("--pause-ms", self.pause_ms, 1, self.deadline_s * 1000 / 2)
    if self.pause_at is not None and self.pause_at not in KILL_POINTS:
        raise BadInput(
            _("--pause-at: unknown point {point!r} (choose from: {value})").format(
                point=self.pause_at, value=", ".join(KILL_POINTS)
            )
        )
    if self.kill_buyer is not None or self.kill_seller is not None or self.chaos:
        raise BadInput(_("--pause-buyer and --kill-buyer, --kill-seller or --chaos: choose one fault"))


def _check_hosts(self: Any) -> None:
    check_range("--hosts", self.hosts, 1, MAX_HOSTS)
    if self.run is None:
        if self.hosts != 1 or self.host is not None or self.no_wait:
            raise BadInput(_("--hosts, --host and --no-wait go with --run NAME (a run that spans several hosts)"))
        return
    if not self.run or len(self.run) > 63 or not all(c.isalnum() or c in "-_." for c in self.run):
        raise BadInput(
            _("--run {run!r}: a name of letters, digits, '-', '_' and '.', at most 63 characters").format(run=self.run)
        )
    if self.schedule.one_at_a_time:
        raise BadInput(
            _("--schedule {value} lets one buyer go at a time: it cannot span hosts").format(value=self.schedule.value)
        )
    if self.keep or self.runs != 1:
        raise BadInput(_("--run seeds the run's stock once for every host: --keep and --runs do not apply"))


def replay_order(self: Any) -> list[int]:
    """--replay 1,2,2,1 as a list of buyers."""
    try:
        order = [int(part) for part in (self.replay or "").split(",") if part.strip()]
    except ValueError:
        raise BadInput(
            _("--replay takes buyer numbers separated by commas, got {replay!r}").format(replay=self.replay)
        ) from None
    if any(not 1 <= b <= self.buyers for b in order):
        raise BadInput(
            _("--replay: buyer numbers go from 1 to {buyers}, got {replay!r}").format(
                buyers=self.buyers, replay=self.replay
            )
        )
    return order
