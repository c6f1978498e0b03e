"""Threads meet where the counters say, compiled and in Python, and give up on abort."""

import threading

import numpy as np
import pytest
from numba import njit

from nndl_core.kernels import sync
from nndl_core.kernels.sync import (
    ABORT,
    STRIDE,
    abort,
    make_flags,
    peek,
    publish,
    relax,
)


def wait_for(flags, i, value):
    """A wait as the kernels write one: until counter ``i`` reaches ``value``.

    False if a thread aborted first. Compiled (``njit``), ``peek`` must load
    the counter afresh on every turn, or the loop would never see the store.
    """
    spins = 0
    while peek(flags, i) < value:
        if peek(flags, ABORT) != 0:
            return False
        spins = relax(spins)
    return True


def _make_lockstep(wait):
    """The lock-step rounds below, waiting with ``wait`` (Python or compiled)."""

    def lockstep(flags, part, n_parts, rounds, log):
        """Each round: write this part's entry of the round, publish, wait for all.

        ``log[r, p]`` is what part ``p`` saw of every part's entry of round r
        after the barrier: the sum of the entries, which is only right if each
        part's write was visible once its counter said so.
        """
        for r in range(rounds):
            log[r, part] = 0
            log[rounds + r, part] = r * n_parts + part  # this part's entry
            publish(flags, part, r + 1)
            for other in range(n_parts):
                if other != part and not wait(flags, other, r + 1):
                    return False
            total = 0
            for other in range(n_parts):
                total += log[rounds + r, other]
            log[r, part] = total
        return True

    return lockstep


_wait_compiled = njit(nogil=True)(wait_for)
_lockstep = _make_lockstep(wait_for)
_lockstep_compiled = njit(nogil=True)(_make_lockstep(_wait_compiled))


def _run(function, n_parts, rounds):
    flags = make_flags(n_parts)
    log = np.zeros((2 * rounds, n_parts), dtype=np.int64)
    results = [None] * n_parts

    def work(part):
        results[part] = function(flags, part, n_parts, rounds, log)

    threads = [threading.Thread(target=work, args=(p,)) for p in range(1, n_parts)]
    for thread in threads:
        thread.start()
    work(0)
    for thread in threads:
        thread.join(timeout=60)
    return results, log[:rounds]


@pytest.mark.parametrize("function", [_lockstep, _lockstep_compiled])
@pytest.mark.parametrize("n_parts", [2, 3])
def test_every_part_sees_every_write_of_the_round(function, n_parts):
    rounds = 2000 if function is _lockstep_compiled else 50
    results, log = _run(function, n_parts, rounds)
    assert results == [True] * n_parts
    expected = np.arange(rounds)[:, None] * n_parts**2 + sum(range(n_parts))
    np.testing.assert_array_equal(log, np.broadcast_to(expected, log.shape))


@pytest.mark.parametrize("function", [wait_for, _wait_compiled])
def test_wait_returns_at_once_when_the_counter_is_there_and_gives_up_on_abort(
    function,
):
    flags = make_flags(2)
    publish(flags, 1, 5)
    assert flags[STRIDE] == 5  # part 1's counter has a cache line to itself
    assert function(flags, 1, 5)
    abort(flags)
    assert flags[-STRIDE] == 1
    assert not function(flags, 1, 6)  # would wait forever without the abort
    assert not function(flags, 0, 1)


def test_an_aborted_thread_releases_the_one_waiting_for_it():
    flags = make_flags(2)
    released = []
    waiter = threading.Thread(
        target=lambda: released.append(_wait_compiled(flags, 1, 1))
    )
    waiter.start()
    abort(flags)
    waiter.join(timeout=60)
    assert released == [False]


@njit
def _publish_compiled(flags, part, value):
    publish(flags, part, value)


@njit
def _abort_compiled(flags):
    abort(flags)


def test_compiled_publish_and_abort_use_the_python_slots():
    flags = make_flags(3)
    _publish_compiled(flags, 2, 7)
    assert flags[2 * STRIDE] == 7 and flags.sum() == 7
    _abort_compiled(flags)
    assert flags[-STRIDE] == 1 and flags.sum() == 8
    assert sync.ABORT == -1
