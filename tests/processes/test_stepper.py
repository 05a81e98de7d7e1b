"""Step mode: the parent holds a barrier until the go-ahead (a line typed, or N ms), says what comes next
first, and a `q` stops the run as Ctrl-C does. Checked against a pipe for the keyboard and the gate
recorder of test_schedule; the whole command on a terminal is in tests/test_terminal.py."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from booking.kit.points import AFTER_READ
from booking.processes import signals
from booking.processes.schedule import LockstepBarrier
from booking.processes.stepper import NO_STEPS, Keys, Paced
from tests.processes.test_schedule import Recorder


class Told:
    def __init__(self) -> None:
        self.said: list[tuple[str, list[int], str]] = []

    def __call__(self, point: str, buyers: list[int], why: str) -> None:
        self.said.append((point, buyers, why))


@pytest.fixture
def keys() -> Iterator[tuple[int, int]]:
    """A keyboard: what the test writes to the second end, the stepper reads from the first."""
    read, write = os.pipe()
    yield read, write
    os.close(read)
    os.close(write)


def test_not_stepping_opens_at_once() -> None:
    gates = Recorder()
    barrier = LockstepBarrier(gates, {1, 2})
    assert barrier.stepper is NO_STEPS
    barrier.arrive(1, AFTER_READ)
    barrier.arrive(2, AFTER_READ)
    assert gates.take() == [1, 2]


def test_enter_opens_the_barrier_after_saying_what_comes(keys: tuple[int, int]) -> None:
    told, gates = Told(), Recorder()
    barrier = LockstepBarrier(gates, {1, 2})
    barrier.stepper = Keys(told, keys[0])
    os.write(keys[1], b"\n")  # typed ahead: read only once the barrier is held
    barrier.arrive(1, AFTER_READ)
    assert told.said == [] and gates.take() == []  # not every buyer is there: nothing to hold yet
    with signals.deferred():
        barrier.arrive(2, AFTER_READ)
    assert told.said == [(AFTER_READ, [1, 2], "all")] and gates.take() == [1, 2]
    assert barrier.opened[0][1:] == (AFTER_READ, [1, 2], "all")


def test_q_stops_the_run_as_ctrl_c_does(keys: tuple[int, int]) -> None:
    """`q`: SIGINT is raised in this process (the crowd then stops every child), the gate stays shut, and
    nothing more is held or said."""
    told, gates = Told(), Recorder()
    barrier = LockstepBarrier(gates, {1, 2, 3})
    barrier.stepper = Keys(told, keys[0])
    os.write(keys[1], b"q\n")
    with signals.deferred():
        barrier.arrive(1, AFTER_READ)
        barrier.arrive(2, AFTER_READ)
        barrier.arrive(3, AFTER_READ)
        assert signals.pending() == signal.SIGINT
        barrier.leave(3)  # the barrier would open for the other two: stopped, it does not
    assert gates.take() == [] and barrier.opened == [] and len(told.said) == 1


def test_the_end_of_input_stops_too(keys: tuple[int, int]) -> None:
    read, write = os.pipe()
    os.close(write)  # Ctrl-D: nothing more will come
    try:
        with signals.deferred():
            assert Keys(Told(), read).hold(AFTER_READ, [1], "all") is False
            assert signals.pending() == signal.SIGINT
    finally:
        os.close(read)


def test_a_signal_ends_the_hold(keys: tuple[int, int]) -> None:
    """Ctrl-C while held: the hold ends at once, without a key, and the gate stays shut."""
    told = Told()
    with signals.deferred():
        signal.raise_signal(signal.SIGTERM)
        assert Keys(told, keys[0]).hold(AFTER_READ, [1, 2], "all") is False
        assert Paced(60_000, told).hold(AFTER_READ, [1, 2], "all") is False
    assert told.said == []


def test_paced_goes_on_by_itself() -> None:
    told, gates = Told(), Recorder()
    barrier = LockstepBarrier(gates, {1})
    barrier.stepper = Paced(1, told)
    with signals.deferred():
        barrier.arrive(1, AFTER_READ)
    assert told.said == [(AFTER_READ, [1], "all")] and gates.take() == [1]
