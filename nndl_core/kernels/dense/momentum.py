"""SGD with momentum: one epoch in one compiled call, on one thread.

Momentum's step moves every weight in every mini-batch, so each mini-batch's
gradient is summed (:func:`passes.network_backward`) and then applied
(:func:`steps.momentum_step`), exactly as ``regularization.sgd_step`` does.
Plain SGD, which can skip the zero pixels in its step too, runs in
:mod:`nndl_core.kernels.dense.threads`; both are started by
:func:`nndl_core.kernels.dense.epoch.train_epoch`.
"""

import numpy as np
from numba import njit

from .._options import NJIT_OPTIONS
from ..simd import aligned_zeros
from .layout import make_workspace
from .passes import network_backward, network_forward
from .sparse import batch_rows, input_rows
from .steps import momentum_step, one_hot_batch, prefetch_next_batch

__all__ = ["momentum_epoch_kernel"]


@njit(**NJIT_OPTIONS)
def momentum_epoch_kernel(
    images, labels, order, mini_batch_size, rule, masks, params, velocities, layout
):
    """One epoch of SGD with momentum over ``images[order]``, in place.

    Mini-batch ``k`` is ``order[k * mini_batch_size : (k + 1) *
    mini_batch_size]`` (the last may be shorter), with dropout masks
    ``masks[k]`` (none when ``masks`` has no rows). ``images`` is the data
    set's ``(indptr, indices, values)`` (:func:`sparse.to_sparse`).
    ``params`` and ``velocities`` are updated in place. Every weight moves
    in every step, so each mini-batch's gradient is summed
    (:func:`passes.network_backward`) and then applied (:func:`momentum_step`).
    Plain SGD is :func:`threads.train_epoch_part`.
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
