"""Numba kernels for a whole epoch of mini-batch SGD on a fully connected network.

Used by :meth:`nndl_core.network.Network.SGD` (chap1, chap2) and
:func:`nndl_core.trainer.train` (chap3, chap5) with ``backend="numba"``. One
compiled call runs an epoch: for each mini-batch, the forward pass and
backpropagation of :mod:`nndl_core.kernels.dense`, then the step. The tests
(``tests/kernels/test_dense_sgd.py``) check every option against the
readable references: ``Network.update_mini_batch`` for plain SGD with L2,
``regularization.sgd_step`` for L1, dropout and momentum.

Two ways to step
----------------
* Plain SGD (``mu = 0``), fused (:func:`dense_sgd_step`): the weight
  penalty first shrinks every weight (L2: ``w -> (1 - eta*lmbda/n) w``; L1:
  ``w -> w - eta (lmbda/n) sgn(w)``), then each example's gradient goes
  straight into the weights, ``w_t[k] -= (eta/m) a_k delta``, for its
  nonzero inputs ``k`` only; no gradient is stored.

  L2's shrinking would touch every weight in every step, about as much
  work as the rest of the step. Instead a layer's weights are kept as a
  scale times the stored ones, ``w = s * w_t.T`` (the trick of sparse SGD
  solvers such as Bottou's ``svmsgd``): shrinking multiplies ``s`` by the
  decay, a gradient step subtracts ``(eta/m)/s`` times the gradient from
  ``w_t``, and ``s`` is folded back into ``w_t`` when it leaves [0.5, 2]
  and at the end of the epoch. That only changes where rounding happens.
* Momentum (``mu > 0``, :func:`momentum_step`): every weight moves in
  every step, so the summed gradient is stored (``dense_backward``) and
  each parameter then does exactly what ``sgd_step`` does,
  ``v -> mu v - eta (nabla/m + penalty')``, ``w -> w + v``
  (:func:`momentum_epoch_kernel`, on one thread).

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

Dropout (inverted, as ``regularization.dropout_backprop``) needs one mask
per mini-batch and hidden layer. The kernels draw no random numbers:
:func:`dropout_masks` draws an epoch's masks in Python from the caller's
generator, in the reference's order, and the kernel reads row ``k`` for
mini-batch ``k``.

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

from . import dense, sync
from ._options import NJIT_INLINE_OPTIONS, NJIT_OPTIONS
from .dense import (
    _add_to_rows,
    backpropagate,
    batch_rows,
    biases,
    block,
    finish_forward,
    forward_hidden,
    hidden_input,
    input_rows,
    make_workspace,
    network_backward,
    network_forward,
    output_delta,
    prefetch_rows,
    weighted_sums,
    weights_t,
)
from .simd import aligned_zeros
from .sync import ABORT, SPINS, claim, peek, publish, relax

__all__ = [
    "BENCH",
    "N_COUNTERS",
    "PENALTIES",
    "Rule",
    "Shared",
    "MAX_THREADS",
    "default_threads",
    "dense_sgd_step",
    "dropout_masks",
    "momentum_epoch_kernel",
    "momentum_step",
    "parts",
    "split_rows",
    "backpropagate_upper_layers",
    "step_upper_layers",
    "train_epoch",
    "train_epoch_part",
]

#: Codes of the weight penalties (``regularization`` argument -> int).
PENALTIES = {"l2": 0, "l1": 1}
L2 = PENALTIES["l2"]

Rule = namedtuple("Rule", ["eta", "lmbda_n", "penalty", "decay", "mu", "cost"])
Rule.__doc__ = """How one mini-batch step changes the parameters.

``eta`` the learning rate; ``lmbda_n`` is ``lmbda / n`` and ``penalty`` its
kind (``PENALTIES``); ``decay = 1 - eta * lmbda / n`` as ``update_mini_batch``
computes it; ``mu`` the momentum coefficient (0: plain SGD); ``cost`` the
cost's code (``dense.COSTS``).
"""


# --- one layer's step -------------------------------------------------------------


@njit(**NJIT_OPTIONS)
def _rescale(w_t, scale):
    """``w_t *= scale``: fold a layer's scale into its stored weights."""
    for k in range(w_t.shape[0]):
        for j in range(w_t.shape[1]):
            w_t[k, j] = scale * w_t[k, j]


