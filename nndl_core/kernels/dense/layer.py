"""One fully connected layer, one mini-batch: forward (eq. 25) and BP1-BP4.

The forward pass sums the rows ``w_t[k]`` of an example's nonzero inputs
into ``z`` (:func:`dense_forward`); the backward pass adds each example's
gradient only to the rows of its nonzero inputs (:func:`dense_backward`).
Both change only the order in which numbers are added, and use fused
multiply-adds (one rounding instead of two), so the results agree with the
reference to rounding (see the tests for the tolerances).

The loops along a row are written with the explicit eight-float64 vectors of
:mod:`nndl_core.kernels.simd`: a row of ``z`` (or of ``delta``) stays in
vector registers while every input row is added (:func:`_sum_rows`,
:func:`_add_to_rows`), and no run-time overlap check runs per row.
"""

from numba import njit

from .._options import NJIT_OPTIONS
from ..simd import LANES, vfma, vload, vload_at, vstore, vstore_at, vzero
from .neurons import QUADRATIC, _activate, _derivative

__all__ = ["dense_backward", "dense_forward"]


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
    training); ``inputs`` lists each example's nonzero inputs (see
    :mod:`~nndl_core.kernels.dense.sparse`); ``a_out`` has shape (m, width),
    and its padding columns come out zero. Each example's weighted input is
    summed 32 columns at a time in registers (:func:`_sum_rows`), adding the
    rows in the listed order.
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
