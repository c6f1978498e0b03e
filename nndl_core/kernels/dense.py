"""Numba kernels for the fully connected sigmoid network of chapters 1-3.

Used by :class:`nndl_core.network.Network` with ``backend="numba"`` (chap1
onwards, and chap3's L2 regularization). Each kernel mirrors a piece of the
readable reference in ``network.py`` and ``tests/kernels/test_dense.py`` checks
that they agree: :func:`feedforward` with ``Network.feedforward``,
:func:`backprop` with ``Network.backprop``, and :func:`train_epoch` with one
epoch of ``Network.SGD`` (``update_mini_batch`` on consecutive slices of the
shuffled order).

Layout
------
The Python wrappers pack ``net.weights`` and ``net.biases`` into one flat
float64 buffer ``params``. Layer ``l`` stores its weights *transposed*, as
``w_t`` of shape (n_in, n_out) in row-major order, then its biases (n_out,).
Transposed, the weights fanning out of input neuron ``k`` form one contiguous
row ``w_t[k]``; that makes the trick below cheap.

Why it is fast
--------------
About 80% of MNIST's pixels are exactly 0.0, and a product with an exact zero
adds nothing to a sum. So the kernels first list the nonzero inputs of each
layer (:func:`nonzero_indices`), and both the forward sum ``w @ a`` and the
weight gradient ``delta a^T`` (BP4) visit only those. Skipping exact zeros
changes nothing but the order of summation. The gradient of a mini-batch is
summed in a buffer ``nabla`` and applied as ``w - (eta/m) * nabla`` exactly as
``update_mini_batch`` does, but only to the rows ``w_t[k]`` of inputs that
were nonzero somewhere in the mini-batch: the other rows have a zero gradient,
and ``w - (eta/m) * 0.0 == w``. (With L2 decay every row changes and every row
is updated.) A whole epoch runs in one compiled call; one example at a time
goes forward and backward, so the workspace is a few vectors that stay in the
CPU's L1 cache.

Versions
--------
1. This file: per example, zero inputs skipped, gradient summed per
   mini-batch, update restricted to touched rows. (A dense version without
   the zero-skipping is what ``Network`` itself does with NumPy.)
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
    "dense_update",
    "feedforward",
    "feedforward_kernel",
    "network_backward",
    "network_forward",
    "network_update",
    "nonzero_indices",
    "pack",
    "train_epoch",
    "train_epoch_kernel",
    "unpack",
]

COSTS = {"quadratic": 0, "cross_entropy": 1}
QUADRATIC, CROSS_ENTROPY = COSTS["quadratic"], COSTS["cross_entropy"]

Layout = namedtuple("Layout", ["sizes", "w_offsets", "b_offsets", "node_offsets"])
Layout.__doc__ = """Where each layer lives in the flat buffers (all int64 arrays).

``sizes`` (n_layers + 1,) are the neurons per layer, input first.
``w_offsets[l]`` and ``b_offsets[l]`` are where ``w_t`` and ``b`` of weight
layer ``l`` start in ``params`` (and in ``nabla``, which has the same layout).
``node_offsets[l]`` is where neuron layer ``l`` starts in the per-neuron
workspace vectors.
"""

Workspace = namedtuple(
    "Workspace",
    ["activations", "deltas", "y", "nonzero", "n_nonzero", "touched", "touched_rows"],
)
Workspace.__doc__ = """Scratch vectors for one example, allocated once per kernel call.

