"""Numba kernels for the fully connected sigmoid network of chapters 1-3.

Used by :class:`nndl_core.network.Network` with ``backend="numba"`` (chap1
onwards; chap3's L2 regularization through ``lmbda``). Each kernel mirrors a
piece of the readable reference in ``network.py``, and
``tests/kernels/test_dense.py`` checks that they agree: :func:`feedforward`
with ``Network.feedforward``, :func:`backprop` with ``Network.backprop``, and
:func:`train_epoch` with an epoch of ``Network.SGD`` (``update_mini_batch``
on consecutive slices of the shuffled order).

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

Why it is fast
--------------
About 80% of MNIST's pixels are exactly 0.0, and a product with an exact zero
adds nothing to a sum. So :func:`sparse_rows` lists each example's nonzero
inputs, and only those are visited:

* forward (eq. 25), ``z = b + sum_k a_k w_t[k]`` adds four rows ``w_t[k]``
  per pass over ``z`` (:func:`dense_forward`);
* backward, the gradient of each example goes straight into the weights,
  ``w_t[k] -= (eta/m) a_k delta`` for its nonzero inputs ``k``
  (:func:`dense_sgd_step`): rows of inputs that are zero in the whole
  mini-batch are never touched, since their gradient is zero.

Both change only the order in which numbers are added, so the results agree
with the reference to rounding (see the tests for the tolerances). One
compiled call runs a whole epoch on one core, in a workspace of a few small
arrays that stays in the CPU's caches; ``nndl_core.bench`` times it.

Versions
--------
Seconds of CPU time per epoch of [784, 30, 10] on the 50,000 MNIST training
images, mini-batch 10, on the project's 2-core machine (shared with other
jobs while measured; the NumPy reference took 0.50 there):

1. One example at a time, gradient accumulated per row: 0.27.
2. A mini-batch at a time, inputs regrouped by neuron (CSC) for forward and
   backward, one row per pass over ``z``: 0.26.
3. Four rows per pass over ``z``, rows padded to 8, gradient summed per
   mini-batch (CSC), then a separate update of the touched rows: 0.23.
4. (this file) Gradient applied per example without a ``nabla`` buffer,
   two images scanned per pass, branch-free sigmoid: 0.17-0.18. Of that,
   reading the 314 MB of images takes ~0.04, the first layer's forward
   ~0.045 and its update ~0.035, the small layers and sigmoids the rest.

Listing the nonzero pixels ahead on both cores (``prange``) was tried: on a
busy two-core machine every parallel region waits for a descheduled thread,
and the epoch took five times longer.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from ._options import NJIT_OPTIONS

__all__ = [
    "Layout",
    "Workspace",
    "backprop",
    "backprop_kernel",
    "dense_backward",
    "dense_forward",
    "dense_sgd_step",
    "feedforward",
    "feedforward_kernel",
    "network_backward",
    "network_forward",
    "network_sgd_step",
    "nonzero_indices",
    "pack",
    "sparse_rows",
    "train_epoch",
    "train_epoch_kernel",
    "unpack",
]

COSTS = {"quadratic": 0, "cross_entropy": 1}
QUADRATIC = COSTS["quadratic"]

FEEDFORWARD_CHUNK = 500  # examples per pass in feedforward_kernel

PAD = 8  # rows of w_t, z and delta are padded to a multiple of 8 float64s

Layout = namedtuple(
    "Layout", ["sizes", "widths", "w_offsets", "b_offsets", "node_offsets"]
)
Layout.__doc__ = """Where each layer lives in the flat buffers (int64 arrays).

