"""Numba kernels for the fully connected networks of chapters 1-3 (and 5).

Used by :class:`nndl_core.network.Network` with ``backend="numba"``:
sigmoid, tanh or ReLU hidden neurons; sigmoid output neurons with the
quadratic or cross-entropy cost, or softmax output neurons with the
log-likelihood cost. Each kernel mirrors a piece of the readable reference,
and ``tests/kernels/test_dense.py`` checks that they agree:
:func:`feedforward` with ``Network.feedforward``, :func:`backprop` with
``Network.backprop`` (and, given the same masks, with
``regularization.dropout_backprop``). The training epochs built from these
pieces live in :mod:`nndl_core.kernels.dense_sgd` (with the steps of
:mod:`nndl_core.kernels.dense_steps` and the threads of
:mod:`nndl_core.kernels.dense_threads`).

Layout
------
The Python wrappers (validate, pack, call, unpack) pack ``net.weights`` and
``net.biases`` into one flat float64 buffer ``params``. Weight layer ``l``
stores its weights *transposed*, ``w_t`` of shape (n_in, width), then its
biases: the weights fanning out of input neuron ``k`` are the contiguous row
``w_t[k]``. ``width`` is ``n_out`` rounded up to a multiple of 8; the extra
columns hold zeros that stay zero, so that loops along a row run in whole
vector steps. Inside a mini-batch, examples are rows (``a`` of shape
(m, width)), not columns as in ``network.py``.

Sparse inputs
-------------
About 80% of MNIST's pixels are exactly 0.0, and a product with an exact zero
adds nothing to a sum. So every layer sees its input as a list of nonzero
entries per example, ``(starts, stops, indices, values)``: example ``e``'s
nonzero inputs are ``indices[starts[e]:stops[e]]`` with values
``values[starts[e]:stops[e]]``. For the input layer these lists point into
:class:`SparseImages`, the compressed sparse rows of the whole data set,
made once (:func:`to_sparse`); for a hidden layer they are listed per
mini-batch from its activations (:func:`list_nonzero`, which also applies
the dropout mask). :class:`SparseImages` also marks, in each image's list,
where the pixels past the data set's ``split`` begin: the training epoch
sums and steps the first layer's rows in those two halves
(:mod:`nndl_core.kernels.dense_threads`). The forward pass
sums the rows ``w_t[k]`` of an example's nonzero inputs into ``z``
(:func:`dense_forward`); the backward pass adds each example's gradient
only to the rows of its nonzero inputs (:func:`dense_backward`). Both
change only the order in which numbers are
added, and use fused multiply-adds (one rounding instead of two), so the
results agree with the reference to rounding (see the tests for the
tolerances).

Vectors
-------
The loops along a row are written with the explicit eight-float64 vectors of
:mod:`nndl_core.kernels.simd`: a row of ``z`` (or of ``delta``) stays in
vector registers while every input row is added (:func:`_sum_rows`,
:func:`_add_to_rows`), and no run-time overlap check runs per row. The
sigmoid and softmax use :func:`~nndl_core.kernels.elementwise.exp_nonpositive`
so that a layer's neurons are computed eight at a time.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from ._options import NJIT_INLINE_OPTIONS, NJIT_OPTIONS
from .elementwise import exp_nonpositive
from .simd import (
    LANES,
    aligned_zeros,
    prefetch,
    vfma,
    vload,
    vload_at,
    vstore,
    vstore_at,
    vzero,
)

__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "FEEDFORWARD_CHUNK",
    "Layout",
    "PAD",
    "SparseImages",
    "Workspace",
    "backprop",
    "backprop_kernel",
    "backpropagate",
    "balanced_split",
    "biases",
    "batch_rows",
    "block",
    "check_supported",
    "cost_code",
    "dense_backward",
    "dense_forward",
    "feedforward",
    "feedforward_kernel",
    "finish_forward",
    "forward_hidden",
    "hidden_input",
    "hidden_mask",
    "input_rows",
    "list_nonzero",
    "make_workspace",
    "mask_vector",
    "network_backward",
    "network_forward",
    "output_delta",
    "pack",
    "pack_like",
    "prefetch_rows",
    "read_only",
    "to_sparse",
    "unpack",
    "weighted_sums",
    "weights_t",
]

#: Codes of the costs the kernels know (``cost.name`` -> int).
COSTS = {"quadratic": 0, "cross_entropy": 1, "log_likelihood": 2}
QUADRATIC = COSTS["quadratic"]

#: Codes of the neurons the kernels know (``Network.activation`` and
#: ``Network.output_activation`` -> int).
ACTIVATIONS = {"sigmoid": 0, "tanh": 1, "relu": 2, "softmax": 3}
SIGMOID, TANH, RELU, SOFTMAX = (ACTIVATIONS[k] for k in ACTIVATIONS)

FEEDFORWARD_CHUNK = 500  # examples per pass in feedforward_kernel

PAD = LANES  # rows of w_t, z and delta are padded to a multiple of 8 float64s

Layout = namedtuple(
    "Layout",
    ["sizes", "widths", "w_offsets", "b_offsets", "node_offsets", "activations"],
)
Layout.__doc__ = """The network's shape, and where each layer lives (int64 arrays).