``activations`` and ``deltas`` hold :math:`a^l` and :math:`\\delta^l` of every
neuron layer and ``y`` the desired output. For the input of each weight layer
``l``: ``nonzero`` lists the inputs that are not exactly zero, and
``n_nonzero[l]`` counts them; ``touched`` flags the rows ``w_t[k]`` that have a
gradient in the current mini-batch and ``touched_rows`` lists them. All the
per-neuron vectors are indexed with ``Layout.node_offsets``.
"""


# --- one layer, one example -------------------------------------------------


@njit(**NJIT_OPTIONS)
def _sigmoid(z):
    """Scalar sigmoid in the branch form of ``activations.sigmoid`` (stable)."""
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(**NJIT_OPTIONS)
def nonzero_indices(a, nonzero):
    """Write the indices ``k`` with ``a[k] != 0`` to ``nonzero``; return their count.

    NaN counts as nonzero, so a NaN input still reaches the outputs.
    """
    count = 0
    for k in range(a.shape[0]):
        nonzero[count] = k  # written every time, kept only if a[k] != 0: no branch
        count += a[k] != 0.0
    return count


@njit(**NJIT_OPTIONS)
def dense_forward(w_t, b, a_in, nonzero, a_out):
    """``a_out = sigmoid(w @ a_in + b)`` for one example (eq. 25).

    ``w_t`` is ``w`` transposed, shape (n_in, n_out); only the inputs listed
    in ``nonzero`` are summed.
    """
    n_out = a_out.shape[0]
    for j in range(n_out):
        a_out[j] = 0.0
    for i in range(nonzero.shape[0]):
        k = nonzero[i]
        a_k = a_in[k]
        for j in range(n_out):  # contiguous row w_t[k]
            a_out[j] += a_k * w_t[k, j]
    for j in range(n_out):
        a_out[j] = _sigmoid(a_out[j] + b[j])


@njit(**NJIT_OPTIONS)
def dense_backward(w_t, a_in, nonzero, delta, nabla_w_t, nabla_b, delta_in):
    """Add one example's gradient to ``nabla`` and pass ``delta`` back a layer.

    BP3 and BP4: ``nabla_b += delta`` and ``nabla_w += delta a_in^T`` (stored
    transposed, over the nonzero inputs only). BP2, unless ``delta_in`` is
    empty (the input layer needs no delta): ``delta_in = (w^T delta) * sigma'``
    with :math:`\\sigma'(z) = a(1 - a)` computed from the stored activation,
    exactly as ``sigmoid_prime`` computes it.
    """
    n_out = delta.shape[0]
    for j in range(n_out):
        nabla_b[j] += delta[j]
    for i in range(nonzero.shape[0]):
        k = nonzero[i]
        a_k = a_in[k]
        for j in range(n_out):
            nabla_w_t[k, j] += delta[j] * a_k
    for k in range(delta_in.shape[0]):
        s = 0.0
        for j in range(n_out):
            s += w_t[k, j] * delta[j]
        delta_in[k] = s * (a_in[k] * (1.0 - a_in[k]))


@njit(**NJIT_OPTIONS)
def _update_row(w, nabla_w, step, decay):
    for j in range(w.shape[0]):
        w[j] = decay * w[j] - step * nabla_w[j]
        nabla_w[j] = 0.0


@njit(**NJIT_OPTIONS)
def dense_update(w_t, b, nabla_w_t, nabla_b, rows, step, decay):
    """``w -> decay * w - step * nabla_w`` and ``b -> b - step * nabla_b``; zero ``nabla``.

    ``decay = 1 - eta * lmbda / n`` is the L2 factor (1.0 without it, and then
    ``1.0 * w == w`` exactly, as in ``update_mini_batch``); ``step = eta / m``.
    Without decay only ``rows`` of ``w_t`` are updated (the others have a zero
    gradient); with decay all are. The biases are not decayed.
    """
    n_out = b.shape[0]
    if decay == 1.0:
        for i in range(rows.shape[0]):
            _update_row(w_t[rows[i]], nabla_w_t[rows[i]], step, decay)
    else:  # L2: every row shrinks, with or without a gradient
        for k in range(w_t.shape[0]):
            _update_row(w_t[k], nabla_w_t[k], step, decay)
    for j in range(n_out):
        b[j] = b[j] - step * nabla_b[j]
        nabla_b[j] = 0.0


# --- the whole network, one example -----------------------------------------


@njit(**NJIT_OPTIONS)
def _weights_t(params, layout, l):
    n_in, n_out = layout.sizes[l], layout.sizes[l + 1]
    start = layout.w_offsets[l]
    return params[start : start + n_in * n_out].reshape((n_in, n_out))


@njit(**NJIT_OPTIONS)
def _biases(params, layout, l):
    start = layout.b_offsets[l]
    return params[start : start + layout.sizes[l + 1]]


@njit(**NJIT_OPTIONS)
def _layer(vector, layout, l):
    """The slice of a per-neuron workspace vector that belongs to neuron layer l."""
    start = layout.node_offsets[l]
    return vector[start : start + layout.sizes[l]]


@njit(**NJIT_OPTIONS)
def network_forward(params, layout, x, workspace):
    """Feed one example ``x`` (n_in,) forward, keeping every layer's activations."""
    activations = workspace.activations
    _layer(activations, layout, 0)[:] = x
    for l in range(layout.sizes.shape[0] - 1):
        a_in = _layer(activations, layout, l)
        nonzero = _layer(workspace.nonzero, layout, l)
        count = nonzero_indices(a_in, nonzero)
        workspace.n_nonzero[l] = count
        dense_forward(
            _weights_t(params, layout, l),
            _biases(params, layout, l),
            a_in,
            nonzero[:count],
            _layer(activations, layout, l + 1),
        )


