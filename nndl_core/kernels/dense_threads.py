"""Plain SGD's epoch on one thread or two, bit for bit the same (Numba kernels).

Used by :func:`nndl_core.kernels.dense_sgd.train_epoch` for plain SGD (no
momentum); ``tests/kernels/test_dense_threads.py`` checks that two threads
give one thread's bits, and ``tests/kernels/test_dense_sgd.py`` that the
epoch equals the readable references.

Two threads
-----------
Plain SGD's epoch (:func:`train_epoch_part`) runs on both cores of a
two-core machine (:func:`default_threads`; ``NNDL_THREADS=1`` for one).
Most of its work is the first layer: summing, for each example, the rows of
weights of its nonzero pixels, and stepping those rows. That work is split
by pixel: :func:`dense.to_sparse` finds the pixel that divides the training
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

Versions of the plain-SGD epoch
-------------------------------
Seconds per epoch of [784, 30, 10] on the 50,000 MNIST training images,
mini-batch 10, on the project's 2-core machine (shared with other jobs while
measured; the NumPy reference took 0.50 there):

1. One example at a time, gradient accumulated per row: 0.27.
2. A mini-batch at a time, inputs regrouped by neuron (CSC) for forward and
   backward, one row per pass over ``z``: 0.26.
3. Four rows per pass over ``z``, rows padded to 8, gradient summed per
   mini-batch (CSC), then a separate update of the touched rows: 0.23.
4. Gradient applied per example without a ``nabla`` buffer, two images
   scanned per pass for their nonzero pixels, branch-free sigmoid:
   0.17-0.18.
5. The data set's nonzero pixels listed once per training run
   (``dense.to_sparse``, uint32 indices: no negative-index checks), L2's
   decay kept as a per-layer scale. Against version 4 in the same process,
   epochs alternating, CPU seconds per epoch (median of 7, with the machine
   at a load average of 3.3-3.7 from other jobs, so both slower than above):
   0.229 -> 0.186 (0.84x), bit-identical results; chapter 3's [784, 100,
   10] with cross-entropy and L2 (lmbda = 5, eta = 0.5): 0.523 -> 0.433
   (0.80x), results within 1e-13. Listing the pixels takes 0.1-0.3 s once.
6. Explicit vectors (``kernels/simd.py``): each example's
   weighted inputs summed in vector registers, its delta held in registers
   while the rows of its nonzero inputs are updated, fused multiply-adds,
   buffers that start on a cache line; a sigmoid that vectorizes
   (``kernels/elementwise.py``, and NumPy's error model, so that a division
   needs no zero test) over whole padded rows; BP2 as a sum of rows of the
   transposed weights; the next mini-batch's pixels prefetched; the
   per-mini-batch accessors inlined. Against version 5 in the same process,
   epochs alternating, CPU seconds per epoch (median of 15; load average
   0.9): 0.178 -> 0.104 (0.58x); chapter 3's network (median of 9): 0.454
   -> 0.285 (0.63x). The steps, measured the same way, one against the
   previous: vectors 0.75x, error model 0.96x, vectorized exp 0.96x, BP2
   0.96x, aligned buffers 0.87x, inlined accessors 0.95x, whole-row
   activations 0.96x; prefetching saves 12% (0.88x without it).

7. The epoch looks up where its images' pixels lie once, in
   its shuffled order (``dense.input_rows``), instead of ten random reads
   of ``indptr`` per mini-batch, and asks for the next mini-batch's pixels
   in two halves (before the forward pass and before the step: all at
   once, the prefetches waited for a full queue of outstanding misses);
   the exponential's Horner steps are fused multiply-adds
   (``elementwise.fma``: a layer's sigmoids 0.59x the time). Against
   version 6, same process, epochs alternating: 0.948x (median of 21) and
   0.966x (median of 25: 0.1016 -> 0.0981 s; the machine's speed drifted
   by 30% within the hour); chapter 3's network 0.985x (median of 11).
8. (this file) Two threads, as above. In fresh processes taking turns
   (2-core machine, nothing else running), chapter 1's network: one thread
   0.086-0.091 s, two threads 0.066-0.068 s (0.77x); chapter 3's [784,
   100, 10] with L2: 0.25 -> 0.17 s (0.68x). With a CPU-bound job on one
   core: one thread 0.085, two 0.087-0.097; with one on each core, one
   thread 0.14, two 0.086-0.17. Summing the halves separately on one
   thread costs nothing measurable (version 7's 0.085 s in the same
   rounds). The helper waits for its next task spinning, then yielding its
   core, then sleeping (:func:`sync.relax`), so that a benched helper does
   not compete for a core with thread 0.

   Tried first and replaced: both threads running the whole network on
   copies of the upper layers and meeting once per mini-batch (a barrier
   of two counters), each summing and stepping its own half (or its own
   columns) of the first layer. As fast on an idle machine (0.064-0.066
   s), but a thread the operating system deschedules stalls the other at
   every mini-batch: with one busy core, 0.13 s; with two, 0.4-2.3 s.
   Splitting the first layer by columns (neurons) instead of rows saves
   less for chapter 1's 30 neurons (0.91x): a row's fixed cost (its index,
   its value, its address) does not shrink with its width.

Tried and left out: regrouping each mini-batch's inputs by pixel (a
compressed-column listing per mini-batch, so that a row of weights is read
and written once per mini-batch rather than once per example: 382 distinct
pixels instead of 1,500 for ten images). Listing costs about a third of an
epoch, and the regrouped forward pass, which must then load and store each
example's sums for every pixel, ran 1.8x slower than summing in registers;
the regrouped update was at best 15% faster; a register-tiled variant
(five examples' sums in registers, zeros for absent pixels) lost to the
listing as well. Also: four or two rows per pass in the update (no
faster); even and odd rows into two pairs of sums for narrow layers (7%
slower); prefetching the rows of weights (slower); prefetching two
mini-batches ahead instead of one, or with another cache hint (no
different); uint16 pixel indices (no different); passing start and stop
instead of slicing the listed inputs (no different); Numba-inlining the
per-example helpers as well (1.6-1.8x slower; the compiled loops then
update reference counts for every example); ``_sum_rows`` looping over a
row's blocks itself (5% slower); kernels that loop over a mini-batch's
examples themselves, so that a mini-batch makes a few calls instead of
ten per layer (no faster); arrays without a reference count for the
epoch (the atomic count updates left the profile, the epoch was no
faster); the first layer's weights stored as four column blocks of (784,
8), so that a mini-batch's rows of one block fit the first-level cache
(forward pass 1.1-1.7x slower: four times the index loads); merging two
examples' sorted pixel lists in the update, so that a pixel both have is
loaded and stored once (24% fewer rows, 1.5x slower: each step of the
merge waits for the last); summing every other example's rows in reverse
order, to start where the last example left the cache (no different);
listing the nonzero pixels on both cores (``prange``): on a busy two-core machine
every parallel region waits for a descheduled thread, and the epoch took
five times longer. What is left: for chapter 1's network, about a third
of an epoch is the update of the first layer's rows (each a load, fused
multiply-add and store of four vectors, from the second-level cache: the
weights, 200 KB, do not fit the first), a quarter the first layer's
forward pass, and the rest the second layer, the neurons and the
mini-batch bookkeeping (measured by leaving each part out).
"""

