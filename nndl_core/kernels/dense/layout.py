"""Where the dense kernels keep a network: parameters and workspace, packed flat.

The Python wrappers (validate, pack, call, unpack) pack ``net.weights`` and
``net.biases`` into one flat float64 buffer ``params`` (:func:`pack`). Weight
layer ``l`` stores its weights *transposed*, ``w_t`` of shape (n_in, width),
then its biases: the weights fanning out of input neuron ``k`` are the
contiguous row ``w_t[k]``. ``width`` is ``n_out`` rounded up to a multiple
of 8; the extra columns hold zeros that stay zero, so that loops along a row
run in whole vector steps. Inside a mini-batch, examples are rows (``a`` of
shape (m, width)), not columns as in ``network.py``. A :class:`Workspace`
holds every layer's activations and deltas for a mini-batch; the small
accessors here (:func:`weights_t`, :func:`block`, ...) are inlined into the
kernels that call them.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from .._options import NJIT_INLINE_OPTIONS, NJIT_OPTIONS
from ..simd import LANES, aligned_zeros
from .neurons import _codes

__all__ = [
    "Layout",
    "Workspace",
    "make_workspace",
    "mask_vector",
    "pack",
    "pack_like",
    "read_only",
    "unpack",
]


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
stored ones (1.0 except during an epoch with L2, see ``steps``).
``transposed``: room for one weight layer in the book's layout (n_out,
widths[l]), for BP2; ``counting``: 0, 1, 2, ... (uint32), the rows of all
of a layer's neurons, for BP2's sum over every one of them.
"""


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
