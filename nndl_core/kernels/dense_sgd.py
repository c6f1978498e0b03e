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
  ``v -> mu v - eta (nabla/m + penalty')``, ``w -> w + v``.

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

7. (this file) The epoch looks up where its images' pixels lie once, in
   its shuffled order (``dense.input_rows``), instead of ten random reads
   of ``indptr`` per mini-batch, and asks for the next mini-batch's pixels
   in two halves (before the forward pass and before the step: all at
   once, the prefetches waited for a full queue of outstanding misses);
   the exponential's Horner steps are fused multiply-adds
   (``elementwise.fma``: a layer's sigmoids 0.59x the time). Against
   version 6, same process, epochs alternating: 0.948x (median of 21) and
   0.966x (median of 25: 0.1016 -> 0.0981 s; the machine's speed drifted
   by 30% within the hour); chapter 3's network 0.985x (median of 11).

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
from .sync import STRIDE, publish, wait_for

__all__ = [
    "PENALTIES",
    "Rule",
    "MAX_THREADS",
    "default_threads",
    "dense_sgd_step",
    "dropout_masks",
    "momentum_epoch_kernel",
    "momentum_step",
    "parts",
    "split_rows",
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
def _penalize(w_t, scales, l, rule):
    """Plain SGD's weight penalty for weight layer ``l``, in place.

    L2, ``w -> decay * w`` (``update_mini_batch``), changes only the
    layer's scale: ``scales[l] *= decay`` (the weights are ``scales[l] *
    w_t.T``, see the module docstring). When the scale leaves [0.5, 2] it is
    folded into the stored weights, so that it never underflows. L1, ``w ->
    w - eta (lmbda/n) sgn(w)`` with sgn(0) = 0 (``sgd_step``), changes every
    weight. The padding columns are zero and stay zero.
    """
    if rule.penalty == L2:
        scales[l] = rule.decay * scales[l]
        if not 0.5 <= abs(scales[l]) <= 2.0:
            _rescale(w_t, scales[l])
            scales[l] = 1.0
    elif rule.lmbda_n != 0.0:
        for k in range(w_t.shape[0]):
            for j in range(w_t.shape[1]):
                w_t[k, j] = w_t[k, j] - rule.eta * (rule.lmbda_n * np.sign(w_t[k, j]))


@njit(**NJIT_OPTIONS)
def dense_sgd_step(inputs, delta, w_t, b, scales, l, step, rule, penalized):
    """``dense_backward`` folded into a plain SGD step of weight layer ``l``, in place.

    ``update_mini_batch`` computes ``w -> decay * w - step * sum_e a_k(e)
    delta(e)`` (``step = eta/m``). Here the penalty comes first
    (:func:`_penalize`), then each example's term is subtracted as soon as it
    is known, ``w_t[k] -= (step / scale * a_k(e)) * delta(e)``, so no gradient
    is stored and only the rows of nonzero inputs are touched. That rounds
    differently from subtracting the sum once; the tests find the two within
    1e-14 of each other after several epochs. The biases ``b`` are summed
    first and not penalized, as in the reference. ``penalized`` is the rows
    of ``w_t`` that this call owns (``w_t`` itself, or on one of two threads
    its half, :func:`train_epoch_part`): the only rows L1 changes, and
    L2's folded scale.
    """
    starts, stops, indices, values = inputs
    for j in range(b.shape[0]):
        nabla_b = 0.0
        for e in range(delta.shape[0]):
            nabla_b += delta[e, j]
        b[j] = b[j] - step * nabla_b
    _penalize(penalized, scales, l, rule)
    step_w = step / scales[l]  # the stored weights' step: step itself without L2
    for e in range(delta.shape[0]):
        rows = indices[starts[e] : stops[e]]  # slices: no negative-index checks
        a_in = values[starts[e] : stops[e]]
        _add_to_rows(w_t, rows, a_in, -step_w, delta[e])


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
def step_upper_layers(params, layout, mask, y, rule, workspace):
    """BP1, then BP2 and a plain SGD step for each weight layer but the first.

    Last layer first, each passing its delta back before it steps (BP2 needs
    the weights from before the step), down to neuron layer 1's delta; the
    first layer's step is the caller's (:func:`train_epoch_part`).
    """
    m = y.shape[0]
    output_delta(layout, y, rule.cost, workspace)
    for l in range(layout.sizes.shape[0] - 2, 0, -1):
        backpropagate(params, layout, mask, l, m, workspace)
        w_t = weights_t(params, layout, l)
        dense_sgd_step(
            hidden_input(workspace, layout, l, m),
            block(workspace.deltas, layout, l + 1, m),
            w_t,
            biases(params, layout, l),
            workspace.scales,
            l,
            rule.eta / m,
            rule,
            w_t,
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


@njit(**NJIT_INLINE_OPTIONS)
def _own(listed, halves, part, n_threads):
    """The listing of the pixels thread ``part`` trains: its half, or all of them."""
    if n_threads == 1:
        return listed
    return halves[0] if part == 0 else halves[1]


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
    exchange,
):
    """Thread ``part``'s share of one epoch of plain SGD, in place on ``params``.

    Mini-batch ``k`` is ``order[k * mini_batch_size : (k + 1) *
    mini_batch_size]`` (the last may be shorter), with dropout masks
    ``masks[k]`` (none when ``masks`` has no rows); ``images`` is the data
    set's ``(indptr, indices, values)`` and ``middles``, ``split`` say where
    its halves meet (:class:`dense.SparseImages`).

    The first layer's weighted inputs are summed in two halves, over the
    pixels ``< split`` and over those ``>= split``, and the halves are then
    added (and always in that way, so the result does not depend on the
    number of threads). One thread (``flags`` for one,
    ``sync.make_flags(1)``) does both. Two threads (``sync.make_flags(2)``,
    ``part`` 0 and 1) each sum and train one half of the first layer's rows
    of weights, which no other thread touches, meet once per mini-batch
    (:mod:`~nndl_core.kernels.sync`) to swap their sums, and then both do the
    rest of the network, identically, on their own copies of the biases and
    the other layers. ``exchange`` (2, 2, capacity, widths[1]), aligned, is
    where the sums are swapped, ``capacity = min(mini_batch_size,
    len(order))``: one buffer per mini-batch in turn, so that a thread may
    write the next mini-batch's sums while the other still reads this one's.

    At the end thread 0 writes its copy of the biases and the other layers
    into ``params``. Returns False if another thread failed (``sync.abort``)
    and this one stopped waiting for it, True otherwise.
    """
    n_threads = flags.shape[0] // STRIDE - 1
    n = order.shape[0]
    capacity = max(1, min(mini_batch_size, n))
    workspace = make_workspace(layout, capacity)
    own = aligned_zeros(params.shape[0])  # this thread's biases and upper layers
    own[:] = params
    w0 = weights_t(params, layout, 0)  # shared: each thread owns half its rows
    b0 = biases(own, layout, 0)
    rows = w0 if n_threads == 1 else (w0[:split] if part == 0 else w0[split:])
    y = np.zeros((capacity, layout.sizes[-1]))
    ones = np.ones(max(layout.node_offsets[-1], 1))  # no dropout
    listed = input_rows(images, order)  # the epoch's examples, in order
    halves = split_rows(listed, middles, order)
    mine = _own(listed, halves, part, n_threads)
    for batch in range((n + mini_batch_size - 1) // mini_batch_size):
        start = batch * mini_batch_size
        m = min(start + mini_batch_size, n) - start
        _one_hot(labels, order, start, y[:m])
        _prefetch_next(mine, batch, mini_batch_size, 0)
        sums = exchange[batch % 2]
        for half in range(2):
            if n_threads == 1 or half == part:
                inputs = batch_rows(halves[half], start, start + m)
                weighted_sums(w0, inputs, sums[half, :m])
        if n_threads > 1:
            publish(flags, part, batch + 1)
            if not wait_for(flags, 1 - part, batch + 1):
                return False
        z = block(workspace.activations, layout, 1, m)
        _add(sums[0, :m], sums[1, :m], z)
        finish_forward(
            workspace.scales[0], b0, layout.activations[0], layout.sizes[1], z
        )
        mask = masks[batch] if masks.shape[0] else ones
        forward_hidden(own, layout, mask, m, workspace)
        _prefetch_next(mine, batch, mini_batch_size, 1)
        step_upper_layers(own, layout, mask, y[:m], rule, workspace)
        delta = block(workspace.deltas, layout, 1, m)
        inputs = batch_rows(mine, start, start + m)
        step = rule.eta / m
        dense_sgd_step(inputs, delta, w0, b0, workspace.scales, 0, step, rule, rows)
    if workspace.scales[0] != 1.0:  # L2's scales, into the weights
        _rescale(rows, workspace.scales[0])
    if part == 0:
        for l in range(1, layout.sizes.shape[0] - 1):
            if workspace.scales[l] != 1.0:
                _rescale(weights_t(own, layout, l), workspace.scales[l])
        params[layout.b_offsets[0] :] = own[layout.b_offsets[0] :]
    return True


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


def _run_parts(n_threads, images, split_at, *args):
    """Run :func:`train_epoch_part` on ``n_threads`` threads (this one is part 0).

    ``images`` is a :class:`dense.SparseImages`; ``args`` are
    ``train_epoch_part``'s from ``labels`` to ``layout``. A thread that
    raises tells the other to stop waiting (``sync.abort``), and its error
    is raised here once both have stopped.
    """
    flags = sync.make_flags(n_threads)
    layout, order, mini_batch_size = args[-1], args[1], args[2]
    capacity = max(1, min(mini_batch_size, len(order)))
    width = int(layout.widths[1])
    exchange = aligned_zeros(4 * capacity * width).reshape((2, 2, capacity, width))
    arrays = (images.indptr, images.indices, images.values)
    errors = []

    def work(part):
        try:
            train_epoch_part(
                arrays, images.middles, split_at, *args, part, flags, exchange
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
        _run_parts(
            n_threads,
            images,
            int(images.split),
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
