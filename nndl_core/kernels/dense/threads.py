"""Plain SGD's epoch on one thread or two, bit for bit the same (Numba kernels).

Used by :func:`nndl_core.kernels.dense.epoch.train_epoch` for plain SGD (no
momentum); ``tests/kernels/dense/test_threads.py`` checks that two threads
give one thread's bits, and ``tests/kernels/dense/test_epoch.py`` that the
epoch equals the readable references.

Two threads
-----------
Plain SGD's epoch (:func:`train_epoch_part`) runs on both cores of a
two-core machine (:func:`default_threads`; ``NNDL_THREADS=1`` for one).
Most of its work is the first layer: summing, for each example, the rows of
weights of its nonzero pixels, and stepping those rows. That work is split
by pixel: :func:`sparse.to_sparse` finds the pixel that divides the training
set's nonzero pixels into two halves of the same size (407 for MNIST: the
top and the bottom of the digits) and marks where each image's pixels cross
it. Each half of the rows gets two tasks per mini-batch, its part of the
weighted inputs and its step, run in that order. Thread 0 runs half 0's
tasks and everything else: it adds the two halves' sums, runs the rest of
the network, and hands out the first layer's delta. A helper thread claims
half 1's tasks; thread 0 runs any of them that the helper has not claimed
by the time it needs it. When thread 0 finds itself waiting long for a task
the helper has claimed, the operating system has descheduled the helper
(another job wants the core): thread 0 *benches* it for the next 64
mini-batches (twice as many each time after) and runs their tasks alone,
so that the epoch runs at about one thread's speed instead of stalling at
every mini-batch, and a helper held up once by a short interruption soon
takes its share again. The threads coordinate through atomic
counters (:mod:`~nndl_core.kernels.sync`), not a parallel region per
mini-batch (5,000 an epoch). On one thread the same tasks run in the same
order, and the two halves are summed separately there too: the trained
network is the same, bit for bit, on one thread or two.

Version
-------
This is version 8 of the plain-SGD epoch (two threads); versions 1-7, their
timings, and what was tried and left out are told on the book's page
``book/engineering.md`` ("How the kernels got here").
"""

import os
import threading
from collections import namedtuple

import numpy as np
from numba import njit

from .. import sync
from .._options import NJIT_OPTIONS
from ..simd import aligned_zeros
from ..sync import ABORT, SPINS, claim, peek, publish, relax
from .layer import finish_forward, weighted_sums
from .layout import biases, block, make_workspace, weights_t
from .passes import forward_hidden
from .sparse import batch_rows, input_rows
from .steps import (
    _decay_scale,
    _penalize_rows,
    _rescale,
    _step_biases,
    _step_weights,
    backpropagate_upper_layers,
    one_hot_batch,
    prefetch_next_batch,
    step_upper_layers,
)

__all__ = ["MAX_THREADS", "default_threads", "parts", "train_epoch_part"]


@njit(**NJIT_OPTIONS)
def _add(a, b, out):
    """``out = a + b`` for matrices of one shape, without a temporary."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = a[i, j] + b[i, j]


@njit(**NJIT_OPTIONS)
def split_rows(listed, middles, order):
    """The two halves (pixels ``< split`` and ``>= split``) of an epoch's listing.

    ``listed`` is :func:`sparse.input_rows` for ``order``; ``middles`` is
    :class:`sparse.SparseImages`' ``middles``. Returns two listings of the
    same form, ``(starts, middles[order], ...)`` and ``(middles[order],
    stops, ...)``.
    """
    starts, stops, indices, values = listed
    middle = np.empty(order.shape[0], dtype=np.int64)
    for e in range(order.shape[0]):
        middle[e] = middles[order[e]]
    return (starts, middle, indices, values), (middle, stops, indices, values)


#: The counters of an epoch (``sync.make_flags(N_COUNTERS)``): counter
#: ``half`` is how many of that half's tasks have been claimed, ``DONE +
#: half`` how many are finished, ``READY`` how many mini-batches' deltas
#: thread 0 has handed out. ``BENCHED``: the helper claims no task of a
#: mini-batch before this one; ``BENCHINGS``: how often thread 0 has set it.
DONE, READY, BENCHED, BENCHINGS, N_COUNTERS = 2, 4, 5, 6, 7
#: Mini-batches the helper sits out the first time it is benched; each
#: time after, twice as many.
BENCH = 64

Shared = namedtuple("Shared", ["sums", "delta", "step"])
Shared.__doc__ = """What the threads of an epoch hand each other (``train_epoch_part``).

