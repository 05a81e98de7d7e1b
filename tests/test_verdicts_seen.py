"""Verdicts from what was seen: a run that saw nothing to judge is never OK."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from booking.errors import unavailable
from booking.history import Attempt, BuyerEnd, BuyerStatus, History, Outcome
from booking.render.stories import unproved
from booking.run.result import VerifyResult
from booking.stores.base import FinalState
from booking.verdict.overlap import Unproved
from booking.verdict.verify import verify
from tests.helpers import unwritable


def sold_out(buyer: int) -> Attempt:
    return Attempt(buyer, 0, Outcome.SOLD_OUT, t_window=0.1, t_end=0.2)


class TestNothingSeen:
    def test_a_service_that_only_says_sold_out_with_no_stock_read_proves_nothing(self) -> None:
        """Every buyer was told "sold out" and the store was not read: INCONCLUSIVE, not OK sold 0."""
        v = verify(5, None, History([sold_out(b) for b in range(1, 5)]))
        assert not v.ok and v.word == "INCONCLUSIVE"
        assert v.inconclusive is not None and v.inconclusive.why is Unproved.NOTHING_SEEN
        assert "stock was not read" in (unproved(v.inconclusive) or "")

    def test_the_same_answers_with_the_stock_read_are_judged(self) -> None:
        """With the store read, sold out on a full stock is an anomaly (undersold), not a shrug."""
        v = verify(5, FinalState(5), History([sold_out(b) for b in range(1, 5)]))
        assert [a.kind for a in v.anomalies] == ["undersold"]


class TestTheEnvironmentFailed:
    def test_a_store_that_refuses_the_write_could_not_run(self, cli: Any, tmp_path: Path) -> None:
        """--keep on a db.json whose directory takes no new file (its claim file made before): every write
        is refused by the machine, so the run could not be carried out (exit 3), never "safe at a cost"."""
        (tmp_path / "db.json").write_text('{"count": 3}')
        (tmp_path / "db.json.in-use").write_text("")
        with unwritable(tmp_path):
            ran = cli("simulate", "--store", tmp_path / "db.json", "--keep", "--buyers", "3", "--json")
        assert ran.code == 3, ran.out + ran.err
        assert ran.json()["verdict"] == "COULD NOT RUN"

    def test_the_machine_refusing_a_file_is_the_environment(self) -> None:
        for code in (errno.EROFS, errno.ENOSPC, errno.EACCES):
            assert unavailable(OSError(code, os.strerror(code)))
        assert not unavailable(ValueError("the purchase code's own bug"))


class TestUnsafeStands:
    def test_a_broken_invariant_is_exit_1_even_when_buyers_were_stuck(self) -> None:
        """A run across hosts with one host killed: its buyers are stuck, the others double-sold. The
        verdict is the double sale (exit 1), not "could not run"."""
        sale = [Attempt(b, 0, Outcome.OK, ticket=1, read=1, wrote=0, t_read=0.1, t_write=0.3) for b in (1, 2)]
        ends = [BuyerEnd(3, BuyerStatus.STUCK, "host b died")]
        v = verify(1, FinalState(0), History(sale, ends=ends))
        assert v.unsafe and v.stuck == 1 and v.word == "UNSAFE"
        result = VerifyResult("db.json", v)
        assert result.exit_code == 1
