"""Numba kernels for a whole epoch of mini-batch SGD on a fully connected network.

Used by :meth:`nndl_core.network.Network.SGD` (chap1, chap2) and
:func:`nndl_core.trainer.train` (chap3, chap5) with ``backend="numba"``. One
compiled call runs an epoch: for each mini-batch, the forward pass and
backpropagation of :mod:`nndl_core.kernels.dense`, then the step
(:mod:`nndl_core.kernels.dense_steps`). Plain SGD runs on one thread or two
(:mod:`nndl_core.kernels.dense_threads`), momentum on one
(:func:`momentum_epoch_kernel`). The tests
(``tests/kernels/test_dense_sgd.py``) check every option against the
readable references: ``Network.update_mini_batch`` for plain SGD with L2,
``regularization.sgd_step`` for L1, dropout and momentum.

Dropout (inverted, as ``regularization.dropout_backprop``) needs one mask
per mini-batch and hidden layer. The kernels draw no random numbers:
:func:`dropout_masks` draws an epoch's masks in Python from the caller's
generator, in the reference's order, and the kernel reads row ``k`` for
mini-batch ``k``.
"""

import numpy as np
from numba import njit

from ..validation import check_labels
from . import dense, dense_threads
from ._options import NJIT_OPTIONS
from .dense import (
    batch_rows,
    input_rows,
    make_workspace,
    network_backward,
    network_forward,
)
from .dense_steps import (
    PENALTIES,
    Rule,
    momentum_step,
    one_hot_batch,
    prefetch_next_batch,
)
from .simd import aligned_zeros

__all__ = [
    "dropout_masks",
    "momentum_epoch_kernel",
    "train_epoch",
]


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
    Plain SGD is :func:`dense_threads.train_epoch_part`.
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
        one_hot_batch(labels, order, start, y[:m])
        prefetch_next_batch(listed, batch, mini_batch_size, 0)
        inputs = batch_rows(listed, start, start + m)
        mask = masks[batch] if masks.shape[0] else ones
        network_forward(params, layout, inputs, mask, workspace)
        prefetch_next_batch(listed, batch, mini_batch_size, 1)
        network_backward(
            params, nabla, layout, inputs, mask, y[:m], rule.cost, workspace
        )
        momentum_step(params, velocities, nabla, layout, m, rule)


# --- Python wrappers ----------------------------------------------------------


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


def _check(net, labels, order, n_samples, mini_batch_size, lmbda, mu, dropout):
    n_out = net.sizes[-1]
    if labels.shape != (n_samples,):
        raise ValueError(f"labels must have shape ({n_samples},), got {labels.shape}")
    if order.ndim != 1 or (
        len(order) and not 0 <= order.min() <= order.max() < n_samples
    ):
        raise ValueError(f"order must hold row indices in [0, {n_samples})")
    check_labels(labels, n_out)
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
        Threads for plain SGD (:func:`dense_threads.train_epoch_part`); the
        result is the same for any number. Defaults to
        :func:`dense_threads.default_threads`.

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
    n_threads = dense_threads.parts(mu, threads)  # checks threads, also with mu
    common = (labels, order, mini_batch_size, rule, masks, params)
    if mu:
        arrays = (images.indptr, images.indices, images.values)
        momentum_epoch_kernel(arrays, *common, flat_velocities, layout)
        ran = []
    else:
        ran = dense_threads.run_parts(n_threads, images, *common, layout)
    net.weights, net.biases = dense.unpack(layout, params)
    if mu:
        v_w, v_b = dense.unpack(layout, flat_velocities)
        velocities[0][:], velocities[1][:] = v_w, v_b
    return ran