@njit(**NJIT_OPTIONS)
def _decay_scale(scales, l, rule):
    """L2's decay of weight layer ``l``'s scale; returns what to fold in now.

    ``w -> decay * w`` (``update_mini_batch``) changes only the layer's
    scale, ``scales[l] *= decay`` (the weights are ``scales[l] * w_t.T``,
    see the module docstring). When the scale leaves [0.5, 2] it is folded
    into the stored weights, so that it never underflows: this returns the
    factor to multiply them by (and the scale is 1 again); 1.0 otherwise,
    and always for L1.
    """
    if rule.penalty != L2:
        return 1.0
    scales[l] = rule.decay * scales[l]
    if 0.5 <= abs(scales[l]) <= 2.0:
        return 1.0
    fold, scales[l] = scales[l], 1.0
    return fold


@njit(**NJIT_OPTIONS)
def _penalize_rows(w_t, fold, rule):
    """The weight penalty's work on the stored rows ``w_t`` (all or some of a layer).

    L2: multiply by ``fold`` (:func:`_decay_scale`) unless it is 1. L1,
    ``w -> w - eta (lmbda/n) sgn(w)`` with sgn(0) = 0 (``sgd_step``), changes
    every weight. The padding columns are zero and stay zero.
    """
    if fold != 1.0:
        _rescale(w_t, fold)
    if rule.penalty != L2 and rule.lmbda_n != 0.0:
        for k in range(w_t.shape[0]):
            for j in range(w_t.shape[1]):
                w_t[k, j] = w_t[k, j] - rule.eta * (rule.lmbda_n * np.sign(w_t[k, j]))


@njit(**NJIT_OPTIONS)
def _step_biases(b, delta, step):
    """``b -= step * sum_e delta[e]``: BP3 summed over the mini-batch, then the step."""
    for j in range(b.shape[0]):
        nabla_b = 0.0
        for e in range(delta.shape[0]):
            nabla_b += delta[e, j]
        b[j] = b[j] - step * nabla_b


@njit(**NJIT_OPTIONS)
def _step_weights(inputs, delta, w_t, step_w):
    """``w_t[k] -= (step_w * a_k(e)) * delta(e)`` for each example's nonzero inputs."""
    starts, stops, indices, values = inputs
    for e in range(delta.shape[0]):
        rows = indices[starts[e] : stops[e]]  # slices: no negative-index checks
        a_in = values[starts[e] : stops[e]]
        _add_to_rows(w_t, rows, a_in, -step_w, delta[e])


@njit(**NJIT_OPTIONS)
def dense_sgd_step(inputs, delta, w_t, b, scales, l, step, rule):
    """``dense_backward`` folded into a plain SGD step of weight layer ``l``, in place.

    ``update_mini_batch`` computes ``w -> decay * w - step * sum_e a_k(e)
    delta(e)`` (``step = eta/m``). Here the penalty comes first
    (:func:`_decay_scale`, :func:`_penalize_rows`), then each example's term
    is subtracted as soon as it is known, ``w_t[k] -= (step / scale * a_k(e))
    * delta(e)`` (:func:`_step_weights`), so no gradient is stored and only
    the rows of nonzero inputs are touched. That rounds differently from
    subtracting the sum once; the tests find the two within 1e-14 of each
    other after several epochs. The biases ``b`` are summed first and not
    penalized, as in the reference.
    """
    _step_biases(b, delta, step)
    _penalize_rows(w_t, _decay_scale(scales, l, rule), rule)
    _step_weights(inputs, delta, w_t, step / scales[l])  # step itself without L2