``sizes`` (n_layers + 1,): neurons per layer, input first. ``widths``: the
same rounded up to a multiple of ``PAD``. A weight layer's ``w_t`` has shape
(sizes[l], widths[l+1]) and its ``b`` shape (widths[l+1],); the padding
columns are zero and stay zero (their deltas are zero), and they let every
loop over a row run in whole vector steps with no scalar remainder.
``w_offsets[l]``, ``b_offsets[l]``: where ``w_t`` and ``b`` of weight layer
``l`` start in ``params`` (and in ``nabla`` and the velocities, which have
the same layout). ``node_offsets[l]`` (``l >= 1``): where neuron layer ``l``
starts in a vector holding one value per (padded) non-input neuron, so
``node_offsets[1] == 0``; the input layer has no such place. A workspace
block of ``capacity`` rows for layer ``l`` starts at
``capacity * node_offsets[l]``, and a dropout mask for hidden layer ``l`` at
``node_offsets[l]``. ``activations[l]``: the code (``ACTIVATIONS``) of weight
layer ``l``'s neurons.
"""

Workspace = namedtuple(
    "Workspace",
    [
        "activations",
        "deltas",
        "indices",
        "values",
        "starts",
        "stops",
        "scales",
        "transposed",
        "counting",
    ],
)
Workspace.__doc__ = """Scratch arrays for mini-batches of up to ``capacity`` examples.

``activations``, ``deltas``: blocks (capacity, widths[l]) of :math:`a^l` and
:math:`\\delta^l` for each non-input neuron layer (hidden activations before
dropout). ``indices``, ``values`` (same blocks): the nonzero inputs of
weight layer ``l >= 1``, listed by :func:`list_nonzero`; ``starts[l]``,
``stops[l]`` (capacity,) say where each example's list lies (row 0 is not
used: the input layer's lists are the data set's, :func:`input_rows`).
``scales[l]``: weight layer ``l``'s weights are ``scales[l]`` times the
stored ones (1.0 except during an epoch with L2, see ``dense_steps``).
``transposed``: room for one weight layer in the book's layout (n_out,
widths[l]), for BP2; ``counting``: 0, 1, 2, ... (uint32), the rows of all
of a layer's neurons, for BP2's sum over every one of them.
"""

SparseImages = namedtuple(
    "SparseImages", ["indptr", "indices", "values", "shape", "split", "middles"]
)
SparseImages.__doc__ = """A data set's images as compressed sparse rows (``to_sparse``).

