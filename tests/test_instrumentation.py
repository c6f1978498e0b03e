"""Tests for nndl_core.instrumentation: layer speeds, the tracker, the chain."""

import inspect

import numpy as np
import pytest

from nndl_core import instrumentation as ins
from nndl_core.activations import sigmoid, sigmoid_prime
from nndl_core.costs import CrossEntropyCost
from nndl_core.data import Dataset
from nndl_core.gradient_check import numerical_gradient
from nndl_core.network import Network


def _data(rng, n=12, n_in=6, n_classes=3):
    images = rng.random((n, n_in))
    labels = rng.integers(0, n_classes, n)
    return Dataset(images, labels)


def _average_cost(net, data):
    """Mean cross-entropy over ``data``: the C whose gradient the norms measure."""
    y = np.zeros((net.sizes[-1], len(data.labels)))
    y[data.labels, np.arange(len(data.labels))] = 1.0
    return net.cost.fn(net.feedforward(data.images.T), y) / len(data.labels)


def test_dataset_gradient_norms_match_finite_differences(rng):
    net = Network([6, 5, 4, 3], seed=1, cost=CrossEntropyCost, initializer="default")
    data = _data(rng)
    actual = ins.dataset_gradient_norms(net, data, batch_size=5)  # 3 chunks
    gradient = numerical_gradient(lambda: _average_cost(net, data), net.biases)
    expected = [np.linalg.norm(g) for g in gradient]
    np.testing.assert_allclose(actual.bias, expected, rtol=1e-6)


def test_bias_norms_follow_bp2_explicitly(rng):
    """||delta^l|| from an explicit per-layer BP1/BP2 product, one example."""
    net = Network([6, 5, 4, 3], seed=2, cost=CrossEntropyCost, initializer="default")
    x = rng.random((6, 1))
    y = np.zeros((3, 1))
    y[1] = 1.0
    zs, a = [], x
    for w, b in zip(net.weights, net.biases):
        zs.append(w @ a + b)
        a = sigmoid(zs[-1])
    deltas = [a - y]  # BP1 for cross-entropy
    for l in (1, 0):  # noqa: E741
        deltas.insert(0, (net.weights[l + 1].T @ deltas[0]) * sigmoid_prime(zs[l]))
    expected = [float(np.linalg.norm(d)) for d in deltas]
    actual = ins.minibatch_gradient_norms(net, x, y)
    np.testing.assert_allclose(actual.bias, expected, rtol=1e-12)
    expected_w = [
        np.linalg.norm(d @ act.T)
        for d, act in zip(deltas, [x] + [sigmoid(z) for z in zs[:-1]])
    ]
    np.testing.assert_allclose(actual.weight, expected_w, rtol=1e-12)
    assert actual.hidden == actual.bias[:-1]


def test_numba_path_gives_the_same_norms(rng):
    data = _data(rng, n=20, n_in=8, n_classes=4)
    sizes = [8, 7, 5, 4]
    numpy_net = Network(sizes, seed=3, cost=CrossEntropyCost, initializer="default")
    numba_net = Network(
        sizes, seed=3, cost=CrossEntropyCost, backend="numba", initializer="default"
    )
    expected = ins.dataset_gradient_norms(numpy_net, data)
    actual = ins.dataset_gradient_norms(numba_net, data)
    np.testing.assert_allclose(actual.bias, expected.bias, rtol=1e-10)
    np.testing.assert_allclose(actual.weight, expected.weight, rtol=1e-10)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_tracker_records_one_entry_per_epoch(rng, backend):
    data = _data(rng, n=30)
    net = Network(
        [6, 4, 4, 3],
        seed=0,
        cost=CrossEntropyCost,
        backend=backend,
        initializer="default",
    )
    calls = []
    tracker = ins.SpeedTracker(net, data, then=lambda e, h: calls.append(e))
    history = net.SGD(data, 4, 10, 0.5, seed=0, callback=tracker)
    assert tracker.epochs == [0, 1, 2, 3, 4]
    assert len(tracker.bias_norms) == history.epochs + 1 == 5
    assert calls == [0, 1, 2, 3]
    assert tracker.hidden().shape == (5, 2)
    # the last record describes the trained network
    final = ins.dataset_gradient_norms(net, data)
    np.testing.assert_allclose(tracker.bias_norms[-1], final.bias)
    assert tracker.bias_norms[0] != tracker.bias_norms[-1]


