"""The packed layout: parameters come back unchanged, codes and offsets, alignment."""

import numpy as np

from nndl_core import Network, costs
from nndl_core.kernels import dense


def test_pack_then_unpack_gives_the_parameters_back(seed):
    net = Network([6, 9, 8, 4], seed=seed)
    weights, biases = dense.unpack(*dense.pack(net))
    for actual, expected in zip(weights + biases, net.weights + net.biases):
        np.testing.assert_array_equal(actual, expected)
        assert actual.flags.c_contiguous and actual.dtype == np.float64


def test_layout_codes_name_each_layers_neurons():
    net = Network([4, 5, 6, 3], cost=costs.LogLikelihoodCost, activation="relu")
    layout, _ = dense.pack(net)
    codes = dense.neurons.ACTIVATIONS
    assert layout.activations.tolist() == [codes["relu"]] * 2 + [codes["softmax"]]
    assert layout.node_offsets.tolist() == [0, 0, 8, 16]  # hidden widths 8, 8


def test_buffers_start_on_a_cache_line():
    """Weight rows and workspace blocks start cache lines (simd.ALIGNMENT)."""
    from nndl_core.kernels.simd import ALIGNMENT

    net = Network([784, 30, 10], seed=0)
    layout, params = dense.pack(net)
    assert params.ctypes.data % ALIGNMENT == 0
    for l in range(2):
        w_t = params[layout.w_offsets[l] : layout.b_offsets[l]]
        assert w_t.ctypes.data % ALIGNMENT == 0
    workspace = dense.layout.make_workspace(layout, 10)
    for buffer in (workspace.activations, workspace.deltas, workspace.values):
        assert buffer.ctypes.data % ALIGNMENT == 0