``sizes`` (n_layers + 1,): neurons per layer, input first. ``widths``: the
same rounded up to a multiple of ``PAD``. A weight layer's ``w_t`` has shape
(sizes[l], widths[l+1]) and its ``b`` shape (widths[l+1],); the padding
columns are zero and stay zero (their deltas are zero), and they let every
loop over a row run in whole vector steps with no scalar remainder.
``w_offsets[l]``, ``b_offsets[l]``: where ``w_t`` and ``b`` of weight layer
``l`` start in ``params`` (and in ``nabla``, which has the same layout).
``node_offsets[l]``: where neuron layer ``l`` starts in a vector holding one
value per (padded) neuron; a workspace block of ``capacity`` rows for
layer ``l`` starts at ``capacity * node_offsets[l]``.
"""

Workspace = namedtuple(
    "Workspace",
    [
        "activations",
        "deltas",
        "nonzero",
        "nonzero_values",
        "n_nonzero",
        "all_rows",
    ],
)
Workspace.__doc__ = """Scratch arrays for mini-batches of up to ``capacity`` examples.

``activations``, ``deltas``: blocks (capacity, widths[l]) of :math:`a^l` and
:math:`\\delta^l` per neuron layer. For the input of each hidden weight layer:
``nonzero``, ``nonzero_values``, ``n_nonzero[l]`` (:func:`sparse_rows`).
``all_rows`` is ``arange(max(widths + [capacity]))``.
"""


# --- finding the nonzero inputs ---------------------------------------------


@njit(**NJIT_OPTIONS)
def nonzero_indices(a, nonzero, values):
    """List the inputs ``k`` with ``a[k] != 0`` and their values; return the count.

    Afterwards ``a[nonzero[i]] == values[i]`` for ``i < count``. NaN counts
    as nonzero, so a NaN input still reaches the outputs.
    """
    count = 0
    for k in range(a.shape[0]):
        nonzero[count] = k  # written every time, kept only if a[k] != 0: no branch
        values[count] = a[k]
        count += a[k] != 0.0
    return count


@njit(**NJIT_OPTIONS)
def _nonzero_indices_2(a, nonzero_a, values_a, b, nonzero_b, values_b):
    """:func:`nonzero_indices` of two inputs in one pass; return both counts.

    Two independent streams through memory and two independent counts keep
    the CPU busier than one: this pass is limited by reading the images.
    """
    count_a = 0
    count_b = 0
    for k in range(a.shape[0]):
        nonzero_a[count_a] = k
        values_a[count_a] = a[k]
        count_a += a[k] != 0.0
        nonzero_b[count_b] = k
        values_b[count_b] = b[k]
        count_b += b[k] != 0.0
    return count_a, count_b


@njit(**NJIT_OPTIONS)
def sparse_rows(inputs, row_ids, n_in, nonzero, values, n_nonzero):
    """List the nonzero inputs of each example ``inputs[row_ids[e], :n_in]``.

    Example ``e``'s are ``nonzero[e, :n_nonzero[e]]``, with values
    ``values[e, :n_nonzero[e]]`` (compressed sparse rows). Examples are
    taken two at a time (:func:`_nonzero_indices_2`).
    """
    m = row_ids.shape[0]
    for e in range(0, m - 1, 2):
        n_nonzero[e], n_nonzero[e + 1] = _nonzero_indices_2(
            inputs[row_ids[e]][:n_in],
            nonzero[e],
            values[e],
            inputs[row_ids[e + 1]][:n_in],
            nonzero[e + 1],
            values[e + 1],
        )
    if m % 2:
        a = inputs[row_ids[m - 1]][:n_in]
        n_nonzero[m - 1] = nonzero_indices(a, nonzero[m - 1], values[m - 1])


# --- one layer, one mini-batch ------------------------------------------------


@njit(**NJIT_OPTIONS)
def _sigmoid(z):
    """Scalar sigmoid, computed exactly as ``activations.sigmoid`` computes it.

    ``e = exp(-|z|)`` never overflows; then ``1/(1+e)`` for ``z >= 0`` and
    ``e/(1+e)`` for ``z < 0``. Both quotients come from one ``exp``, so the
    choice compiles to a select instead of a branch that mispredicts half
    the time.
    """
    e = np.exp(-abs(z))
    return (1.0 if z >= 0.0 else e) / (1.0 + e)


@njit(**NJIT_OPTIONS)
def dense_forward(w_t, b, nonzero, values, n_nonzero, n_out, a_out):
    """``a_out = sigmoid(w @ a_in + b)`` for a mini-batch (eq. 25), rows = examples.

    ``w_t`` is ``w`` transposed, shape (n_in, width) with zero columns past
    ``n_out``; each example's input is given by its nonzero entries
    (:func:`sparse_rows`); ``a_out`` has shape (m, width), and its padding
    columns come out zero. Four inputs are added per pass over ``z``, which
    saves three loads and stores of ``z`` in four; the sum is associated in
    groups of four, a change of rounding order only.
    """
    width = a_out.shape[1]
    for e in range(a_out.shape[0]):
        z = a_out[e]
        z[:] = 0.0
        count = n_nonzero[e]
        for i in range(0, count - 3, 4):
            w_1, w_2 = w_t[nonzero[e, i]], w_t[nonzero[e, i + 1]]
            w_3, w_4 = w_t[nonzero[e, i + 2]], w_t[nonzero[e, i + 3]]
            v_1, v_2 = values[e, i], values[e, i + 1]
            v_3, v_4 = values[e, i + 2], values[e, i + 3]
            for j in range(width):  # contiguous rows of w_t
                z[j] += (v_1 * w_1[j] + v_2 * w_2[j]) + (v_3 * w_3[j] + v_4 * w_4[j])
        for i in range(count - count % 4, count):
            w_1, v_1 = w_t[nonzero[e, i]], values[e, i]
            for j in range(width):
                z[j] += v_1 * w_1[j]
        for j in range(n_out):
            z[j] = _sigmoid(z[j] + b[j])


@njit(**NJIT_OPTIONS)
def dense_backward(nonzero, values, n_nonzero, delta, nabla_w_t, nabla_b):
    """Add BP3 and BP4, summed over a mini-batch, to ``nabla``; rows = examples.

    ``nabla_b += sum_e delta[e]`` and ``nabla_w_t[k] += a_in[e, k] * delta[e]``
    for each example ``e`` and each of its nonzero inputs ``k``
    (:func:`sparse_rows`): the other rows of the gradient get nothing to
    add. ``delta`` has shape (m, width).
    """
    for e in range(delta.shape[0]):
        delta_e = delta[e]
        for j in range(delta_e.shape[0]):
            nabla_b[j] += delta_e[j]
        for i in range(n_nonzero[e]):
            nabla_k, v = nabla_w_t[nonzero[e, i]], values[e, i]
            for j in range(nabla_k.shape[0]):
                nabla_k[j] += delta_e[j] * v


@njit(**NJIT_OPTIONS)
def dense_sgd_step(nonzero, values, n_nonzero, delta, w_t, b, step, decay):
    """:func:`dense_backward` folded into the gradient step, in place on ``w_t``, ``b``.

    ``update_mini_batch`` computes ``w -> decay * w - step * sum_e a_k(e)
    delta(e)`` (``step = eta/m``, ``decay = 1 - eta * lmbda / n`` or 1.0). Here
    each example's term is subtracted as soon as it is known,
    ``w_t[k] -= (step * a_k(e)) * delta(e)``, so no gradient is stored and
    only the rows of nonzero inputs are touched. That rounds differently
    from subtracting the sum once; the tests find the two within 1e-14 of
    each other after several epochs. The biases are summed first and not
    decayed, as in the reference.
    """
    for j in range(b.shape[0]):
        nabla_b = 0.0
        for e in range(delta.shape[0]):
            nabla_b += delta[e, j]
        b[j] = b[j] - step * nabla_b
    if decay != 1.0:  # L2: every row shrinks, with or without a gradient
        for k in range(w_t.shape[0]):
            for j in range(w_t.shape[1]):
                w_t[k, j] = decay * w_t[k, j]
    for e in range(delta.shape[0]):
        delta_e = delta[e]
        for i in range(n_nonzero[e]):
            w_k, scaled = w_t[nonzero[e, i]], step * values[e, i]
            for j in range(w_k.shape[0]):
                w_k[j] -= scaled * delta_e[j]


@njit(**NJIT_OPTIONS)
def _backpropagate_delta(w_t, a_in, delta, n_out, delta_in):
    """BP2: ``delta_in = (w^T delta) * sigma'(z_in)``, rows = examples.

    :math:`\\sigma'(z) = a(1 - a)` is computed from the stored activation
    exactly as ``sigmoid_prime`` computes it from ``z``. Only the first
    ``w_t.shape[0]`` columns of ``delta_in`` are written.
    """
    for e in range(delta_in.shape[0]):
        for k in range(w_t.shape[0]):
            s = 0.0
            for j in range(n_out):
                s += w_t[k, j] * delta[e, j]
            delta_in[e, k] = s * (a_in[e, k] * (1.0 - a_in[e, k]))


# --- the whole network, one mini-batch ----------------------------------------


@njit(**NJIT_OPTIONS)
def _weights_t(params, layout, l):
    n_in, width = layout.sizes[l], layout.widths[l + 1]
    start = layout.w_offsets[l]
    return params[start : start + n_in * width].reshape((n_in, width))


@njit(**NJIT_OPTIONS)
def _biases(params, layout, l):
    start = layout.b_offsets[l]
    return params[start : start + layout.widths[l + 1]]


@njit(**NJIT_OPTIONS)
def _block(buffer, layout, l, m):
    """Rows ``[:m]`` of neuron layer l's (capacity, widths[l]) block of ``buffer``."""
    capacity = buffer.shape[0] // (layout.node_offsets[-1] + layout.widths[-1])
    start = capacity * layout.node_offsets[l]
    n = layout.widths[l]
    return buffer[start : start + capacity * n].reshape((capacity, n))[:m]


