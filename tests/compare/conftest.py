"""The comparisons these tests run measure the planned repetitions only, never extra ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from booking.compare import matrix


@pytest.fixture(scope="module", autouse=True)
def one_crowd_per_cell() -> Iterator[None]:
    """A cost cell whose interval is still wide gets more repetitions (within a 45 s budget): they only
    narrow a figure no test here reads, and on a loaded machine, where intervals are wide, they tripled
    the runs. Module-scoped, so the module's shared report is made the same way."""
    real = matrix.compare

    def compare(config: matrix.CompareConfig, progress: Any = None) -> Any:
        return real(dataclasses.replace(config, max_repetitions=config.repetitions), progress)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matrix, "compare", compare)
        yield
