"""Tests for nndl_core.gradient_check, and through it for Network.backprop.

The chain of trust: a tiny network whose gradient is worked out by hand,
then central differences over many random networks (including saturated
ones), then deliberately broken backprops that the check must reject.
"""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nndl_core.costs import QuadraticCost
from nndl_core.gradient_check import check_gradients, numerical_gradient, relative_error
from nndl_core.network import Network
from nndl_core.per_example import backprop_per_example

COSTS = [QuadraticCost]  # chapter 3 adds its costs here
TOLERANCE = 1e-7


def random_problem(seed, saturating=False, cost=QuadraticCost):
    """A random network (1 to 4 weight layers of 1 to 10 neurons) and a mini-batch."""
    rng = np.random.default_rng(seed)
    sizes = [int(n) for n in rng.integers(1, 11, size=rng.integers(2, 6))]
    m = int(rng.integers(1, 6))
    scale = 30.0 if saturating else 1.0  # |z| of tens to hundreds in the first layer
    x = scale * rng.standard_normal((sizes[0], m))
    y = rng.random((sizes[-1], m))
    return Network(sizes, seed=seed, cost=cost), x, y


# -- the hand-worked example -------------------------------------------------


def _sigma(z):
    return 1.0 / (1.0 + math.exp(-z))


def hand_net():
    """A 2-2-1 network with hand-picked weights and biases."""
    net = Network([2, 2, 1], seed=0)
    net.weights = [np.array([[0.1, -0.2], [0.4, 0.3]]), np.array([[0.7, -0.5]])]
    net.biases = [np.array([[0.05], [-0.1]]), np.array([[0.2]])]
    return net


def test_hand_worked_2_2_1_example():
    # Everything below is scalar arithmetic from the chain rule, no matrices.
    x1, x2, y = 1.0, 2.0, 0.5
    z21 = 0.1 * x1 - 0.2 * x2 + 0.05  # = -0.25
    z22 = 0.4 * x1 + 0.3 * x2 - 0.1  # = 0.9
    a21, a22 = _sigma(z21), _sigma(z22)
    z3 = 0.7 * a21 - 0.5 * a22 + 0.2
    a3 = _sigma(z3)
    d3 = (a3 - y) * a3 * (1 - a3)  # BP1, quadratic cost
    d21 = 0.7 * d3 * a21 * (1 - a21)  # BP2: w^3_11 delta^3 sigma'(z^2_1)
    d22 = -0.5 * d3 * a22 * (1 - a22)  # BP2: w^3_12 delta^3 sigma'(z^2_2)
    expected_b = [np.array([[d21], [d22]]), np.array([[d3]])]  # BP3
    expected_w = [
        np.array([[d21 * x1, d21 * x2], [d22 * x1, d22 * x2]]),  # BP4
        np.array([[d3 * a21, d3 * a22]]),
    ]
    assert z21 == pytest.approx(-0.25) and z22 == pytest.approx(0.9)
    # a^2 = (0.4378, 0.7109), z^3 = 0.1510, a^3 = 0.5377, so
    # delta^3 = (0.5377 - 0.5) * 0.5377 * 0.4623 = 0.00937 (worked on paper)
    assert (a21, a22, a3) == pytest.approx((0.4378, 0.7109, 0.5377), abs=1e-4)
    assert d3 == pytest.approx(0.00937, abs=1e-5)

    net = hand_net()
    x, y_col = np.array([[x1], [x2]]), np.array([[y]])
    for actual_b, actual_w in (
        net.backprop(x, y_col),
        backprop_per_example(net, x, y_col),
    ):
        for expected, actual in zip(expected_b + expected_w, actual_b + actual_w):
            assert_allclose(actual, expected, rtol=1e-13)
    assert check_gradients(net, x, y_col) < TOLERANCE


# -- property tests over random networks -----------------------------------


@pytest.mark.parametrize("cost", COSTS, ids=lambda c: c.name)
@pytest.mark.parametrize("saturating", [False, True], ids=["normal", "saturating"])
@pytest.mark.parametrize("seed", range(20))
def test_backprop_matches_central_differences(seed, saturating, cost):
    net, x, y = random_problem(seed, saturating, cost)
    assert check_gradients(net, x, y) < TOLERANCE


def test_check_gradients_accepts_a_single_example(rng):
    net = Network([3, 4, 2], seed=1)
    x, y = rng.standard_normal(3), rng.random(2)
    assert check_gradients(net, x, y) < TOLERANCE