@njit(**NJIT_OPTIONS)
def _mark_touched(nonzero, touched, touched_rows, count):
    """Add the rows in ``nonzero`` not yet in ``touched_rows[:count]``; new count."""
    for i in range(nonzero.shape[0]):
        k = nonzero[i]
        if not touched[k]:
            touched[k] = True
            touched_rows[count] = k
            count += 1
    return count


@njit(**NJIT_OPTIONS)
def network_backward(params, nabla, layout, y, cost_code, workspace, n_touched):
    """Add the gradient of one example (after :func:`network_forward`) to ``nabla``.

    BP1 for the output layer (``cost_code`` says which cost), then
    :func:`dense_backward` from the last layer to the first.
    """
    n_layers = layout.sizes.shape[0] - 1
    a_out = _layer(workspace.activations, layout, n_layers)
    delta = _layer(workspace.deltas, layout, n_layers)
    for j in range(a_out.shape[0]):  # BP1
        delta[j] = a_out[j] - y[j]
        if cost_code == QUADRATIC:
            delta[j] = delta[j] * (a_out[j] * (1.0 - a_out[j]))
    for l in range(n_layers - 1, -1, -1):
        nonzero = _layer(workspace.nonzero, layout, l)[: workspace.n_nonzero[l]]
        n_touched[l] = _mark_touched(
            nonzero,
            _layer(workspace.touched, layout, l),
            _layer(workspace.touched_rows, layout, l),
            n_touched[l],
        )
        delta_in = _layer(workspace.deltas, layout, l)
        dense_backward(
            _weights_t(params, layout, l),
            _layer(workspace.activations, layout, l),
            nonzero,
            _layer(workspace.deltas, layout, l + 1),
            _weights_t(nabla, layout, l),
            _biases(nabla, layout, l),
            delta_in if l > 0 else delta_in[:0],
        )


@njit(**NJIT_OPTIONS)
def network_update(params, nabla, layout, workspace, n_touched, step, decay):
    """One gradient step with the summed gradient in ``nabla``, then clear it."""
    for l in range(layout.sizes.shape[0] - 1):
        touched = _layer(workspace.touched, layout, l)
        rows = _layer(workspace.touched_rows, layout, l)[: n_touched[l]]
        for i in range(rows.shape[0]):
            touched[rows[i]] = False
        dense_update(
            _weights_t(params, layout, l),
            _biases(params, layout, l),
            _weights_t(nabla, layout, l),
            _biases(nabla, layout, l),
            rows,
            step,
            decay,
        )
        n_touched[l] = 0


# --- drivers: many examples in one compiled call -----------------------------


@njit(**NJIT_OPTIONS)
def train_epoch_kernel(
    images, labels, order, mini_batch_size, eta, decay, cost_code, params, layout
):
    """One epoch of mini-batch SGD over ``images[order]``, in place on ``params``.

    Mini-batch ``k`` is ``order[k : k + mini_batch_size]`` (the last may be
    shorter); each does what ``Network.update_mini_batch`` does.
    """
    workspace = _make_workspace(layout)
    nabla = np.zeros_like(params)
    n_touched = np.zeros(layout.sizes.shape[0] - 1, dtype=np.int64)
    y = workspace.y
    n = order.shape[0]
    for start in range(0, n, mini_batch_size):
        stop = min(start + mini_batch_size, n)
        for i in range(start, stop):
            row = order[i]
            y[:] = 0.0
            y[labels[row]] = 1.0  # the one-hot desired output
            network_forward(params, layout, images[row], workspace)
            network_backward(params, nabla, layout, y, cost_code, workspace, n_touched)
        step = eta / (stop - start)
        network_update(params, nabla, layout, workspace, n_touched, step, decay)


@njit(**NJIT_OPTIONS)
def backprop_kernel(x_rows, y_rows, cost_code, params, layout, nabla):
    """Sum the gradients of the examples in the rows of ``x_rows`` into ``nabla``."""
    workspace = _make_workspace(layout)
    n_touched = np.zeros(layout.sizes.shape[0] - 1, dtype=np.int64)
    for i in range(x_rows.shape[0]):
        network_forward(params, layout, x_rows[i], workspace)
        network_backward(
            params, nabla, layout, y_rows[i], cost_code, workspace, n_touched
        )