``sums`` (2, capacity, widths[1]): each half's weighted inputs of the
first layer; ``delta`` (capacity, widths[1]): the first hidden layer's
delta; ``step`` (2,): the stored weights' step ``eta / (m * scale)`` and
the factor L2's scale folds in (:func:`_decay_scale`). One of each serves
every mini-batch in turn: a half's tasks run in order, so the next
mini-batch's sums are written only after its step has read this one's delta.
"""


@njit(**NJIT_OPTIONS)
def _run_task(task, half, halves, w0, split, mini_batch_size, rule, shared):
    """Task ``task`` of half ``half``: mini-batch ``task // 2``'s sums or step.

    Even tasks sum the half's rows of the first layer into ``shared.sums``
    (:func:`layer.weighted_sums`); odd ones apply the mini-batch's step to
    them (:func:`_penalize_rows`, :func:`_step_weights`). Each first asks
    for half of the next mini-batch's pixels.
    """
    batch = task // 2
    n = halves[0][0].shape[0]
    start = batch * mini_batch_size
    m = min(start + mini_batch_size, n) - start
    listed = halves[half]
    inputs = batch_rows(listed, start, start + m)
    prefetch_next_batch(listed, batch, mini_batch_size, task % 2)
    if task % 2 == 0:
        weighted_sums(w0, inputs, shared.sums[half, :m])
    else:
        rows = w0[:split] if half == 0 else w0[split:]
        _penalize_rows(rows, shared.step[1], rule)
        _step_weights(inputs, shared.delta[:m], w0, shared.step[0])


@njit(**NJIT_OPTIONS)
def _complete(flags, half, target, helper, job):
    """Run half ``half``'s tasks, or wait while another thread runs one, until
    ``target`` of them are done.

    A task is run by whichever thread claims it first (``sync.claim``), once
    the one before it is done and, for a step, once its delta is ready.
    When thread 0 (``helper`` False) has waited ``sync.SPINS`` turns for a
    task the helper claimed, the helper was descheduled: thread 0 benches it
    (:func:`_bench`) and runs the next mini-batches' tasks alone. Returns how
    many tasks this call ran, or -1 if a thread aborted.
    """
    spins = ran = 0
    while True:
        done = peek(flags, DONE + half)
        if done >= target:
            return ran
        runnable = done % 2 == 0 or peek(flags, READY) > done // 2
        if helper and done // 2 < peek(flags, BENCHED):
            runnable = False
        if runnable and peek(flags, half) == done and claim(flags, half, done):
            _run_task(done, half, *job)
            publish(flags, DONE + half, done + 1)
            spins, ran = 0, ran + 1
        elif peek(flags, ABORT) != 0:
            return -1
        else:
            if not helper and spins == SPINS and peek(flags, half) > done:
                _bench(flags, done // 2)  # the helper sits on a claimed task
            spins = relax(spins)


@njit(**NJIT_OPTIONS)
def _bench(flags, batch):
    """Keep the helper from claiming tasks of the next mini-batches.

    ``BENCH`` mini-batches after ``batch`` the first time, twice as many
    each time after: on a machine whose cores are busy with other jobs the
    helper soon sits out the rest of the epoch (and thread 0 then runs at
    one thread's speed, instead of waiting for it every few mini-batches),
    while a helper held up once by a short interruption is back soon.
    """
    times = peek(flags, BENCHINGS)
    publish(flags, BENCHINGS, times + 1)
    publish(flags, BENCHED, batch + 1 + BENCH * 2 ** min(times, 40))


@njit(**NJIT_OPTIONS)
def train_epoch_part(
    images,
    middles,
    split,
    labels,
    order,
    mini_batch_size,
    rule,
    masks,
    params,
    layout,
    part,
    flags,
    shared,
):
    """Thread ``part``'s share of one epoch of plain SGD, in place on ``params``.

    Mini-batch ``k`` is ``order[k * mini_batch_size : (k + 1) *
    mini_batch_size]`` (the last may be shorter), with dropout masks
    ``masks[k]`` (none when ``masks`` has no rows); ``images`` is the data
    set's ``(indptr, indices, values)`` and ``middles``, ``split`` say where
    its halves meet (:class:`sparse.SparseImages`).

    The first layer, most of the work, is split in two by its input pixels:
    the weighted inputs are summed over the pixels ``< split`` and over
    those ``>= split``, then added, and each half's rows of weights take
    their own step. For each mini-batch that makes four tasks, a sum and a
    step per half, run by :func:`_complete`. Thread 0 (``part == 0``) does
    everything else: it adds the sums, runs the rest of the network and
    hands out the first layer's delta (``shared``, :class:`Shared`). It
    also runs any task the helper (``part == 1``) has not claimed by the
    time it is needed, and benches a helper that the operating system has
    descheduled (:func:`_bench`; see the module docstring). Each task is the same
    operations in the same order whoever runs it, so the trained network is
    the same, bit for bit, on one thread or two. ``flags`` holds
    ``N_COUNTERS`` counters (:mod:`~nndl_core.kernels.sync`).

    Returns how many of the ``4 * n_batches`` tasks this thread ran, or -1
    if a thread failed (``sync.abort``) and this one stopped waiting.
    """
    n = order.shape[0]
    n_tasks = 2 * ((n + mini_batch_size - 1) // mini_batch_size)
    w0 = weights_t(params, layout, 0)
    listed = input_rows(images, order)  # the epoch's examples, in order
    halves = split_rows(listed, middles, order)
    job = (halves, w0, split, mini_batch_size, rule, shared)
    if part != 0:
        return _complete(flags, 1, n_tasks, True, job)
    capacity = max(1, min(mini_batch_size, n))
    workspace = make_workspace(layout, capacity)
    b0 = biases(params, layout, 0)
    y = np.zeros((capacity, layout.sizes[-1]))
    ones = np.ones(max(layout.node_offsets[-1], 1))  # no dropout
    ran = 0
    for batch in range(n_tasks // 2):
        start = batch * mini_batch_size
        m = min(start + mini_batch_size, n) - start
        one_hot_batch(labels, order, start, y[:m])
        for half in range(2):
            ran += _complete(flags, half, 2 * batch + 1, False, job)
        if peek(flags, ABORT) != 0:
            return -1
        z = block(workspace.activations, layout, 1, m)
        _add(shared.sums[0, :m], shared.sums[1, :m], z)
        finish_forward(
            workspace.scales[0], b0, layout.activations[0], layout.sizes[1], z
        )
        mask = masks[batch] if masks.shape[0] else ones
        forward_hidden(params, layout, mask, m, workspace)
        backpropagate_upper_layers(params, layout, mask, y[:m], rule, workspace)
        delta = block(workspace.deltas, layout, 1, m)
        shared.delta[:m] = delta
        shared.step[1] = _decay_scale(workspace.scales, 0, rule)
        shared.step[0] = rule.eta / m / workspace.scales[0]
        publish(flags, READY, batch + 1)  # the helper may step its half now
        _step_biases(b0, delta, rule.eta / m)
        step_upper_layers(params, layout, m, rule, workspace)
        ran += _complete(flags, 0, 2 * batch + 2, False, job)  # half 0's step
    ran += _complete(flags, 1, n_tasks, False, job)
    if peek(flags, ABORT) != 0:
        return -1
    for l in range(layout.sizes.shape[0] - 1):  # L2's scales, into the weights
        if workspace.scales[l] != 1.0:
            _rescale(weights_t(params, layout, l), workspace.scales[l])
    return ran


# --- Python: the threads ------------------------------------------------------


#: The most threads an epoch uses: one per half of the first layer's rows.
MAX_THREADS = 2


def default_threads():
    """Threads an epoch uses by default: ``$NNDL_THREADS``, else the cores
    this process may run on, at most :data:`MAX_THREADS`.

    >>> import os
    >>> default_threads() <= max(MAX_THREADS, int(os.environ.get("NNDL_THREADS", 1)))
    True
    """
    setting = os.environ.get("NNDL_THREADS", "").strip()
    if setting:
        try:
            threads = int(setting)
        except ValueError:
            threads = 0
        if threads < 1:
            raise ValueError(
                f"NNDL_THREADS must be a whole number of threads, at least 1; "
                f"got {setting!r}"
            )
        return threads
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, cores))


def parts(mu, threads=None):
    """How many threads an epoch runs on: 1 or 2.

    Plain SGD (``mu == 0``) shares the first layer's rows of weights out
    between two threads when ``threads`` (:func:`default_threads` if None)
    allows, whatever the network (:func:`train_epoch_part` always sums in two
    halves); momentum runs on one.
    """
    threads = default_threads() if threads is None else int(threads)
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    return 1 if mu != 0.0 else min(threads, MAX_THREADS)


def run_parts(n_threads, images, *args):
    """Run :func:`train_epoch_part` on ``n_threads`` threads (this one is part 0).

    ``images`` is a :class:`sparse.SparseImages`; ``args`` are
    ``train_epoch_part``'s from ``labels`` to ``layout``. A thread that
    raises tells the other to stop waiting (``sync.abort``), and its error
    is raised here once both have stopped.
    """
    flags = sync.make_flags(N_COUNTERS)
    order, mini_batch_size, layout = args[1], args[2], args[-1]
    capacity = max(1, min(mini_batch_size, len(order)))
    width = int(layout.widths[1])
    shared = Shared(
        sums=aligned_zeros(2 * capacity * width).reshape((2, capacity, width)),
        delta=aligned_zeros(capacity * width).reshape((capacity, width)),
        step=np.zeros(2),
    )
    arrays = (images.indptr, images.indices, images.values)
    split = int(images.split)
    errors, ran = [], [0] * n_threads

    def work(part):
        try:
            ran[part] = train_epoch_part(
                arrays, images.middles, split, *args, part, flags, shared
            )
        except BaseException as err:  # raised below, in the caller's thread
            errors.append(err)
            sync.abort(flags)

    helpers = [
        threading.Thread(target=work, args=(part,), name=f"nndl-epoch-{part}")
        for part in range(1, n_threads)
    ]
    for helper in helpers:
        helper.start()
    work(0)
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]
    return ran
