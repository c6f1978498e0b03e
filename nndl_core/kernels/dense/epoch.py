"""One epoch of mini-batch SGD on the compiled path: :func:`train_epoch`.

Used by :meth:`nndl_core.network.Network.SGD` (chap1, chap2) and
:func:`nndl_core.trainer.train` (chap3, chap5) with ``backend="numba"``.
:func:`train_epoch` checks its arguments, packs the network
(:mod:`~nndl_core.kernels.dense.layout`), and runs the epoch in one compiled
call: plain SGD on one thread or two (:mod:`~nndl_core.kernels.dense.threads`),
momentum on one (:mod:`~nndl_core.kernels.dense.momentum`). The tests
(``tests/kernels/dense/test_epoch.py``) check every option against the
readable references: ``Network.update_mini_batch`` for plain SGD with L2,
``regularization.sgd_step`` for L1, dropout and momentum.

Dropout (inverted, as ``regularization.dropout_backprop``) needs one mask
per mini-batch and hidden layer. The kernels draw no random numbers:
:func:`dropout_masks` draws an epoch's masks in Python from the caller's
generator, in the reference's order, and the kernel reads row ``k`` for
mini-batch ``k``.
"""

import numpy as np

from ...validation import check_labels
from .layout import pack, pack_like, read_only, unpack
from .momentum import momentum_epoch_kernel
from .neurons import cost_code
from .sparse import SparseImages, to_sparse
from .steps import PENALTIES, Rule
from .threads import parts, run_parts

__all__ = ["dropout_masks", "train_epoch"]


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
        Threads for plain SGD (:func:`threads.train_epoch_part`); the
        result is the same for any number. Defaults to
        :func:`threads.default_threads`.

    Returns
    -------
    list of int
        Plain SGD: how many of the first layer's tasks (a sum and a step per
        half of its rows and mini-batch) each thread ran, thread 0 first;
        with momentum, an empty list.
    """
    if not isinstance(images, SparseImages):
        images = to_sparse(images)
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
        cost=cost_code(net),
    )
    layout, params = pack(net)
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
    flat_velocities = pack_like(layout, *velocities) if mu else np.zeros(0)
    labels, order = read_only(labels), read_only(order)
    n_threads = parts(mu, threads)  # checks threads, also with mu
    common = (labels, order, mini_batch_size, rule, masks, params)
    if mu:
        arrays = (images.indptr, images.indices, images.values)
        momentum_epoch_kernel(arrays, *common, flat_velocities, layout)
        ran = []
    else:
        ran = run_parts(n_threads, images, *common, layout)
    net.weights, net.biases = unpack(layout, params)
    if mu:
        v_w, v_b = unpack(layout, flat_velocities)
        velocities[0][:], velocities[1][:] = v_w, v_b
    return ran