@njit(**NJIT_OPTIONS)
def momentum_step(params, velocities, nabla, layout, m, rule):
    """``sgd_step``'s update of every layer from the summed gradient ``nabla``.

    For weights ``v -> mu v - eta (nabla/m + penalty')`` with ``penalty' =
    (lmbda/n) w`` (L2) or ``(lmbda/n) sgn(w)`` (L1); for biases ``v -> mu v -
    eta nabla/m``; then ``w -> w + v`` and ``b -> b + v``: the reference's
    operations in the reference's order. ``params``, ``velocities`` and
    ``nabla`` share the layout of :func:`dense.pack`; ``nabla`` is left zeroed
    for the next mini-batch.
    """
    mu, eta, lmbda_n = rule.mu, rule.eta, rule.lmbda_n
    for l in range(layout.sizes.shape[0] - 1):
        w, v, g = (
            weights_t(params, layout, l),
            weights_t(velocities, layout, l),
            weights_t(nabla, layout, l),
        )
        for k in range(w.shape[0]):
            w_k, v_k, g_k = w[k], v[k], g[k]
            if rule.penalty == L2:  # one loop per penalty: both vectorize
                for j in range(w_k.shape[0]):
                    v_k[j] = mu * v_k[j] - eta * (g_k[j] / m + lmbda_n * w_k[j])
                    w_k[j] = w_k[j] + v_k[j]
                    g_k[j] = 0.0
            else:
                for j in range(w_k.shape[0]):
                    reg = lmbda_n * np.sign(w_k[j])
                    v_k[j] = mu * v_k[j] - eta * (g_k[j] / m + reg)
                    w_k[j] = w_k[j] + v_k[j]
                    g_k[j] = 0.0
        b, v, g = (
            biases(params, layout, l),
            biases(velocities, layout, l),
            biases(nabla, layout, l),
        )
        for j in range(b.shape[0]):
            v[j] = mu * v[j] - eta * (g[j] / m)
            b[j] = b[j] + v[j]
            g[j] = 0.0


# --- the whole network, one mini-batch ----------------------------------------


@njit(**NJIT_OPTIONS)
def backpropagate_upper_layers(params, layout, mask, y, rule, workspace):
    """BP1, then BP2 down through every weight layer but the first.

    Leaves each neuron layer's delta in the workspace, down to neuron layer
    1's; every layer passes its delta back with the weights from before the
    step (:func:`step_upper_layers` steps them afterwards).
    """
    m = y.shape[0]
    output_delta(layout, y, rule.cost, workspace)
    for l in range(layout.sizes.shape[0] - 2, 0, -1):
        backpropagate(params, layout, mask, l, m, workspace)


@njit(**NJIT_OPTIONS)
def step_upper_layers(params, layout, m, rule, workspace):
    """Plain SGD's step of every weight layer but the first (their deltas known).

    Each layer's step touches only its own parameters, so the steps may come
    after all of BP2 (:func:`backpropagate_upper_layers`): the same numbers
    as stepping each layer right after it passed its delta back.
    """
    for l in range(layout.sizes.shape[0] - 2, 0, -1):
        dense_sgd_step(
            hidden_input(workspace, layout, l, m),
            block(workspace.deltas, layout, l + 1, m),
            weights_t(params, layout, l),
            biases(params, layout, l),
            workspace.scales,
            l,
            rule.eta / m,
            rule,
        )


@njit(**NJIT_INLINE_OPTIONS)
def _one_hot(labels, order, start, y):
    """``y[e]`` = the one-hot desired output of example ``order[start + e]``."""
    y[:] = 0.0
    for e in range(y.shape[0]):
        y[e, labels[order[start + e]]] = 1.0


@njit(**NJIT_INLINE_OPTIONS)
def _prefetch_next(listed, batch, mini_batch_size, half):
    """Ask for half ``half`` (0 or 1) of the next mini-batch's listed pixels.

    Asked for in two halves, before the forward pass and before the step:
    all at once, the requests filled the queue of outstanding misses.
    """
    start = (batch + 1) * mini_batch_size
    middle = start + mini_batch_size // 2
    if half == 0:
        prefetch_rows(batch_rows(listed, start, middle))
    else:
        prefetch_rows(batch_rows(listed, middle, start + mini_batch_size))


