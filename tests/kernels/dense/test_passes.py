"""The dense layer kernels equal the readable ``Network`` (kernel == reference).

Forward outputs and one mini-batch's gradients over shapes 1x1, batch of 1,
odd sizes, a 4-layer net and 784-30-10 (with real MNIST rows); over normal,
saturating and mostly-zero inputs; for every cost with its output neurons
(sigmoid with quadratic or cross-entropy, softmax with log-likelihood) and
every hidden neuron (sigmoid, tanh, ReLU); and, given the same masks, with
``regularization.dropout_backprop``. The training epochs built from these
kernels are tested in ``test_epoch.py``.

Tolerance: ``rtol=1e-12``. The kernels skip exact zeros and add inputs in
fours, so they sum in a different order than NumPy's BLAS, and Numba's
``exp`` and ``tanh`` (the C library's) differ from NumPy's by an ulp here
and there; the differences are about 1e-16 relative. Gradients are compared
with ``atol="scaled"`` (1e-12 times the largest ``|entry|`` of the same
array): a gradient that cancels to nearly zero carries rounding error
relative to the array's scale, not to its own tiny value. So do outputs
far out in a sigmoid's or softmax's tail: ReLU neurons fed saturating inputs
reach weighted inputs of several hundred, summed from terms of ten thousand,
and an output of ``exp(-636)`` inherits that sum's rounding (1e-12 relative).
Gradients from saturating inputs are compared at 1e-10 (worst seen over
seeds 0..99: 1.3e-11), see ``_assert_gradients_match``.
"""

import numpy as np
import pytest

from nndl_core import Network, costs
from nndl_core._testing import (
    VALUE_RANGES,
    assert_matches_reference,
    make_inputs,
    make_targets,
)
from nndl_core.data import load_mnist
from nndl_core.kernels import dense
from nndl_core.regularization import dropout_backprop
from nndl_core.training import one_hot

RTOL = 1e-12
SATURATED_RTOL = 1e-10  # see _assert_gradients_match

COSTS = {
    "quadratic": costs.QuadraticCost,
    "cross_entropy": costs.CrossEntropyCost,
    "log_likelihood": costs.LogLikelihoodCost,  # softmax output neurons
}
HIDDEN = ("sigmoid", "tanh", "relu")

# name: (sizes, batch): 1x1, a batch of 1, odd sizes, a 4-layer net.
SHAPES = {
    "1x1": ([1, 1], 1),
    "batch of 1": ([4, 3, 2], 1),
    "odd sizes": ([5, 7, 3], 3),
    "4 layers": ([6, 9, 8, 4], 5),
    "784-30-10": ([784, 30, 10], 20),
}


@pytest.fixture(scope="module")
def mnist_rows():
    """200 real MNIST training images (rows) and labels."""
    training = load_mnist(subset=True).training
    return training.images[:200], training.labels[:200]


def _net(sizes, seed, cost="quadratic", hidden="sigmoid"):
    return Network(sizes, seed=seed, cost=COSTS[cost], activation=hidden)


def _cases(seed, mnist_rows, cost="quadratic", hidden="sigmoid"):
    """(label, (net, x, y)) for every shape and value range, plus real MNIST."""
    rng = np.random.default_rng(seed)
    for shape, (sizes, batch) in SHAPES.items():
        for kind in VALUE_RANGES:
            net = _net(sizes, seed, cost, hidden)
            x = make_inputs(rng, sizes[0], batch, kind)
            yield f"{shape}, {kind}", (net, x, make_targets(rng, sizes[-1], batch))
    images, labels = mnist_rows
    net = _net([784, 30, 10], seed, cost, hidden)
    yield "784-30-10, mnist", (net, images[:10].T, one_hot(labels[:10]))


def test_saturating_inputs_saturate(seed):
    # The "saturating" fixture must really put |z| in the range 30-700.
    net = Network([784, 30, 10], seed=seed)
    x = make_inputs(np.random.default_rng(seed), 784, 20, "saturating")
    z = net.weights[0] @ x + net.biases[0]
    assert np.median(np.abs(z)) > 30 and np.abs(z).max() < 2000


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_feedforward_matches_reference(seed, mnist_rows, hidden, output):
    cost = "log_likelihood" if output == "softmax" else "quadratic"
    cases = [
        (label, (net, x))
        for label, (net, x, _) in _cases(seed, mnist_rows, cost, hidden)
    ]
    assert_matches_reference(
        dense.feedforward,
        lambda net, x: net.feedforward(x),
        cases,
        rtol=RTOL,
        atol="scaled",
    )