@njit(**NJIT_OPTIONS)
def network_forward(params, layout, inputs, workspace):
    """Feed a mini-batch forward, keeping every layer's activations.

    ``inputs`` is ``(nonzero, values, n_nonzero)`` of the input layer, as
    :func:`sparse_rows` lists them (m rows).
    """
    nonzero, values, n_nonzero = inputs
    m = n_nonzero.shape[0]
    for l in range(layout.sizes.shape[0] - 1):
        if l > 0:
            nonzero = _block(workspace.nonzero, layout, l, m)
            values = _block(workspace.nonzero_values, layout, l, m)
            n_nonzero = workspace.n_nonzero[l, :m]
            a_in = _block(workspace.activations, layout, l, m)
            rows = workspace.all_rows[:m]
            sparse_rows(a_in, rows, layout.sizes[l], nonzero, values, n_nonzero)
        dense_forward(
            _weights_t(params, layout, l),
            _biases(params, layout, l),
            nonzero,
            values,
            n_nonzero,
            layout.sizes[l + 1],
            _block(workspace.activations, layout, l + 1, m),
        )


@njit(**NJIT_OPTIONS)
def _output_delta(a_out, y, n_out, cost_code, delta):
    """BP1 for a mini-batch; the padding columns of ``delta`` stay zero."""
    for e in range(y.shape[0]):
        for j in range(n_out):
            delta[e, j] = a_out[e, j] - y[e, j]
            if cost_code == QUADRATIC:
                delta[e, j] = delta[e, j] * (a_out[e, j] * (1.0 - a_out[e, j]))