def test_check_gradients_leaves_the_network_unchanged(rng):
    net, x, y = random_problem(3)
    before = [p.copy() for p in net.weights + net.biases]
    check_gradients(net, x, y)
    for expected, actual in zip(before, net.weights + net.biases):
        assert np.array_equal(actual, expected)


# -- the check must fail when backprop is wrong ------------------------------


class Wrapped:
    """A network whose backprop is replaced by ``backprop(net, x, y)``."""

    def __init__(self, net, backprop):
        self.net, self._backprop = net, backprop
        self.weights, self.biases, self.cost = net.weights, net.biases, net.cost
        self.feedforward = net.feedforward

    def backprop(self, x, y):
        return self._backprop(self.net, x, y)


def _first_column_bias(net, x, y):  # bug: BP3 without the sum over the batch
    nabla_b, nabla_w = net.backprop(x, y)
    single_b, _ = net.backprop(x[:, :1], y[:, :1])
    return single_b, nabla_w


def _no_sigma_prime_in_bp2(net, x, y):  # bug: BP2 drops sigma'(z^l)
    from nndl_core.activations import sigmoid, sigmoid_prime

    activations, zs = [x], []
    for b, w in zip(net.biases, net.weights):
        zs.append(w @ activations[-1] + b)
        activations.append(sigmoid(zs[-1]))
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    nabla_b, nabla_w = [None] * len(zs), [None] * len(zs)
    for l in range(len(zs) - 1, -1, -1):  # noqa: E741
        if l < len(zs) - 1:
            delta = net.weights[l + 1].T @ delta  # missing "* sigmoid_prime(zs[l])"
        nabla_b[l] = delta.sum(axis=1, keepdims=True)
        nabla_w[l] = delta @ activations[l].T
    return nabla_b, nabla_w


class CrossEntropyDeltaWithQuadraticCost(QuadraticCost):
    """Bug: BP1 without sigma'(z^L), i.e. another cost's delta."""

    @staticmethod
    def delta(z, a, y):
        return a - y


@pytest.mark.parametrize("seed", range(5))
def test_check_gradients_rejects_broken_backprops(seed):
    rng = np.random.default_rng(seed)
    net = Network([4, 5, 3], seed=seed)
    x, y = rng.standard_normal((4, 3)), rng.random((3, 3))
    assert check_gradients(Wrapped(net, _first_column_bias), x, y) > 1e-3
    assert check_gradients(Wrapped(net, _no_sigma_prime_in_bp2), x, y) > 1e-3
    broken = Network([4, 5, 3], seed=seed, cost=CrossEntropyDeltaWithQuadraticCost)
    assert check_gradients(broken, x, y) > 1e-3


# -- numerical_gradient and relative_error ------------------------------------


def test_numerical_gradient_of_a_known_function(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal(4)

    def f():
        return float(np.sum(np.sin(a)) + np.sum(b**3))

    central = numerical_gradient(f, [a, b])
    assert_allclose(central[0], np.cos(a), rtol=1e-8)
    assert_allclose(central[1], 3 * b**2, rtol=1e-8, atol=1e-9)
    forward = numerical_gradient(f, [a, b], eps=1e-7, method="forward")
    assert_allclose(forward[0], np.cos(a), atol=1e-6)  # first order: less accurate


def test_numerical_gradient_restores_parameters_even_when_f_raises():
    p = np.array([1.0, 2.0, 3.0])
    original = p.copy()
    calls = []

    def f():
        calls.append(p.copy())
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(np.sum(p))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, [p])
    assert np.array_equal(p, original)


def test_numerical_gradient_rejects_bad_arguments():
    p = np.zeros(2)
    with pytest.raises(ValueError, match="method"):
        numerical_gradient(lambda: 0.0, [p], method="backward")
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda: 0.0, [p], eps=0.0)
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, [np.zeros(2, dtype=np.float32)])


def test_relative_error_definition():
    e = [np.array([1.0, -2.0, 0.0]), np.array([[1e-12]])]
    a = [np.array([1.01, -2.0, 0.0]), np.array([[0.0]])]
    assert relative_error(e, a) == pytest.approx(1.0)  # the tiny entry dominates
    assert relative_error(e, a, scale=1.0) == pytest.approx(0.01 / 1.01)
    assert relative_error([np.zeros(3)], [np.zeros(3)]) == 0.0
    assert relative_error([np.array([1.0])], [np.array([np.nan])]) == math.inf
    with pytest.raises(ValueError, match="shape"):
        relative_error([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="arrays"):
        relative_error([np.zeros(2)], [])