import os
import threading
from collections import namedtuple

import numpy as np
from numba import njit

from . import sync
from ._options import NJIT_OPTIONS
from .dense import (
    batch_rows,
    biases,
    block,
    finish_forward,
    forward_hidden,
    input_rows,
    make_workspace,
    weighted_sums,
    weights_t,
)
from .dense_steps import (
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
from .simd import aligned_zeros
from .sync import ABORT, SPINS, claim, peek, publish, relax

__all__ = [
    "BENCH",
    "MAX_THREADS",
    "N_COUNTERS",
    "Shared",
    "default_threads",
    "parts",
    "run_parts",
    "split_rows",
    "train_epoch_part",
]


@njit(**NJIT_OPTIONS)
def _add(a, b, out):
    """``out = a + b`` for matrices of one shape, without a temporary."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = a[i, j] + b[i, j]


@njit(**NJIT_OPTIONS)
def split_rows(listed, middles, order):
    """The two halves (pixels ``< split`` and ``>= split``) of an epoch's listing.

    ``listed`` is :func:`dense.input_rows` for ``order``; ``middles`` is
    :class:`dense.SparseImages`' ``middles``. Returns two listings of the
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
    (:func:`dense.weighted_sums`); odd ones apply the mini-batch's step to
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
    its halves meet (:class:`dense.SparseImages`).

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

    ``images`` is a :class:`dense.SparseImages`; ``args`` are
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
