"""The verifier on hand-made histories: every anomaly kind, without processes."""

from __future__ import annotations

from booking.history import Attempt, BuyerEnd, BuyerStatus, History, Outcome
from booking.render.stories import stories
from booking.stores.base import FinalState, StoreKind
from booking.verdict.verify import verify


def bought(buyer: int, read: int, t_read: float, t_write: float, attempt: int = 0) -> Attempt:
    """A counter-store receipt: read `read`, wrote read-1, holds ticket #read."""
    return Attempt(buyer, attempt, Outcome.OK, ticket=read, read=read, wrote=read - 1, t_read=t_read, t_write=t_write)


def refused(buyer: int, read: int = 0) -> Attempt:
    return Attempt(buyer, 0, Outcome.SOLD_OUT, read=read, t_read=1.0)


def kinds(verdict_anomalies: list) -> list[str]:  # type: ignore[type-arg]
    return [a.kind for a in verdict_anomalies]


class TestCleanRuns:
    def test_serial_sales_are_ok(self) -> None:
        """Three buyers who each read what the last one wrote sold three tickets once each."""
        h = History([bought(1, 3, 0.1, 0.2), bought(2, 2, 0.3, 0.4), bought(3, 1, 0.5, 0.6), refused(4)])
        v = verify(3, FinalState(0), h)
        assert v.ok and v.sold == 3 and v.remaining == 0 and v.refused == 1
        assert (v.oversold, v.double_sold, v.lost_updates, v.undersold, v.errors, v.stuck) == (0, 0, 0, 0, 0, 0)

    def test_demand_below_stock_is_not_undersold(self) -> None:
        """Tickets left over with nobody turned away is not an anomaly."""
        v = verify(5, FinalState(4), History([bought(1, 5, 0.1, 0.2)]))
        assert v.ok and v.remaining == 4


class TestAnomalies:
    def test_two_buyers_read_before_either_wrote(self) -> None:
        """The notes' race: both read count=1, both wrote 0: ticket #1 sold twice, one update lost."""
        h = History([bought(3, 1, 0.10, 0.30), bought(7, 1, 0.11, 0.31)])
        v = verify(1, FinalState(0), h)
        assert not v.ok
        assert (v.sold, v.oversold, v.double_sold, v.lost_updates) == (2, 1, 1, 1)
        assert kinds(v.anomalies) == ["oversold", "double_sold", "lost_updates"]
        double = v.anomalies[1]
        assert double.tickets == [1] and double.buyers == [3, 7]
        assert stories(double) == [
            "buyers 3 and 7 both read count=1 before either wrote; both wrote count=0: ticket #1 sold twice"
        ]

    def test_interleaved_double_sale_is_told_step_by_step(self) -> None:
        """When a read follows a write (a stale write put count=2 back), the story lists each step."""
        h = History([bought(1, 2, 0.001, 0.002), bought(2, 2, 0.004, 0.005), bought(3, 1, 0.006, 0.007)])
        v = verify(2, FinalState(0), h)
        assert v.double_sold == 1 and v.oversold == 1 and v.lost_updates == 1
        story = stories(v.anomalies[1])[0]
        assert story.startswith(
            "buyer 1 read count=2 at 1.0 ms and wrote count=1 at 2.0 ms; buyer 2 read count=2 at 4.0 ms"
        )
        assert story.endswith("ticket #2 sold twice")

    def test_lost_update_without_oversell(self) -> None:
        """Stock 5: two buyers sell ticket #5 twice; the store counts one sale, so one update is lost."""
        h = History([bought(1, 5, 0.1, 0.3), bought(2, 5, 0.2, 0.4)])
        v = verify(5, FinalState(4), h)
        assert v.oversold == 0 and v.double_sold == 1 and v.lost_updates == 1
        assert kinds(v.anomalies) == ["double_sold", "lost_updates"]

    def test_store_disagrees_with_receipts(self) -> None:
        """The store says 3 sold but only 1 receipt exists: sales nobody holds a receipt for."""
        h = History([bought(1, 3, 0.1, 0.2)])
        v = verify(3, FinalState(0), h)
        assert v.unreceipted == 2 and v.lost_updates == 0 and v.sold == 1
        assert kinds(v.anomalies) == ["unreceipted"]
        assert "2 sales nobody holds a receipt for" in stories(v.anomalies[0])[0]

    def test_store_forgot_every_sale(self) -> None:
        """Receipts without any change in the store are all lost updates."""
        v = verify(2, FinalState(2), History([bought(1, 2, 0.1, 0.2), bought(2, 1, 0.3, 0.4)]))
        assert v.lost_updates == 2 and v.double_sold == 0 and v.oversold == 0

    def test_undersold(self) -> None:
        """A buyer turned away while stock is left: undersold = min(remaining, refused)."""
        h = History([refused(1, 0), refused(2, 0), refused(3, 0)])
        v = verify(2, FinalState(2), h)
        assert v.undersold == 2
        assert kinds(v.anomalies) == ["undersold"]
        assert "buyers 1, 2 and 3 found none" in stories(v.anomalies[0])[0]

    def test_errors(self) -> None:
        """A failed attempt is an anomaly of the run, named with its buyer and message."""
        failed = Attempt(4, 0, Outcome.ERROR, error="OSError: disk full")
        v = verify(1, FinalState(1), History([failed]))
        assert v.errors == 1 and kinds(v.anomalies) == ["errors"]
        assert stories(v.anomalies[0]) == ["buyer 4, attempt 1: OSError: disk full"]

    def test_stuck(self) -> None:
        """A buyer that never finished is reported, with why."""
        h = History([bought(1, 1, 0.1, 0.2)], [BuyerEnd(1, BuyerStatus.DONE), BuyerEnd(2, BuyerStatus.STUCK, "killed")])
        v = verify(1, FinalState(0), h)
        assert v.stuck == 1 and kinds(v.anomalies) == ["stuck"]
        assert stories(v.anomalies[0]) == ["buyer 2 never finished: killed"]

    def test_many_double_sales_are_summarised(self) -> None:
        """Stories stop after a few tickets; the count carries the rest."""
        h = History([bought(b, t, 0.1, 0.2) for t in range(1, 9) for b in (1, 2)])
        v = verify(8, FinalState(0), h)
        assert v.double_sold == 8
        assert stories(v.anomalies[1])[-1] == "... and 3 more tickets sold more than once"

    def test_sql_words(self) -> None:
        """On SQL stores the story speaks of free tickets, not counts."""
        a = Attempt(1, 0, Outcome.OK, ticket=9, read=9, wrote=9, t_read=0.1, t_write=0.3)
        b = Attempt(2, 0, Outcome.OK, ticket=9, read=9, wrote=9, t_read=0.2, t_write=0.4)
        v = verify(1, FinalState(0), History([a, b]), StoreKind.SQLITE)
        assert stories(v.anomalies[1]) == [
            "buyers 1 and 2 both saw ticket #9 free before either took it; both took it: sold twice"
        ]