@njit(**NJIT_OPTIONS)
def _sparse_input(workspace, layout, inputs, l, m):
    """The nonzero inputs of weight layer l (``inputs`` for the input layer)."""
    if l == 0:
        return inputs
    return (
        _block(workspace.nonzero, layout, l, m),
        _block(workspace.nonzero_values, layout, l, m),
        workspace.n_nonzero[l, :m],
    )


@njit(**NJIT_OPTIONS)
def network_backward(params, nabla, layout, inputs, y, cost_code, workspace):
    """Add the mini-batch's summed gradient (after its forward pass) to ``nabla``.

    BP1 for the output layer (``cost_code`` says which cost), then BP2-BP4
    from the last layer to the first.
    """
    n_layers = layout.sizes.shape[0] - 1
    m = y.shape[0]
    a_out = _block(workspace.activations, layout, n_layers, m)
    delta = _block(workspace.deltas, layout, n_layers, m)
    _output_delta(a_out, y, layout.sizes[-1], cost_code, delta)
    for l in range(n_layers - 1, -1, -1):
        nonzero, values, n_nonzero = _sparse_input(workspace, layout, inputs, l, m)
        delta = _block(workspace.deltas, layout, l + 1, m)
        dense_backward(
            nonzero,
            values,
            n_nonzero,
            delta,
            _weights_t(nabla, layout, l),
            _biases(nabla, layout, l),
        )
        if l > 0:
            _backpropagate_delta(
                _weights_t(params, layout, l),
                _block(workspace.activations, layout, l, m),
                delta,
                layout.sizes[l + 1],
                _block(workspace.deltas, layout, l, m),
            )