@njit(**NJIT_OPTIONS)
def feedforward_kernel(x_rows, params, layout, out_rows):
    """Write the network's output for each row of ``x_rows`` to ``out_rows``."""
    workspace = _make_workspace(layout)
    n_layers = layout.sizes.shape[0] - 1
    for i in range(x_rows.shape[0]):
        network_forward(params, layout, x_rows[i], workspace)
        out_rows[i] = _layer(workspace.activations, layout, n_layers)


@njit(**NJIT_OPTIONS)
def _make_workspace(layout):
    n_neurons = layout.node_offsets[-1] + layout.sizes[-1]
    return Workspace(
        activations=np.zeros(n_neurons),
        deltas=np.zeros(n_neurons),
        y=np.zeros(layout.sizes[-1]),
        nonzero=np.zeros(n_neurons, dtype=np.int64),
        n_nonzero=np.zeros(layout.sizes.shape[0] - 1, dtype=np.int64),
        touched=np.zeros(n_neurons, dtype=np.bool_),
        touched_rows=np.zeros(n_neurons, dtype=np.int64),
    )


# --- Python wrappers: validate, pack, call, unpack ---------------------------


def pack(net):
    """Pack ``net.weights`` and ``net.biases`` into ``(layout, params)``.

    Returns
    -------
    layout : Layout
    params : ndarray of shape (n_params,)
        For each layer, ``w.T`` row-major then ``b``.
    """
    sizes = np.asarray(net.sizes, dtype=np.int64)
    n_in, n_out = sizes[:-1], sizes[1:]
    layer_sizes = n_in * n_out + n_out
    starts = np.concatenate(([0], np.cumsum(layer_sizes)[:-1])).astype(np.int64)
    layout = Layout(
        sizes=sizes,
        w_offsets=starts,
        b_offsets=starts + n_in * n_out,
        node_offsets=np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64),
    )
    params = np.empty(int(layer_sizes.sum()))
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):  # noqa: E741 (book's l)
        if w.shape != (n_out[l], n_in[l]) or b.shape != (n_out[l], 1):
            raise ValueError(
                f"layer {l}: weights {w.shape} and biases {b.shape} do not match "
                f"sizes {net.sizes}"
            )
        start, middle = layout.w_offsets[l], layout.b_offsets[l]
        params[start:middle] = w.T.ravel()  # (n_out, n_in) -> w_t (n_in, n_out)
        params[middle : middle + n_out[l]] = b[:, 0]
    return layout, params


def unpack(layout, params):
    """Inverse of :func:`pack`: lists ``weights`` (n_out, n_in), ``biases`` (n_out, 1)."""
    weights, biases = [], []
    for l in range(len(layout.sizes) - 1):  # noqa: E741 (book's l)
        n_in, n_out = int(layout.sizes[l]), int(layout.sizes[l + 1])
        start, middle = layout.w_offsets[l], layout.b_offsets[l]
        w_t = params[start:middle].reshape(n_in, n_out)
        weights.append(np.ascontiguousarray(w_t.T))
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
        raise ValueError(f"{what} must have shape ({n},) or ({n}, batch), got {a.shape}")
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
    feedforward_kernel(x_rows, params, layout, out_rows)
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
    backprop_kernel(x_rows, y_rows, cost_code, params, layout, nabla)
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
    if order.ndim != 1 or (len(order) and not 0 <= order.min() <= order.max() < n_samples):
        raise ValueError(f"order must hold row indices in [0, {n_samples})")
    if n_samples and not 0 <= labels.min() <= labels.max() < n_out:
        raise ValueError(f"labels must be integers in [0, {n_out})")
    if int(mini_batch_size) < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    if lmbda < 0:
        raise ValueError(f"lmbda must be >= 0, got {lmbda}")
    n = n_samples if n is None else n
    decay = 1.0 - eta * (lmbda / n) if lmbda else 1.0
    cost_code = _cost_code(net.cost)
    layout, params = pack(net)
    train_epoch_kernel(
        _read_only(images), _read_only(labels), _read_only(order), int(mini_batch_size), float(eta), decay, cost_code,
        params, layout,
    )
    net.weights, net.biases = unpack(layout, params)
