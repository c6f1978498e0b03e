"""Forward and backward passes through the whole network, and their wrappers.

:func:`feedforward` mirrors ``Network.feedforward`` and :func:`backprop`
mirrors ``Network.backprop`` (and, given the same masks,
``regularization.dropout_backprop``); ``tests/kernels/dense/test_passes.py``
checks that they agree. The compiled passes (:func:`network_forward`,
:func:`network_backward`) are the ones the training epochs
(:mod:`nndl_core.kernels.dense.threads`,
:mod:`nndl_core.kernels.dense.momentum`) run for each mini-batch.
"""

import numpy as np
from numba import njit

from .._options import NJIT_INLINE_OPTIONS, NJIT_OPTIONS
from ..simd import aligned_zeros
from .layer import _backpropagate_delta, _output_delta, dense_backward, dense_forward
from .layout import (
    _flat_block,
    biases,
    block,
    hidden_input,
    hidden_mask,
    make_workspace,
    mask_vector,
    pack,
    unpack,
    weights_t,
)
from .neurons import cost_code
from .sparse import input_rows, list_nonzero, to_sparse

__all__ = ["backprop", "feedforward"]


FEEDFORWARD_CHUNK = 500  # examples per pass in feedforward_kernel


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
