"""The per-example (loop) backprop of nndl_core.per_example equals the matrix form."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nndl_core.costs import QuadraticCost
from nndl_core.network import Network
from nndl_core.per_example import backprop_per_example, update_mini_batch_per_example
from nndl_core.training import one_hot

SHAPES = [(1, 1), (3, 1), (2, 3, 1), (4, 5, 3), (784, 30, 10), (5, 4, 4, 3, 2)]


def problem(sizes, m, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    net = Network(sizes, seed=seed)
    x = scale * rng.standard_normal((sizes[0], m))
    y = one_hot(rng.integers(0, sizes[-1], m), sizes[-1])
    return net, x, y


@pytest.mark.parametrize("sizes", SHAPES, ids=str)
@pytest.mark.parametrize("scale", [1.0, 30.0], ids=["normal", "saturating"])
def test_one_example_matches_the_matrix_form(sizes, scale, seed):
    net, x, y = problem(sizes, 1, seed, scale)
    expected_b, expected_w = net.backprop(x, y)
    actual_b, actual_w = backprop_per_example(net, x[:, 0], y[:, 0])
    for expected, actual in zip(expected_b + expected_w, actual_b + actual_w):
        assert actual.shape == expected.shape
        assert_allclose(actual, expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("sizes", SHAPES, ids=str)
def test_sum_over_examples_matches_the_mini_batch(sizes, seed):
    net, x, y = problem(sizes, 7, seed)
    expected_b, expected_w = net.backprop(x, y)
    sums = None
    for i in range(x.shape[1]):
        nabla_b, nabla_w = backprop_per_example(
            net, x[:, [i]], y[:, [i]]
        )  # (n, 1) form
        grads = nabla_b + nabla_w
        sums = grads if sums is None else [s + g for s, g in zip(sums, grads)]
    for expected, actual in zip(expected_b + expected_w, sums):
        assert_allclose(actual, expected, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("m", [1, 3, 10])
def test_update_matches_network_update_mini_batch(m, seed):
    loop_net, x, y = problem((6, 5, 4), m, seed)
    matrix_net = Network((6, 5, 4), seed=seed)
    for _ in range(3):
        update_mini_batch_per_example(loop_net, x, y, eta=3.0)
        matrix_net.update_mini_batch(x, y, eta=3.0)
    for expected, actual in zip(
        matrix_net.weights + matrix_net.biases, loop_net.weights + loop_net.biases
    ):
        assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)


def test_uses_the_networks_cost():
    class LinearOutputError(QuadraticCost):
        @staticmethod
        def delta(z, a, y):
            return a - y

    net, x, y = problem((3, 4, 2), 1, 0)
    net.cost = LinearOutputError
    expected_b, _ = net.backprop(x, y)
    actual_b, _ = backprop_per_example(net, x[:, 0], y[:, 0])
    assert_allclose(actual_b[-1], expected_b[-1], rtol=1e-13)
    assert_allclose(
        actual_b[-1], net.feedforward(x) - y, rtol=1e-13
    )  # BP3 with delta = a - y


def test_does_not_change_the_network():
    net, x, y = problem((3, 4, 2), 1, 0)
    before = [p.copy() for p in net.weights + net.biases]
    backprop_per_example(net, x[:, 0], y[:, 0])
    for expected, actual in zip(before, net.weights + net.biases):
        assert np.array_equal(actual, expected)


def test_rejects_wrong_shapes():
    net = Network([3, 2], seed=0)
    with pytest.raises(ValueError, match=r"x must have shape \(3,\) or \(3, 1\)"):
        backprop_per_example(net, np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"y must have shape \(2,\)"):
        backprop_per_example(net, np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="one example per column"):
        update_mini_batch_per_example(net, np.zeros((3, 2)), np.zeros((2, 3)), eta=1.0)