@njit(**NJIT_OPTIONS)
def network_sgd_step(params, layout, inputs, y, cost_code, step, decay, workspace):
    """``update_mini_batch`` after the forward pass: backpropagate and step.

    As :func:`network_backward`, but each layer's gradient goes straight into
    its parameters (:func:`dense_sgd_step`), after that layer has passed its
    delta back (BP2 needs the weights from before the step).
    """
    n_layers = layout.sizes.shape[0] - 1
    m = y.shape[0]
    a_out = _block(workspace.activations, layout, n_layers, m)
    delta = _block(workspace.deltas, layout, n_layers, m)
    _output_delta(a_out, y, layout.sizes[-1], cost_code, delta)
    for l in range(n_layers - 1, -1, -1):
        nonzero, values, n_nonzero = _sparse_input(workspace, layout, inputs, l, m)
        delta = _block(workspace.deltas, layout, l + 1, m)
        w_t = _weights_t(params, layout, l)
        if l > 0:
            a_in = _block(workspace.activations, layout, l, m)
            delta_in = _block(workspace.deltas, layout, l, m)
            _backpropagate_delta(w_t, a_in, delta, layout.sizes[l + 1], delta_in)
        dense_sgd_step(
            nonzero,
            values,
            n_nonzero,
            delta,
            w_t,
            _biases(params, layout, l),
            step,
            decay,
        )


# --- drivers: many examples in one compiled call --------------------------------


@njit(**NJIT_OPTIONS)
def _make_workspace(layout, capacity):
    n_layers = layout.sizes.shape[0] - 1
    n_neurons = layout.node_offsets[-1] + layout.widths[-1]
    return Workspace(
        np.zeros(capacity * n_neurons),  # activations
        np.zeros(capacity * n_neurons),  # deltas
        np.zeros(capacity * n_neurons, dtype=np.int64),  # nonzero
        np.zeros(capacity * n_neurons),  # nonzero_values
        np.zeros((n_layers, capacity), dtype=np.int64),  # n_nonzero
        np.arange(max(layout.widths.max(), capacity)),  # all_rows
    )


@njit(**NJIT_OPTIONS)
def _make_input_rows(capacity, n_in):
    """Buffers for :func:`sparse_rows` of ``capacity`` input examples."""
    return (
        np.zeros((capacity, n_in), dtype=np.int64),
        np.zeros((capacity, n_in)),
        np.zeros(capacity, dtype=np.int64),
    )


@njit(**NJIT_OPTIONS)
def train_epoch_kernel(
    images, labels, order, mini_batch_size, eta, decay, cost_code, params, layout
):
    """One epoch of mini-batch SGD over ``images[order]``, in place on ``params``.

    Mini-batch ``k`` is ``order[k : k + mini_batch_size]`` (the last may be
    shorter); each does what ``Network.update_mini_batch`` does.
    """
    n = order.shape[0]
    capacity = max(1, min(mini_batch_size, n))  # a huge mini-batch needs no more
    workspace = _make_workspace(layout, capacity)
    y = np.zeros((capacity, layout.sizes[-1]))
    n_in = layout.sizes[0]
    inputs = _make_input_rows(capacity, n_in)
    for start in range(0, n, mini_batch_size):
        stop = min(start + mini_batch_size, n)
        m = stop - start
        y[:m] = 0.0
        for e in range(m):
            y[e, labels[order[start + e]]] = 1.0  # one-hot desired outputs
        nonzero, values, n_nonzero = inputs[0][:m], inputs[1][:m], inputs[2][:m]
        sparse_rows(images, order[start:stop], n_in, nonzero, values, n_nonzero)
        batch = (nonzero, values, n_nonzero)
        network_forward(params, layout, batch, workspace)
        step = eta / m
        network_sgd_step(
            params, layout, batch, y[:m], cost_code, step, decay, workspace
        )


