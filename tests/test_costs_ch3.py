"""Log-likelihood cost, softmax, tanh and ReLU (chapter 3)."""

import numpy as np
import pytest

from nndl_core.activations import relu, relu_prime, sigmoid, softmax, tanh, tanh_prime
from nndl_core.costs import LogLikelihoodCost
from nndl_core.network import Network


def test_softmax_is_a_distribution_and_stable():
    z = np.array([[1000.0, -3.0], [1000.0, 2.0], [-1000.0, 0.5]])
    a = softmax(z)
    assert np.all(np.isfinite(a)) and np.allclose(a.sum(axis=0), 1.0)
    assert np.allclose(a[:, 0], [0.5, 0.5, 0.0])


def test_sigmoid_tanh_identity():
    z = np.linspace(-5, 5, 11)
    assert np.allclose(sigmoid(z), (1 + tanh(z / 2)) / 2)


@pytest.mark.parametrize("f,fp", [(tanh, tanh_prime), (relu, relu_prime)])
def test_derivatives_match_finite_differences(f, fp):
    z, h = np.array([-1.3, -0.2, 0.4, 2.0]), 1e-6
    assert np.allclose((f(z + h) - f(z - h)) / (2 * h), fp(z), atol=1e-6)


def test_log_likelihood_delta_is_gradient_wrt_z():
    z = np.array([[0.3], [-1.2], [2.0]])
    y = np.array([[0.0], [1.0], [0.0]])
    h = 1e-6
    numeric = [
        (
            LogLikelihoodCost.fn(softmax(z + h * e), y)
            - LogLikelihoodCost.fn(softmax(z - h * e), y)
        )
        / (2 * h)
        for e in np.eye(3)[:, :, None]
    ]
    assert np.allclose(
        np.ravel(numeric), LogLikelihoodCost.delta(z, softmax(z), y).ravel(), atol=1e-6
    )


@pytest.mark.parametrize(
    "cost,activation",
    [(LogLikelihoodCost, "sigmoid"), (LogLikelihoodCost, "tanh"), (None, "relu")],
)
def test_backprop_matches_finite_differences(cost, activation):
    from nndl_core.costs import CrossEntropyCost

    net = Network(
        [4, 5, 3], seed=0, cost=cost or CrossEntropyCost, activation=activation
    )
    rng = np.random.default_rng(1)
    x = rng.random((4, 2))
    y = np.eye(3)[:, [0, 2]]
    _, nabla_w = net.backprop(x, y)
    h = 1e-6
    for l, (j, k) in ((0, (1, 2)), (1, (2, 4))):  # noqa: E741
        w = net.weights[l]
        w[j, k] += h
        up = net.cost.fn(net.feedforward(x), y)
        w[j, k] -= 2 * h
        down = net.cost.fn(net.feedforward(x), y)
        w[j, k] += h
        assert np.isclose((up - down) / (2 * h), nabla_w[l][j, k], atol=1e-5)


def test_numba_backend_takes_chapter_3_options_and_refuses_unknown_costs():
    Network([4, 3, 2], backend="numba", activation="relu")
    Network([4, 3, 2], backend="numba", cost=LogLikelihoodCost)

    class Hinge:
        name = "hinge"

    with pytest.raises(NotImplementedError, match="backend='numpy'"):
        Network([4, 3, 2], backend="numba", cost=Hinge)