Image ``i``'s nonzero pixels are ``indices[indptr[i]:indptr[i+1]]``
(increasing; uint32, unsigned so that Numba adds no negative-index checks)
with values ``values[indptr[i]:indptr[i+1]]`` (float64, exactly the images'
values). ``shape`` is the dense shape (n_samples, n_in). ``split`` (int)
divides the pixels into two halves with about as many nonzero entries
each, pixels ``< split`` and pixels ``>= split``; image ``i``'s second
half starts at ``middles[i]`` (int64, between ``indptr[i]`` and
``indptr[i+1]``). The training epoch sums each half separately
(``dense_threads.train_epoch_part``).
"""


# --- the nonzero inputs -------------------------------------------------------


@njit(**NJIT_OPTIONS)
def _count_nonzero(images, indptr, columns):
    """``indptr[i + 1] = indptr[i] + (number of nonzero entries of row i)``.

    Also adds to ``columns[k]`` the number of rows whose entry ``k`` is nonzero.
    """
    for i in range(images.shape[0]):
        count = 0
        row = images[i]
        for k in range(row.shape[0]):
            nonzero = row[k] != 0.0  # NaN counts as nonzero
            count += nonzero
            columns[k] += nonzero
        indptr[i + 1] = indptr[i] + count


@njit(**NJIT_OPTIONS)
def _fill_sparse(images, indptr, split, indices, values, middles):
    """Write each row's nonzero entries at ``indptr[i]`` (see :func:`to_sparse`).

    Those at columns ``< split`` first, then ``middles[i]``: where the ones
    at columns ``>= split`` begin.
    """
    for i in range(images.shape[0]):
        row = images[i]
        middles[i] = _fill_columns(row, 0, split, indptr[i], indices, values)
        _fill_columns(row, split, row.shape[0], middles[i], indices, values)


@njit(**NJIT_OPTIONS)
def _fill_columns(row, lo, hi, position, indices, values):
    """Write ``row``'s nonzero entries in columns ``[lo, hi)`` from ``position``.

    Returns the position after the last one written.
    """
    for k in range(lo, hi):
        if row[k] != 0.0:  # NaN counts as nonzero
            indices[position] = k
            values[position] = row[k]
            position += 1
    return position


@njit(**NJIT_OPTIONS)
def list_nonzero(a, mask, n_in, start, indices, values):
    """List the inputs ``k < n_in`` with ``a[k] * mask[k] != 0``; return where it ends.

    Writes from position ``start``: afterwards ``values[i] == a[indices[i]] *
    mask[indices[i]]`` for ``start <= i < stop``. ``mask`` is the dropout mask
    (0 or ``1/(1 - p_drop)``; ones without dropout), so the values are exactly
    the reference's ``activation * mask``. NaN counts as nonzero.
    """
    stop = start
    for k in range(n_in):
        v = a[k] * mask[k]
        indices[stop] = k  # written every time, kept only if v != 0: no branch
        values[stop] = v
        stop += v != 0.0
    return stop


# --- neurons --------------------------------------------------------------------


@njit(**NJIT_OPTIONS)
def _sigmoid(z):
    """Scalar sigmoid, computed as ``activations.sigmoid`` computes it.

    ``e = exp(-|z|)`` (:func:`~nndl_core.kernels.elementwise.exp_nonpositive`,
    within an ulp of ``np.exp``) never overflows; then ``1/(1+e)`` for ``z >= 0`` and
    ``e/(1+e)`` for ``z < 0``. Both quotients come from one ``exp``, so the
    choice compiles to a select instead of a branch that mispredicts half
    the time.
    """
    e = exp_nonpositive(-abs(z))
    return (1.0 if z >= 0.0 else e) / (1.0 + e)


@njit(**NJIT_OPTIONS)
def _activate(z, n_out, code):
    """``z[:n_out] = activation(z[:n_out])`` in place, for one example.

    As ``activations.py``: the stable sigmoid, ``tanh``, ``max(z, 0)`` (NaN
    stays NaN, as in ``np.maximum``), and softmax with the maximum
    subtracted first. ``z`` is a padded row (its length a multiple of
    ``LANES``, zeros past ``n_out``): the elementwise neurons run over the
    whole row, in whole vectors with no scalar remainder, and the padding is
    zero again afterwards (the sigmoid of 0 is 1/2).
    """
    if code == SIGMOID:
        for j in range(z.shape[0]):
            z[j] = _sigmoid(z[j])
        z[n_out:] = 0.0
    elif code == TANH:
        for j in range(n_out):
            z[j] = np.tanh(z[j])
    elif code == RELU:
        for j in range(z.shape[0]):
            z[j] = 0.0 if z[j] <= 0.0 else z[j]
    else:  # SOFTMAX
        largest = z[0]
        for j in range(1, n_out):
            largest = max(largest, z[j])
        total = 0.0
        for j in range(n_out):
            z[j] = exp_nonpositive(z[j] - largest)
        for j in range(n_out):  # a separate loop: the one above vectorizes
            total += z[j]
        for j in range(n_out):
            z[j] = z[j] / total


@njit(**NJIT_OPTIONS)
def _derivative(a, code):
    """The activation's derivative at ``z``, from its output ``a`` (hidden layers).

    ``sigmoid_prime(z) = a(1 - a)``, ``tanh_prime(z) = 1 - a*a`` and
    ``relu_prime(z) = 1 if a > 0 else 0``, computed as the references compute
    them from ``z``.
    """
    if code == SIGMOID:
        return a * (1.0 - a)
    if code == TANH:
        return 1.0 - a * a
    return 1.0 if a > 0.0 else 0.0


# --- one layer, one mini-batch ------------------------------------------------


@njit(**NJIT_OPTIONS)
def _sum_rows(w_t, rows, a_in, j, n_vectors, z):
    """``z[j:j+k] = sum_i a_in[i] * w_t[rows[i], j:j+k]``, ``k = n_vectors * LANES``.

    ``n_vectors`` (1 to 4) sums stay in vector registers while every row is
    added (one fused multiply-add per vector per row), and are stored once.
    Four sums are enough to keep the multiply-add units busy while each sum
    waits for its previous step.
    """
    z_1 = z_2 = z_3 = z_4 = vzero()
    for i in range(rows.shape[0]):
        w, v = w_t[rows[i]], a_in[i]
        z_1 = vfma(z_1, v, vload(w, j))
        if n_vectors > 1:  # the same every row: LLVM moves the test out of the loop
            z_2 = vfma(z_2, v, vload(w, j + LANES))
        if n_vectors > 2:
            z_3 = vfma(z_3, v, vload(w, j + 2 * LANES))
        if n_vectors > 3:
            z_4 = vfma(z_4, v, vload(w, j + 3 * LANES))
    vstore(z, j, z_1)
    if n_vectors > 1:
        vstore(z, j + LANES, z_2)
    if n_vectors > 2:
        vstore(z, j + 2 * LANES, z_3)
    if n_vectors > 3:
        vstore(z, j + 3 * LANES, z_4)


@njit(**NJIT_OPTIONS)
def _add_to_rows(target, rows, a_in, factor, delta_e):
    """``target[rows[i]] += (factor * a_in[i]) * delta_e`` for every listed input ``i``.

    One example's BP4 term, added to the rows of its nonzero inputs only
    (a gradient, or with ``factor = -step`` the weights themselves).
    ``delta_e`` is held in vector registers, four vectors at a time, while
    the rows are updated.
    """
    width = delta_e.shape[0]
    for j in range(0, width, 4 * LANES):
        n_vectors = min(4, (width - j) // LANES)
        d_1 = vload(delta_e, j)
        d_2 = vload(delta_e, j + LANES) if n_vectors > 1 else d_1
        d_3 = vload(delta_e, j + 2 * LANES) if n_vectors > 2 else d_1
        d_4 = vload(delta_e, j + 3 * LANES) if n_vectors > 3 else d_1
        for i in range(rows.shape[0]):
            r, s = rows[i], factor * a_in[i]
            vstore_at(target, r, j, vfma(vload_at(target, r, j), s, d_1))
            if n_vectors > 1:
                k = j + LANES
                vstore_at(target, r, k, vfma(vload_at(target, r, k), s, d_2))
            if n_vectors > 2:
                k = j + 2 * LANES
                vstore_at(target, r, k, vfma(vload_at(target, r, k), s, d_3))
            if n_vectors > 3:
                k = j + 3 * LANES
                vstore_at(target, r, k, vfma(vload_at(target, r, k), s, d_4))


@njit(**NJIT_OPTIONS)
def dense_forward(w_t, scale, b, inputs, code, n_out, a_out):
    """``a_out = activation(w @ a_in + b)`` for a mini-batch (eq. 25), rows = examples.

    ``w = scale * w_t.T``: ``w_t`` is ``w`` transposed, shape (n_in, width)
    with zero columns past ``n_out``, times ``1/scale`` (1.0 but during L2
    training); ``inputs`` lists each example's nonzero inputs (see the module
    docstring); ``a_out`` has shape (m, width), and its padding columns come
    out zero. Each example's weighted input is summed 32 columns at a time in
    registers (:func:`_sum_rows`), adding the rows in the listed order.
    """
    weighted_sums(w_t, inputs, a_out)
    finish_forward(scale, b, code, n_out, a_out)


@njit(**NJIT_OPTIONS)
def weighted_sums(w_t, inputs, z):
    """``z[e] = sum_k a_in[e, k] * w_t[k]`` over example ``e``'s listed inputs.

    The first half of :func:`dense_forward`: no scale, bias or neuron yet.
    ``z`` has shape (m, width).
    """
    starts, stops, indices, values = inputs
    width = z.shape[1]
    for e in range(z.shape[0]):
        rows = indices[starts[e] : stops[e]]  # slices: no negative-index checks
        a_in = values[starts[e] : stops[e]]
        for j in range(0, width, 4 * LANES):
            _sum_rows(w_t, rows, a_in, j, min(4, (width - j) // LANES), z[e])


@njit(**NJIT_OPTIONS)
def finish_forward(scale, b, code, n_out, z):
    """``z[e] = activation(scale * z[e] + b)``, in place: the rest of the layer."""
    for e in range(z.shape[0]):
        z_e = z[e]
        for j in range(z_e.shape[0]):  # padding: 0 * scale + 0
            z_e[j] = scale * z_e[j] + b[j]
        _activate(z_e, n_out, code)


@njit(**NJIT_OPTIONS)
def dense_backward(inputs, delta, nabla_w_t, nabla_b):
    """Add BP3 and BP4, summed over a mini-batch, to ``nabla``; rows = examples.

    ``nabla_b += sum_e delta[e]`` and ``nabla_w_t[k] += a_in[e, k] * delta[e]``
    for each example ``e`` and each of its nonzero inputs ``k``: the other
    rows of the gradient get nothing to add. ``delta`` has shape (m, width).
    """
    starts, stops, indices, values = inputs
    for e in range(delta.shape[0]):
        delta_e = delta[e]
        for j in range(delta_e.shape[0]):
            nabla_b[j] += delta_e[j]
        rows = indices[starts[e] : stops[e]]
        a_in = values[starts[e] : stops[e]]
        _add_to_rows(nabla_w_t, rows, a_in, 1.0, delta_e)


@njit(**NJIT_OPTIONS)
def _output_delta(a_out, y, n_out, cost_code, delta):
    """BP1 for a mini-batch; the padding columns of ``delta`` stay zero.

    ``a - y`` for cross-entropy (sigmoid outputs) and log-likelihood (softmax
    outputs, the book's eq. 84); times :math:`\\sigma'(z) = a(1 - a)` for the
    quadratic cost.
    """
    for e in range(y.shape[0]):
        for j in range(n_out):
            delta[e, j] = a_out[e, j] - y[e, j]
            if cost_code == QUADRATIC:
                delta[e, j] = delta[e, j] * (a_out[e, j] * (1.0 - a_out[e, j]))


@njit(**NJIT_OPTIONS)
def _transpose(w_t, n_out, w):
    """``w[j, k] = w_t[k, j]``: the book's layout, rows = output neurons.

    ``w`` has shape (n_out, width_in); its columns past ``w_t.shape[0]`` (the
    padding of the layer below) are set to zero.
    """
    n_in = w_t.shape[0]
    for j in range(n_out):
        for k in range(n_in):
            w[j, k] = w_t[k, j]
        for k in range(n_in, w.shape[1]):
            w[j, k] = 0.0


@njit(**NJIT_OPTIONS)
def _backpropagate_delta(w_t, scale, a_in, mask, delta, outputs, code, w, delta_in):
    """BP2: ``delta_in = ((w^T delta) * act'(z_in)) * mask``, rows = examples.

    ``w = scale * w_t.T`` as in :func:`dense_forward`. ``w^T delta`` sums
    the rows of ``w`` weighted by the example's deltas, so the weights are
    first copied into the book's layout (``w``, (n_out, width_in), once per
    mini-batch) and each example's sum is :func:`_sum_rows` over them, in
    registers. ``act'`` comes from the stored activation
    (:func:`_derivative`), and ``mask`` is the dropout mask of the layer
    (ones without dropout), applied last as in
    ``regularization.dropout_backprop``. ``outputs`` lists the layer's
    neurons, ``0, 1, ..., n_out - 1``. The padding columns of ``delta_in``
    come out zero.
    """
    _transpose(w_t, outputs.shape[0], w)
    n_in, width_in = w_t.shape[0], w.shape[1]
    for e in range(delta_in.shape[0]):
        s = delta_in[e]
        for j in range(0, width_in, 4 * LANES):
            _sum_rows(w, outputs, delta[e], j, min(4, (width_in - j) // LANES), s)
        for k in range(width_in):  # whole vectors; the padding is zeroed next
            s[k] = (scale * s[k] * _derivative(a_in[e, k], code)) * mask[k]
        s[n_in:] = 0.0


# --- the whole network, one mini-batch ----------------------------------------


@njit(**NJIT_INLINE_OPTIONS)
def weights_t(params, layout, l):
    """Weight layer ``l``'s ``w_t`` (n_in, width): a view into ``params``."""
    n_in, width = layout.sizes[l], layout.widths[l + 1]
    start = layout.w_offsets[l]
    return params[start : start + n_in * width].reshape((n_in, width))


@njit(**NJIT_INLINE_OPTIONS)
def biases(params, layout, l):
    """Weight layer ``l``'s biases (width,): a view into ``params``."""
    start = layout.b_offsets[l]
    return params[start : start + layout.widths[l + 1]]


@njit(**NJIT_INLINE_OPTIONS)
def hidden_mask(masks, layout, l):
    """Hidden layer ``l``'s part (widths[l],) of a mask vector (see ``Layout``)."""
    start = layout.node_offsets[l]
    return masks[start : start + layout.widths[l]]


@njit(**NJIT_INLINE_OPTIONS)
def _flat_block(buffer, layout, l):
    """Neuron layer l's whole block of ``buffer``, flat (capacity * widths[l],)."""
    capacity = buffer.shape[0] // (layout.node_offsets[-1] + layout.widths[-1])
    start = capacity * layout.node_offsets[l]
    return buffer[start : start + capacity * layout.widths[l]]


@njit(**NJIT_INLINE_OPTIONS)
def block(buffer, layout, l, m):
    """Rows ``[:m]`` of neuron layer l's (capacity, widths[l]) block of ``buffer``."""
    flat = _flat_block(buffer, layout, l)
    return flat.reshape((-1, layout.widths[l]))[:m]


@njit(**NJIT_INLINE_OPTIONS)
def hidden_input(workspace, layout, l, m):
    """The listed nonzero inputs of weight layer ``l >= 1`` (:func:`list_nonzero`)."""
    return (
        workspace.starts[l, :m],
        workspace.stops[l, :m],
        _flat_block(workspace.indices, layout, l),
        _flat_block(workspace.values, layout, l),
    )


@njit(**NJIT_OPTIONS)
def network_forward(params, layout, inputs, mask, workspace):
    """Feed a mini-batch forward, keeping every layer's activations.

    ``inputs`` lists the input layer's nonzero entries for the m examples;
    ``mask`` holds the dropout masks of the hidden layers (ones without
    dropout), laid out as ``Layout`` says.
    """
    m = inputs[0].shape[0]
    dense_forward(
        weights_t(params, layout, 0),
        workspace.scales[0],
        biases(params, layout, 0),
        inputs,
        layout.activations[0],
        layout.sizes[1],
        block(workspace.activations, layout, 1, m),
    )
    forward_hidden(params, layout, mask, m, workspace)


@njit(**NJIT_OPTIONS)
def forward_hidden(params, layout, mask, m, workspace):
    """:func:`network_forward` from the first hidden layer's activations on.

    The workspace holds neuron layer 1's activations of the ``m`` examples;
    each later layer's are computed from the nonzero ones of the layer
    below, after its dropout mask (:func:`list_nonzero`).
    """
    for l in range(1, layout.sizes.shape[0] - 1):
        a_in = block(workspace.activations, layout, l, m)
        indices = _flat_block(workspace.indices, layout, l)
        values = _flat_block(workspace.values, layout, l)
        mask_l = hidden_mask(mask, layout, l)
        width = layout.widths[l]
        for e in range(m):
            workspace.starts[l, e] = e * width
            workspace.stops[l, e] = list_nonzero(
                a_in[e], mask_l, layout.sizes[l], e * width, indices, values
            )
        dense_forward(
            weights_t(params, layout, l),
            workspace.scales[l],
            biases(params, layout, l),
            hidden_input(workspace, layout, l, m),
            layout.activations[l],
            layout.sizes[l + 1],
            block(workspace.activations, layout, l + 1, m),
        )


@njit(**NJIT_INLINE_OPTIONS)
def output_delta(layout, y, cost_code, workspace):
    """BP1 into the output layer's delta block; returns that block (m, width)."""
    n_layers = layout.sizes.shape[0] - 1
    m = y.shape[0]
    a_out = block(workspace.activations, layout, n_layers, m)
    delta = block(workspace.deltas, layout, n_layers, m)
    _output_delta(a_out, y, layout.sizes[-1], cost_code, delta)
    return delta


@njit(**NJIT_INLINE_OPTIONS)
def backpropagate(params, layout, mask, l, m, workspace):
    """BP2 from weight layer ``l``'s delta into neuron layer ``l``'s delta block."""
    _backpropagate_delta(
        weights_t(params, layout, l),
        workspace.scales[l],
        block(workspace.activations, layout, l, m),
        hidden_mask(mask, layout, l),
        block(workspace.deltas, layout, l + 1, m),
        workspace.counting[: layout.sizes[l + 1]],
        layout.activations[l - 1],
        workspace.transposed[: layout.sizes[l + 1] * layout.widths[l]].reshape(
            (layout.sizes[l + 1], layout.widths[l])
        ),
        block(workspace.deltas, layout, l, m),
    )


@njit(**NJIT_OPTIONS)
def network_backward(params, nabla, layout, inputs, mask, y, cost_code, workspace):
    """Add the mini-batch's summed gradient (after its forward pass) to ``nabla``.

    BP1 for the output layer (``cost_code`` says which cost), then BP2-BP4
    from the last layer to the first, through the same dropout masks as the
    forward pass.
    """
    n_layers = layout.sizes.shape[0] - 1
    m = y.shape[0]
    output_delta(layout, y, cost_code, workspace)
    for l in range(n_layers - 1, 0, -1):
        dense_backward(
            hidden_input(workspace, layout, l, m),
            block(workspace.deltas, layout, l + 1, m),
            weights_t(nabla, layout, l),
            biases(nabla, layout, l),
        )
        backpropagate(params, layout, mask, l, m, workspace)
    dense_backward(
        inputs,
        block(workspace.deltas, layout, 1, m),
        weights_t(nabla, layout, 0),
        biases(nabla, layout, 0),
    )


# --- drivers: many examples in one compiled call --------------------------------


@njit(**NJIT_OPTIONS)
def make_workspace(layout, capacity):
    """A :class:`Workspace` for mini-batches of up to ``capacity`` examples."""
    n_layers = layout.sizes.shape[0] - 1
    n_neurons = layout.node_offsets[-1] + layout.widths[-1]
    # BP2 copies weight layer l >= 1, shape (sizes[l+1], widths[l])
    transposed = np.max(layout.sizes[2:] * layout.widths[1:-1]) if n_layers > 1 else 1
    return Workspace(
        aligned_zeros(capacity * n_neurons),  # activations
        aligned_zeros(capacity * n_neurons),  # deltas
        np.zeros(capacity * n_neurons, dtype=np.uint32),  # indices
        aligned_zeros(capacity * n_neurons),  # values
        np.zeros((n_layers, capacity), dtype=np.int64),  # starts
        np.zeros((n_layers, capacity), dtype=np.int64),  # stops
        np.ones(n_layers),  # scales
        aligned_zeros(transposed),
        np.arange(np.max(layout.sizes[1:])).astype(np.uint32),  # counting
    )


@njit(**NJIT_OPTIONS)
def input_rows(images, rows):
    """The input layer's nonzero entries for images ``rows`` (m,) of ``images``.

    Returns ``(starts, stops, indices, values)``: example ``e``'s nonzero
    pixels lie at ``[starts[e], stops[e])`` of the data set's ``indices`` and
    ``values``. An epoch calls this once for its whole shuffled order and
    slices a mini-batch's rows out of it (:func:`batch_rows`): ``indptr`` is
    then read in sequence, where looking up ten random images per
    mini-batch missed the cache for each.
    """
    indptr, indices, values = images
    starts = np.empty(rows.shape[0], dtype=np.int64)
    stops = np.empty(rows.shape[0], dtype=np.int64)
    for e in range(rows.shape[0]):
        starts[e] = indptr[rows[e]]
        stops[e] = indptr[rows[e] + 1]
    return starts, stops, indices, values


@njit(**NJIT_INLINE_OPTIONS)
def batch_rows(inputs, start, stop):
    """Examples ``start:stop`` of :func:`input_rows`' listing."""
    starts, stops, indices, values = inputs
    return starts[start:stop], stops[start:stop], indices, values


@njit(**NJIT_OPTIONS)
def prefetch_rows(inputs):
    """Ask for the nonzero pixels of the examples in ``inputs`` ahead of their use.

    A shuffled epoch reads each image's list from a random place in memory
    (the whole training set's lists are some 90 MB, far more than the
    caches); asking for the next mini-batch's lists while this one computes
    lets those reads overlap the arithmetic instead of stalling it. The
    epoch asks for half a mini-batch at a time, before the forward pass and
    before the step: all at once, the requests filled the queue of
    outstanding misses and the processor waited on it.
    """
    starts, stops, indices, values = inputs
    for e in range(starts.shape[0]):
        start, stop = starts[e], stops[e]
        for p in range(start, stop, 16):  # 16 uint32 indices per 64-byte line
            prefetch(indices, p)
        for p in range(start, stop, 8):  # 8 float64 values per line
            prefetch(values, p)


@njit(**NJIT_OPTIONS)
def backprop_kernel(images, y_rows, masks, cost_code, params, layout, nabla):
    """Write the gradient summed over all rows of ``images`` to zeroed ``nabla``."""
    m = y_rows.shape[0]
    workspace = make_workspace(layout, m)
    inputs = input_rows(images, np.arange(m))
    network_forward(params, layout, inputs, masks, workspace)
    network_backward(params, nabla, layout, inputs, masks, y_rows, cost_code, workspace)


@njit(**NJIT_OPTIONS)
def feedforward_kernel(images, params, layout, out_rows):
    """Write the network's output for each row of ``images`` to ``out_rows``."""
    n = out_rows.shape[0]
    n_layers = layout.sizes.shape[0] - 1
    workspace = make_workspace(layout, FEEDFORWARD_CHUNK)
    ones = np.ones(max(layout.node_offsets[-1], 1))  # no dropout
    for start in range(0, n, FEEDFORWARD_CHUNK):
        stop = min(start + FEEDFORWARD_CHUNK, n)
        m = stop - start
        inputs = input_rows(images, np.arange(start, stop))
        network_forward(params, layout, inputs, ones, workspace)
        a_out = block(workspace.activations, layout, n_layers, m)
        out_rows[start:stop] = a_out[:, : layout.sizes[-1]]


# --- Python wrappers: validate, pack, call, unpack -----------------------------


def to_sparse(images):
    """The nonzero pixels of every image, as :class:`SparseImages`.

    Made once per training run: each epoch then reads ~20% of the bytes of
    the dense MNIST images, and no pass searches for nonzero pixels.

    Parameters
    ----------
    images : ndarray of shape (n_samples, n_in)

    Examples
    --------
    >>> sparse = to_sparse(np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]]))
    >>> sparse.indptr.tolist(), sparse.indices.tolist(), sparse.values.tolist()
    ([0, 1, 3], [1, 0, 2], [2.0, 1.0, 3.0])
    """
    images = np.ascontiguousarray(images, dtype=np.float64)
    if images.ndim != 2:
        raise ValueError(
            f"images must have shape (n_samples, n_in), got {images.shape}"
        )
    if images.shape[1] >= 2**32:
        raise ValueError("images with 2**32 or more inputs do not fit uint32 indices")
    indptr = np.zeros(images.shape[0] + 1, dtype=np.int64)
    columns = np.zeros(images.shape[1], dtype=np.int64)
    _count_nonzero(images, indptr, columns)
    split = balanced_split(columns)
    indices = np.empty(indptr[-1], dtype=np.uint32)
    values = np.empty(indptr[-1])
    middles = np.empty(images.shape[0], dtype=np.int64)
    _fill_sparse(images, indptr, split, indices, values, middles)
    return SparseImages(indptr, indices, values, images.shape, split, middles)


def balanced_split(counts):
    """The pixel that divides a data set's nonzero entries into two equal halves.

    ``counts[k]`` is the number of images whose pixel ``k`` is nonzero. The
    smallest ``split`` such that pixels ``< split`` hold at least half of the
    nonzero entries (``len(counts) // 2`` if there are none). For MNIST's
    training images this is 407, a little past the middle (392): the digits
    sit a little low in their boxes.

    >>> balanced_split(np.count_nonzero([[1.0, 0.0, 2.0, 3.0], [0, 0, 5, 0]], axis=0))
    3
    """
    cumulative = np.cumsum(counts)
    if cumulative.size == 0 or cumulative[-1] == 0:
        return len(counts) // 2
    return int(np.searchsorted(cumulative, cumulative[-1] / 2)) + 1


def _codes(net):
    """Activation codes of the weight layers, and refuse what has no kernel."""
    hidden, output = net.activation, net.output_activation
    for name in (hidden, output):
        if name not in ACTIVATIONS:
            raise NotImplementedError(
                f"the numba backend has no kernel for {name!r} neurons "
                f"(it has {sorted(ACTIVATIONS)}); use backend='numpy'"
            )
    if hidden == "softmax" or output not in ("sigmoid", "softmax"):
        raise NotImplementedError(
            f"the numba backend runs softmax only as the output layer and "
            f"sigmoid or softmax output neurons, not {hidden!r} hidden and "
            f"{output!r} output neurons; use backend='numpy'"
        )
    n_weight_layers = len(net.sizes) - 1
    codes = [ACTIVATIONS[hidden]] * (n_weight_layers - 1) + [ACTIVATIONS[output]]
    return np.array(codes, dtype=np.int64)


def pack(net):
    """Pack ``net.weights`` and ``net.biases`` into ``(layout, params)``.

    Returns
    -------
    layout : Layout
    params : ndarray of shape (n_params,)
        For each layer, ``w.T`` row-major then ``b``, padded (see ``Layout``).
    """
    sizes = np.asarray(net.sizes, dtype=np.int64)
    widths = -(-sizes // PAD) * PAD  # rounded up to a multiple of PAD
    n_in = sizes[:-1]
    layer_sizes = n_in * widths[1:] + widths[1:]
    starts = np.concatenate(([0], np.cumsum(layer_sizes)[:-1])).astype(np.int64)
    node_offsets = np.concatenate(([0, 0], np.cumsum(widths[1:-1]))).astype(np.int64)
    layout = Layout(
        sizes=sizes,
        widths=widths,
        w_offsets=starts,
        b_offsets=starts + n_in * widths[1:],
        node_offsets=node_offsets,
        activations=_codes(net),
    )
    return layout, pack_like(layout, net.weights, net.biases)


def pack_like(layout, weights, biases):
    """Weights (n_out, n_in) and biases (n_out, 1) into a flat ``params`` buffer.

    Used for the parameters and for anything shaped like them (velocities).
    """
    n_in, n_out = layout.sizes[:-1], layout.sizes[1:]
    params = aligned_zeros(int(layout.b_offsets[-1] + layout.widths[-1]))
    for l, (w, b) in enumerate(zip(weights, biases, strict=True)):
        if w.shape != (n_out[l], n_in[l]) or b.shape != (n_out[l], 1):
            raise ValueError(
                f"layer {l}: weights {w.shape} and biases {b.shape} do not match "
                f"sizes {layout.sizes.tolist()}"
            )
        w_t = params[layout.w_offsets[l] : layout.b_offsets[l]].reshape(n_in[l], -1)
        w_t[:, : n_out[l]] = w.T  # (n_out, n_in) -> w_t (n_in, width)
        params[layout.b_offsets[l] : layout.b_offsets[l] + n_out[l]] = b[:, 0]
    return params


def unpack(layout, params):
    """Inverse of :func:`pack`: lists of weights (n_out, n_in) and biases (n_out, 1)."""
    weights, biases = [], []
    for l in range(len(layout.sizes) - 1):
        n_in, n_out = int(layout.sizes[l]), int(layout.sizes[l + 1])
        start, middle = layout.w_offsets[l], layout.b_offsets[l]
        w_t = params[start:middle].reshape(n_in, -1)
        weights.append(np.ascontiguousarray(w_t[:, :n_out].T))
        biases.append(params[middle : middle + n_out].reshape(n_out, 1).copy())
    return weights, biases


def read_only(a):
    """A read-only view of ``a``.

    The kernels never write their inputs. Passing them read-only means that
    writable arrays and the read-only ones ``load_mnist`` returns share one
    compiled specialization (Numba types the two differently).
    """
    view = a.view()
    view.flags.writeable = False
    return view


def cost_code(net):
    """The kernels' code for ``net.cost``; refuse costs they do not know."""
    name = getattr(net.cost, "name", None)
    if name not in COSTS:
        raise NotImplementedError(
            f"the numba backend has no kernel for the cost {name!r} "
            f"(it has {sorted(COSTS)}); use backend='numpy'"
        )
    if name == "quadratic" and net.output_activation != "sigmoid":
        raise NotImplementedError(
            "the numba backend computes the quadratic cost's delta for sigmoid "
            "output neurons only; use backend='numpy'"
        )
    return COSTS[name]


def check_supported(net):
    """Raise ``NotImplementedError`` unless the kernels can run ``net``.

    They run sigmoid, tanh and ReLU hidden neurons; sigmoid outputs with the
    quadratic or cross-entropy cost; softmax outputs with the log-likelihood
    cost (or the cross-entropy's delta ``a - y``).
    """
    _codes(net)
    cost_code(net)


def _rows(a, n, what):
    """``a`` of shape (n, batch) or (n,) as C-contiguous float64 rows (batch, n)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim not in (1, 2) or a.shape[0] != n:
        raise ValueError(
            f"{what} must have shape ({n},) or ({n}, batch), got {a.shape}"
        )
    return np.ascontiguousarray(a.reshape(n, -1).T)  # columns -> rows


def _sparse_arrays(sparse):
    return sparse.indptr, sparse.indices, sparse.values


def mask_vector(layout, masks):
    """The hidden layers' dropout masks in one vector, laid out as ``Layout`` says.

    ``masks`` holds one (n_l, 1) array per hidden layer, as
    ``regularization.dropout_backprop`` draws them; ``None`` gives ones.
    """
    vector = np.ones(max(int(layout.node_offsets[-1]), 1))
    if masks is None:
        return vector
    hidden = layout.sizes[1:-1]
    if len(masks) != len(hidden) or any(
        np.shape(mask) != (n, 1) for mask, n in zip(masks, hidden, strict=True)
    ):
        raise ValueError(
            f"masks must be one (n, 1) array per hidden layer of {hidden.tolist()}"
        )
    for l, mask in enumerate(masks, start=1):
        vector[layout.node_offsets[l] : layout.node_offsets[l] + len(mask)] = mask[:, 0]
    return vector


def feedforward(net, a):
    """Kernel version of ``Network.feedforward``: the output for input ``a``.

    Parameters
    ----------
    net : Network
    a : ndarray of shape (n_in,) or (n_in, batch)

    Returns
    -------
    ndarray of shape (n_out,) or (n_out, batch)

    Examples
    --------
    >>> from nndl_core import Network
    >>> net = Network([3, 2], seed=0)
    >>> bool(np.allclose(feedforward(net, np.ones(3)), net.feedforward(np.ones(3))))
    True
    """
    x_rows = _rows(a, net.sizes[0], "input")
    layout, params = pack(net)
    out_rows = np.empty((x_rows.shape[0], net.sizes[-1]))
    feedforward_kernel(_sparse_arrays(to_sparse(x_rows)), params, layout, out_rows)
    return out_rows.T.reshape((-1,) + np.shape(a)[1:])


def backprop(net, x, y, masks=None):
    """Kernel version of ``Network.backprop``: gradient summed over columns of ``x``.

    Parameters
    ----------
    net : Network
    x : ndarray of shape (n_in, m)
    y : ndarray of shape (n_out, m)
    masks : list of ndarray, optional
        One dropout mask of shape (n_l, 1) per hidden layer, with entries 0
        or ``1/(1 - p_drop)``: the gradient is then that of
        ``regularization.dropout_backprop`` when it draws these masks.

    Returns
    -------
    nabla_b, nabla_w : lists of ndarray
        Shaped like ``net.biases`` and ``net.weights``.
    """
    x_rows = _rows(x, net.sizes[0], "x")
    y_rows = _rows(y, net.sizes[-1], "y")
    if x_rows.shape[0] != y_rows.shape[0]:
        raise ValueError(f"x has {x_rows.shape[0]} columns but y has {y_rows.shape[0]}")
    code = cost_code(net)
    layout, params = pack(net)
    nabla = aligned_zeros(params.shape[0])
    images = _sparse_arrays(to_sparse(x_rows))
    backprop_kernel(
        images, y_rows, mask_vector(layout, masks), code, params, layout, nabla
    )
    nabla_w, nabla_b = unpack(layout, nabla)
    return nabla_b, nabla_w