@njit(**NJIT_OPTIONS)
def backprop_kernel(x_rows, y_rows, cost_code, params, layout, nabla):
    """Write the gradient summed over the rows of ``x_rows`` to zeroed ``nabla``."""
    m = x_rows.shape[0]
    workspace = _make_workspace(layout, m)
    inputs = _make_input_rows(m, layout.sizes[0])
    sparse_rows(x_rows, workspace.all_rows[:m], layout.sizes[0], *inputs)
    network_forward(params, layout, inputs, workspace)
    network_backward(params, nabla, layout, inputs, y_rows, cost_code, workspace)


@njit(**NJIT_OPTIONS)
def feedforward_kernel(x_rows, params, layout, out_rows):
    """Write the network's output for each row of ``x_rows`` to ``out_rows``."""
    n = x_rows.shape[0]
    n_layers = layout.sizes.shape[0] - 1
    workspace = _make_workspace(layout, FEEDFORWARD_CHUNK)
    nonzero, values, n_nonzero = _make_input_rows(FEEDFORWARD_CHUNK, layout.sizes[0])
    for start in range(0, n, FEEDFORWARD_CHUNK):
        stop = min(start + FEEDFORWARD_CHUNK, n)
        m = stop - start
        row_ids = workspace.all_rows[:m] + start
        sparse_rows(x_rows, row_ids, layout.sizes[0], nonzero, values, n_nonzero)
        inputs = (nonzero[:m], values[:m], n_nonzero[:m])
        network_forward(params, layout, inputs, workspace)
        a_out = _block(workspace.activations, layout, n_layers, m)
        out_rows[start:stop] = a_out[:, : layout.sizes[-1]]


# --- Python wrappers: validate, pack, call, unpack -----------------------------


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
    n_in, n_out = sizes[:-1], sizes[1:]
    layer_sizes = n_in * widths[1:] + widths[1:]
    starts = np.concatenate(([0], np.cumsum(layer_sizes)[:-1])).astype(np.int64)
    layout = Layout(
        sizes=sizes,
        widths=widths,
        w_offsets=starts,
        b_offsets=starts + n_in * widths[1:],
        node_offsets=np.concatenate(([0], np.cumsum(widths)[:-1])).astype(np.int64),
    )
    params = np.zeros(int(layer_sizes.sum()))
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        if w.shape != (n_out[l], n_in[l]) or b.shape != (n_out[l], 1):
            raise ValueError(
                f"layer {l}: weights {w.shape} and biases {b.shape} do not match "
                f"sizes {net.sizes}"
            )
        w_t = params[layout.w_offsets[l] : layout.b_offsets[l]].reshape(n_in[l], -1)
        w_t[:, : n_out[l]] = w.T  # (n_out, n_in) -> w_t (n_in, width)
        params[layout.b_offsets[l] : layout.b_offsets[l] + n_out[l]] = b[:, 0]
    return layout, params


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


def _read_only(a):
    """A read-only view of ``a``.

    The kernels never write their inputs. Passing them read-only means that
    writable arrays and the read-only ones ``load_mnist`` returns share one
    compiled specialization (Numba types the two differently).
    """
    view = a.view()
    view.flags.writeable = False
    return view


def _cost_code(cost):
    name = getattr(cost, "name", None)
    if name not in COSTS:
        raise NotImplementedError(
            f"the numba backend has no kernel for the cost {name!r} "
            f"(it has {sorted(COSTS)}); use backend='numpy'"
        )
    return COSTS[name]