@njit(**NJIT_OPTIONS)
def _add(a, b, out):
    """``out = a + b`` for matrices of one shape, without a temporary."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = a[i, j] + b[i, j]


@njit(**NJIT_OPTIONS)
def momentum_epoch_kernel(
    images, labels, order, mini_batch_size, rule, masks, params, velocities, layout
):
    """One epoch of SGD with momentum over ``images[order]``, in place.

    Mini-batch ``k`` is ``order[k * mini_batch_size : (k + 1) *
    mini_batch_size]`` (the last may be shorter), with dropout masks
    ``masks[k]`` (none when ``masks`` has no rows). ``images`` is the data
    set's ``(indptr, indices, values)`` (:func:`dense.to_sparse`).
    ``params`` and ``velocities`` are updated in place. Every weight moves
    in every step, so each mini-batch's gradient is summed
    (``dense.network_backward``) and then applied (:func:`momentum_step`).
    Plain SGD is :func:`train_epoch_part`.
    """
    n = order.shape[0]
    capacity = max(1, min(mini_batch_size, n))  # a huge mini-batch needs no more
    workspace = make_workspace(layout, capacity)
    y = np.zeros((capacity, layout.sizes[-1]))
    nabla = aligned_zeros(params.shape[0])  # zeroed by momentum_step after use
    ones = np.ones(max(layout.node_offsets[-1], 1))  # no dropout
    listed = input_rows(images, order)  # the epoch's examples, in order
    for batch in range((n + mini_batch_size - 1) // mini_batch_size):
        start = batch * mini_batch_size
        m = min(start + mini_batch_size, n) - start
        _one_hot(labels, order, start, y[:m])
        _prefetch_next(listed, batch, mini_batch_size, 0)
        inputs = batch_rows(listed, start, start + m)
        mask = masks[batch] if masks.shape[0] else ones
        network_forward(params, layout, inputs, mask, workspace)
        _prefetch_next(listed, batch, mini_batch_size, 1)
        network_backward(
            params, nabla, layout, inputs, mask, y[:m], rule.cost, workspace
        )
        momentum_step(params, velocities, nabla, layout, m, rule)


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
    _prefetch_next(listed, batch, mini_batch_size, task % 2)
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
    for batch in range(n_tasks // 2 + 1):
        if batch > 0:  # the step of the mini-batch before
            ran += _complete(flags, 0, 2 * batch, False, job)
        if batch == n_tasks // 2:
            break
        start = batch * mini_batch_size
        m = min(start + mini_batch_size, n) - start
        _one_hot(labels, order, start, y[:m])
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
    ran += _complete(flags, 1, n_tasks, False, job)
    if peek(flags, ABORT) != 0:
        return -1
    for l in range(layout.sizes.shape[0] - 1):  # L2's scales, into the weights
        if workspace.scales[l] != 1.0:
            _rescale(weights_t(params, layout, l), workspace.scales[l])
    return ran


# --- Python wrappers -----------------------------------------------------------------


def dropout_masks(rng, n_batches, layout, p_drop):
    """An epoch's dropout masks, drawn as ``dropout_backprop`` draws them.

    ``dropout_backprop`` draws ``rng.random((n_l, 1))`` for each hidden layer
    in turn, once per mini-batch, and keeps a neuron when the number is
    ``>= p_drop``, scaling it by ``1/(1 - p_drop)``. A generator hands out
    the same numbers in one call of ``n_batches * sum(n_l)``, so row ``k``
    holds exactly the masks of mini-batch ``k``, laid out as ``Layout``
    says (padding entries 0).

    Returns
    -------
    ndarray of shape (n_batches, n_hidden_padded)
    """
    hidden = [int(n) for n in layout.sizes[1:-1]]
    draws = rng.random((n_batches, sum(hidden)))
    masks = np.zeros((n_batches, max(int(layout.node_offsets[-1]), 1)))
    first = 0
    for l, n_l in enumerate(hidden, start=1):
        start = layout.node_offsets[l]
        masks[:, start : start + n_l] = (draws[:, first : first + n_l] >= p_drop) / (
            1.0 - p_drop
        )
        first += n_l
    return masks


#: The most threads an epoch uses unless ``NNDL_THREADS`` says otherwise.
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
    return 1 if mu != 0.0 else min(threads, 2)


def _run_parts(n_threads, images, *args):
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


def _check(net, labels, order, n_samples, mini_batch_size, lmbda, mu, dropout):
    n_out = net.sizes[-1]
    if labels.shape != (n_samples,):
        raise ValueError(f"labels must have shape ({n_samples},), got {labels.shape}")
    if order.ndim != 1 or (
        len(order) and not 0 <= order.min() <= order.max() < n_samples
    ):
        raise ValueError(f"order must hold row indices in [0, {n_samples})")
    if n_samples and not 0 <= labels.min() <= labels.max() < n_out:
        raise ValueError(f"labels must be integers in [0, {n_out})")
    if int(mini_batch_size) < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    if lmbda < 0 or not 0 <= mu < 1 or not 0 <= dropout < 1:
        raise ValueError(
            f"need lmbda >= 0, 0 <= mu < 1 and 0 <= dropout < 1; got lmbda={lmbda}, "
            f"mu={mu}, dropout={dropout}"
        )


def train_epoch(
    net,
    images,
    labels,
    order,
    mini_batch_size,
    eta,
    lmbda=0.0,
    n=None,
    *,
    regularization="l2",
    mu=0.0,
    velocities=None,
    dropout=0.0,
    rng=None,
    threads=None,
):
    """One epoch of SGD on the compiled path, updating ``net`` in place.

    For each consecutive slice ``idx = order[k : k + mini_batch_size]`` it
    does what the NumPy path does with ``images[idx].T`` and
    ``one_hot(labels[idx])``: ``update_mini_batch`` for plain SGD (with L2
    weight decay ``w -> (1 - eta * lmbda / n) w - (eta / m) nabla_w``,
    biases not decayed), ``regularization.sgd_step`` with L1, dropout or
    momentum.

    Parameters
    ----------
    net : Network
        Its ``weights`` and ``biases`` are replaced by the trained ones.
    images : ndarray of shape (n_samples, n_in), or SparseImages
        The training images, or their :func:`dense.to_sparse` form (make it
        once per training run, not once per epoch).
    labels : ndarray of shape (n_samples,)
        Integers in ``[0, n_out)``.
    order : ndarray of shape (n_samples,)
        This epoch's shuffle, drawn by the caller (kernels draw no random numbers).
    mini_batch_size : int
    eta : float
        Learning rate.
    lmbda : float, default 0.0
        Regularization parameter; 0.0 turns it off.
    n : int, optional
        Training-set size in the penalty; defaults to ``n_samples``.
    regularization : {"l2", "l1"}
    mu : float, default 0.0
        Momentum coefficient; 0.0 is plain SGD.
    velocities : (list, list), optional
        Momentum's velocities for weights and biases, shaped like them (zeros
        if omitted); updated in place.
    dropout : float, default 0.0
        Probability of dropping each hidden neuron, one mask per mini-batch.
    rng : numpy.random.Generator, optional
        Draws the dropout masks (:func:`dropout_masks`); needed if dropout > 0.
    threads : int, optional
        Threads for plain SGD (:func:`train_epoch_part`); the result is the
        same for any number. Defaults to :func:`default_threads`.

    Returns
    -------
    list of int
        Plain SGD: how many of the first layer's tasks (a sum and a step per
        half of its rows and mini-batch) each thread ran, thread 0 first;
        with momentum, an empty list.
    """
    if not isinstance(images, dense.SparseImages):
        images = dense.to_sparse(images)
    n_samples, n_in = images.shape
    if n_in != net.sizes[0]:
        raise ValueError(
            f"images must have shape (n, {net.sizes[0]}), got {images.shape}"
        )
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    order = np.ascontiguousarray(order, dtype=np.int64)
    _check(net, labels, order, n_samples, mini_batch_size, lmbda, mu, dropout)
    if regularization not in PENALTIES:
        raise ValueError(f"regularization must be one of {sorted(PENALTIES)}")
    mini_batch_size = int(mini_batch_size)
    n = n_samples if n is None else n
    rule = Rule(
        eta=float(eta),
        lmbda_n=float(lmbda / n),
        penalty=PENALTIES[regularization],
        decay=float(1.0 - eta * lmbda / n) if regularization == "l2" else 1.0,
        mu=float(mu),
        cost=dense.cost_code(net),
    )
    layout, params = dense.pack(net)
    n_batches = -(-len(order) // mini_batch_size)
    if dropout > 0:
        if rng is None:
            raise ValueError("dropout needs rng, the generator that draws its masks")
        masks = dropout_masks(rng, n_batches, layout, dropout)
    else:
        masks = np.zeros((0, 1))
    if mu and velocities is None:
        velocities = (
            [np.zeros_like(w) for w in net.weights],
            [np.zeros_like(b) for b in net.biases],
        )
    flat_velocities = dense.pack_like(layout, *velocities) if mu else np.zeros(0)
    labels, order = dense.read_only(labels), dense.read_only(order)
    n_threads = parts(mu, threads)
    ran = []
    if mu:
        momentum_epoch_kernel(
            (images.indptr, images.indices, images.values),
            labels,
            order,
            mini_batch_size,
            rule,
            masks,
            params,
            flat_velocities,
            layout,
        )
    else:
        ran = _run_parts(
            n_threads,
            images,
            labels,
            order,
            mini_batch_size,
            rule,
            masks,
            params,
            layout,
        )
    net.weights, net.biases = dense.unpack(layout, params)
    if mu:
        v_w, v_b = dense.unpack(layout, flat_velocities)
        velocities[0][:], velocities[1][:] = v_w, v_b
    return ran
