"""The statistics behind `booking compare`, against values worked out by hand."""

from __future__ import annotations

import pytest

from booking.stats import jain, mean_sd, percentile, wilson


class TestWilson:
    def test_zero_of_five(self) -> None:
        """0 anomalies in 5 trials still leaves up to ~43% plausible."""
        low, high = wilson(0, 5)
        assert low == 0.0 and high == pytest.approx(0.4345, abs=1e-4)

    def test_five_of_five(self) -> None:
        low, high = wilson(5, 5)
        assert low == pytest.approx(0.5655, abs=1e-4) and high == 1.0

    def test_half(self) -> None:
        low, high = wilson(10, 20)
        assert (low, high) == (pytest.approx(0.2993, abs=1e-4), pytest.approx(0.7007, abs=1e-4))


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 99) == 5
    assert percentile([], 50) is None
    assert percentile(list(range(101)), 95) == 95


def test_jain() -> None:
    assert jain([3, 3, 3]) == 1.0
    assert jain([4, 0, 0, 0]) == 0.25
    assert jain([0, 0]) == 1.0
    assert jain([]) is None


def test_mean_sd() -> None:
    assert mean_sd([2.0, 4.0]) == (3.0, pytest.approx(1.41421, abs=1e-5))
    assert mean_sd([1.0]) == (1.0, 0.0)
    assert mean_sd([]) == (None, None)