def _rows(a, n, what):
    """``a`` of shape (n, batch) or (n,) as C-contiguous float64 rows (batch, n)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim not in (1, 2) or a.shape[0] != n:
        raise ValueError(
            f"{what} must have shape ({n},) or ({n}, batch), got {a.shape}"
        )
    return np.ascontiguousarray(a.reshape(n, -1).T)  # columns -> rows


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
    feedforward_kernel(_read_only(x_rows), params, layout, out_rows)
    return out_rows.T.reshape((-1,) + np.shape(a)[1:])


def backprop(net, x, y):
    """Kernel version of ``Network.backprop``: gradient summed over columns of ``x``.

    Parameters
    ----------
    net : Network
    x : ndarray of shape (n_in, m)
    y : ndarray of shape (n_out, m)

    Returns
    -------
    nabla_b, nabla_w : lists of ndarray
        Shaped like ``net.biases`` and ``net.weights``.
    """
    x_rows = _rows(x, net.sizes[0], "x")
    y_rows = _rows(y, net.sizes[-1], "y")
    if x_rows.shape[0] != y_rows.shape[0]:
        raise ValueError(f"x has {x_rows.shape[0]} columns but y has {y_rows.shape[0]}")
    cost_code = _cost_code(net.cost)
    layout, params = pack(net)
    nabla = np.zeros_like(params)
    backprop_kernel(_read_only(x_rows), y_rows, cost_code, params, layout, nabla)
    nabla_w, nabla_b = unpack(layout, nabla)
    return nabla_b, nabla_w


def train_epoch(net, images, labels, order, mini_batch_size, eta, lmbda=0.0, n=None):
    """One epoch of SGD on the compiled path, updating ``net`` in place.

    Does what ``Network._train_epoch`` does with the NumPy backend: for each
    consecutive slice ``idx = order[k : k + mini_batch_size]`` it applies
    ``update_mini_batch(images[idx].T, one_hot(labels[idx]), eta)``. With
    ``lmbda > 0`` it adds L2 weight decay as in chapter 3,
    ``w -> (1 - eta * lmbda / n) w - (eta / m) nabla_w`` (biases not decayed).

    Parameters
    ----------
    net : Network
        Its ``weights`` and ``biases`` are replaced by the trained ones.
    images : ndarray of shape (n_samples, n_in)
    labels : ndarray of shape (n_samples,)
        Integers in ``[0, n_out)``.
    order : ndarray of shape (n_samples,)
        This epoch's shuffle, drawn by the caller (kernels draw no random numbers).
    mini_batch_size : int
    eta : float
        Learning rate.
    lmbda : float, default 0.0
        L2 regularization parameter; 0.0 turns weight decay off.
    n : int, optional
        Training-set size in the decay factor; defaults to ``len(images)``.
    """
    images = np.ascontiguousarray(images, dtype=np.float64)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    order = np.ascontiguousarray(order, dtype=np.int64)
    n_samples, n_in, n_out = len(images), net.sizes[0], net.sizes[-1]
    if images.shape != (n_samples, n_in) or labels.shape != (n_samples,):
        raise ValueError(
            f"images must have shape (n, {n_in}) and labels (n,); got "
            f"{images.shape} and {labels.shape}"
        )
    if order.ndim != 1 or (
        len(order) and not 0 <= order.min() <= order.max() < n_samples
    ):
        raise ValueError(f"order must hold row indices in [0, {n_samples})")
    if n_samples and not 0 <= labels.min() <= labels.max() < n_out:
        raise ValueError(f"labels must be integers in [0, {n_out})")
    if int(mini_batch_size) < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    if lmbda < 0:
        raise ValueError(f"lmbda must be >= 0, got {lmbda}")
    n = n_samples if n is None else n
    decay = 1.0 - eta * lmbda / n  # as update_mini_batch; 1.0 when lmbda == 0
    cost_code = _cost_code(net.cost)
    layout, params = pack(net)
    train_epoch_kernel(
        _read_only(images),
        _read_only(labels),
        _read_only(order),
        int(mini_batch_size),
        float(eta),
        float(decay),
        cost_code,
        params,
        layout,
    )
    net.weights, net.biases = unpack(layout, params)