def test_tracker_without_initial_record(rng):
    data = _data(rng)
    net = Network([6, 3, 3], seed=0, cost=CrossEntropyCost)
    tracker = ins.SpeedTracker(net, data, record_initial=False)
    net.SGD(data, 2, 4, 0.1, seed=0, callback=tracker)
    assert tracker.epochs == [1, 2]


def test_sgd_without_callback_measures_nothing():
    """Zero overhead by design: SGD only calls a callback it is given, and
    does not import the instrumentation module."""
    source = inspect.getsource(Network.SGD)
    assert "if callback is not None" in source
    assert "instrumentation" not in inspect.getsource(inspect.getmodule(Network))


def test_chain_gradient_matches_finite_differences(rng):
    weights = rng.standard_normal(4) * 3
    biases = rng.standard_normal(4)
    a0 = 0.7

    def cost():  # C = a_L, so dC/da_L = 1
        return ins.chain_forward(weights, biases, a0)[1][-1]

    expected = numerical_gradient(cost, [biases])[0]
    actual = ins.chain_gradient(weights, biases, a0)
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-10)


def test_chain_gradient_is_the_product_of_factors(rng):
    weights = rng.standard_normal(5)
    biases = rng.standard_normal(5)
    zs, _ = ins.chain_forward(weights, biases, 0.3)
    gradient = ins.chain_gradient(weights, biases, 0.3, dC_da_last=2.0)
    factors = ins.chain_factors(weights, biases, 0.3)
    expected = sigmoid_prime(zs[-1]) * 2.0 * np.prod(factors)
    np.testing.assert_allclose(gradient[0], expected, rtol=1e-12)
    np.testing.assert_allclose(gradient[:-1] / gradient[1:], factors, rtol=1e-12)


def test_exploding_chain_factors_are_25():
    """Weights 100 and biases making every z = 0: each factor is 100/4."""
    weights = [100.0] * 4
    biases, a = [], 0.4
    for w in weights:
        biases.append(-w * a)  # z = w a + b = 0
        a = 0.5
    factors = ins.chain_factors(weights, biases, 0.4)
    np.testing.assert_allclose(factors, 25.0)


def test_sigmoid_prime_bound():
    z = np.linspace(-20, 20, 400_001)
    assert sigmoid_prime(z).max() <= ins.SIGMOID_PRIME_MAX
    assert sigmoid_prime(np.float64(0.0)) == ins.SIGMOID_PRIME_MAX


@pytest.mark.parametrize("w", [4.5, 6.9, -6.9, 10.0, 50.0])
@pytest.mark.parametrize("b", [0.0, 1.3, -7.0])
def test_unstable_interval_against_brute_force(w, b):
    low, high = ins.unstable_interval(w, b)
    a = np.linspace(low - 0.5, high + 0.5, 200_001)
    step = a[1] - a[0]
    inside = np.abs(w * sigmoid_prime(w * a + b)) >= 1.0
    assert a[inside].min() == pytest.approx(low, abs=2 * step)
    assert a[inside].max() == pytest.approx(high, abs=2 * step)
    assert inside.sum() * step == pytest.approx(ins.unstable_width(w), abs=3 * step)


def test_no_unstable_interval_below_four():
    assert ins.unstable_interval(3.99) is None
    assert ins.unstable_width(3.0) == 0.0
    a = np.linspace(-5, 5, 10_001)
    assert np.all(np.abs(3.99 * sigmoid_prime(3.99 * a)) < 1.0)


def test_unstable_width_maximum():
    w = np.linspace(4.0, 20.0, 160_001)
    width = ins.unstable_width(w)
    assert w[np.argmax(width)] == pytest.approx(6.9, abs=0.05)
    assert width.max() == pytest.approx(0.45, abs=0.005)


def test_dataset_gradient_checks_labels_against_the_outputs(rng):
    # a label past the outputs once reached one_hot as a raw IndexError
    net = Network([4, 3, 2], seed=0)
    images = rng.random((5, 4))
    with pytest.raises(ValueError, match=r"labels must be integers 0..1; got 2"):
        ins.dataset_gradient(net, (images, np.array([0, 1, 2, 0, 1])))