def test_feedforward_of_one_input_keeps_its_shape(seed):
    net = Network([5, 7, 3], seed=seed)
    a = np.random.default_rng(seed).standard_normal(5)
    actual = dense.feedforward(net, a)
    assert actual.shape == (3,)
    np.testing.assert_allclose(actual, net.feedforward(a), rtol=RTOL)


def test_feedforward_of_many_inputs_crosses_chunks(seed, mnist_rows):
    # More examples than the kernel's chunk, and not a multiple of it.
    images, _ = mnist_rows
    net = Network([784, 30, 10], seed=seed)
    x = np.tile(images, (6, 1))[: dense.passes.FEEDFORWARD_CHUNK * 2 + 7].T
    np.testing.assert_allclose(dense.feedforward(net, x), net.feedforward(x), rtol=RTOL)


def _assert_gradients_match(kernel, reference, cases):
    """Compare gradients layer by layer, and saturated networks as a whole.

    With saturating inputs the gradients are exponentially small, and
    rounding in them is amplified: a weighted input of several hundred,
    summed from terms of ten thousand (ReLU), carries an absolute error of
    1e-12, which ``exp`` turns into a relative error of the outputs' tails;
    saturated tanh neurons have ``tanh_prime = 1 - a*a`` with ``a`` within an
    ulp of 1, a derivative made of rounding, and the C library's ``tanh``
    differs from NumPy's by an ulp. The reference is as sensitive as the
    kernel. Those cases are compared at ``SATURATED_RTOL`` against the scale
    of the whole gradient (:func:`_flat`), the scale their rounding comes from.
    """
    cases = list(cases)
    tails = [case for case in cases if "saturating" in case[0]]
    others = [case for case in cases if case not in tails]
    assert_matches_reference(kernel, reference, others, rtol=RTOL, atol="scaled")
    assert_matches_reference(
        lambda *args: _flat(kernel(*args)),
        lambda *args: _flat(reference(*args)),
        tails,
        rtol=SATURATED_RTOL,
        atol="scaled",
    )


def _flat(gradient):
    nabla_b, nabla_w = gradient
    return np.concatenate([g.ravel() for g in nabla_b + nabla_w])


@pytest.mark.parametrize("cost", sorted(COSTS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_matches_reference(seed, mnist_rows, cost, hidden):
    _assert_gradients_match(
        dense.backprop,
        lambda net, x, y: net.backprop(x, y),
        _cases(seed, mnist_rows, cost, hidden),
    )


def _masks_drawn_like_the_reference(net, p_drop, seed):
    """The masks ``dropout_backprop(..., p_drop, default_rng(seed))`` draws."""
    rng = np.random.default_rng(seed)
    return [(rng.random((n, 1)) >= p_drop) / (1.0 - p_drop) for n in net.sizes[1:-1]]


@pytest.mark.parametrize("cost", sorted(COSTS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_through_dropout_masks_matches_reference(
    seed, mnist_rows, cost, hidden
):
    def kernel(net, x, y):
        return dense.backprop(net, x, y, _masks_drawn_like_the_reference(net, 0.3, 7))

    def reference(net, x, y):
        return dropout_backprop(net, x, y, 0.3, np.random.default_rng(7))

    _assert_gradients_match(kernel, reference, _cases(seed, mnist_rows, cost, hidden))


def test_dropped_neurons_get_no_gradient(seed):
    net = Network([5, 6, 3], seed=seed)
    x, y = np.ones((5, 4)), make_targets(np.random.default_rng(seed), 3, 4)
    masks = [np.array([[2.0], [0.0], [2.0], [0.0], [2.0], [2.0]])]
    nabla_b, nabla_w = dense.backprop(net, x, y, masks)
    dropped = masks[0][:, 0] == 0
    assert np.all(nabla_w[0][dropped] == 0) and np.all(nabla_b[0][dropped] == 0)
    assert np.all(nabla_w[1][:, dropped] == 0)  # their outputs were zero
    assert np.all(nabla_w[0][~dropped] != 0)


def test_masks_must_fit_the_hidden_layers():
    net = Network([4, 3, 5, 2], seed=0)
    x, y = np.ones((4, 2)), np.ones((2, 2))
    with pytest.raises(ValueError, match="one .n, 1. array per hidden layer"):
        dense.backprop(net, x, y, [np.ones((3, 1))])
    with pytest.raises(ValueError, match="hidden layer"):
        dense.backprop(net, x, y, [np.ones((3, 1)), np.ones((4, 1))])
