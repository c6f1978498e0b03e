"""The dense kernels equal the readable ``Network`` (kernel == reference).

Forward outputs, one mini-batch's gradients, and the parameters after a few
epochs of SGD, over shapes 1x1, batch of 1, odd sizes with a short last
mini-batch, a 4-layer net and 784-30-10 on real MNIST rows; over normal,
saturating and mostly-zero inputs; for both costs; with and without L2.

Tolerance: ``rtol=1e-12``. The kernels skip exact zeros and add inputs in
pairs, so they sum in a different order than NumPy's BLAS; the differences
are rounding (about 1e-16 relative) and stay far below 1e-12 after a few
epochs (training from saturating inputs: 1e-10, see SATURATED_SGD_RTOL).
Gradients and trained parameters are also compared with
``atol="scaled"`` (1e-12 times the largest ``|entry|`` of the same array): a
gradient that cancels to nearly zero, or a weight that SGD happens to drive
to -3e-6 among weights of size 1, carries rounding error relative to the
array's scale, not to its own tiny value.
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
from nndl_core.training import one_hot

RTOL = 1e-12
# The book's learning rates: 3.0 for the quadratic cost (chap1), 0.5 for the
# cross-entropy (chap3). At eta=3.0 cross-entropy training on 200 images is
# chaotic: one ulp changed in the *reference's* initial weights grows to a
# relative difference of ~1e-7 within 4 epochs, so no summation order other
# than NumPy's own could match it to 1e-12 there.
ETA = {"quadratic": 3.0, "cross_entropy": 0.5}
# Training from saturating inputs is compared at 1e-10 (worst seen over seeds
# 0..99: 1.1e-11). There sigma'(z) = a(1 - a) loses digits to cancellation in
# both implementations (at z = 30, 1 - a ~ 1e-13 carries an error of 1e-3
# relative), and NumPy's SIMD exp differs from the C library's exp, which
# Numba calls, by one ulp on ~5% of arguments. The reference is no steadier:
# one ulp added to its own initial weights moves its trained parameters by up
# to 2e-11 (relative to their scale) after 3 epochs.
SATURATED_SGD_RTOL = 1e-10


COSTS = {
    "quadratic": costs.QuadraticCost,
    "cross_entropy": costs.CrossEntropyCost,
}

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


def _cases(seed, mnist_rows, cost="quadratic"):
    """(label, (net, x, y)) for every shape and value range, plus real MNIST."""
    rng = np.random.default_rng(seed)
    for shape, (sizes, batch) in SHAPES.items():
        for kind in VALUE_RANGES:
            net = Network(sizes, seed=seed, cost=COSTS[cost])
            x = make_inputs(rng, sizes[0], batch, kind)
            yield f"{shape}, {kind}", (net, x, make_targets(rng, sizes[-1], batch))
    images, labels = mnist_rows
    net = Network([784, 30, 10], seed=seed, cost=COSTS[cost])
    yield "784-30-10, mnist", (net, images[:10].T, one_hot(labels[:10]))


def test_saturating_inputs_saturate(seed):
    # The "saturating" fixture must really put |z| in the range 30-700.
    net = Network([784, 30, 10], seed=seed)
    x = make_inputs(np.random.default_rng(seed), 784, 20, "saturating")
    z = net.weights[0] @ x + net.biases[0]
    assert np.median(np.abs(z)) > 30 and np.abs(z).max() < 2000


def test_feedforward_matches_reference(seed, mnist_rows):
    cases = [(label, (net, x)) for label, (net, x, _) in _cases(seed, mnist_rows)]
    assert_matches_reference(
        dense.feedforward, lambda net, x: net.feedforward(x), cases, rtol=RTOL
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
    x = images[: dense.FEEDFORWARD_CHUNK * 2 + 7].T
    np.testing.assert_allclose(dense.feedforward(net, x), net.feedforward(x), rtol=RTOL)


@pytest.mark.parametrize("cost", sorted(COSTS))
def test_backprop_matches_reference(seed, mnist_rows, cost):
    assert_matches_reference(
        dense.backprop,
        lambda net, x, y: net.backprop(x, y),
        _cases(seed, mnist_rows, cost),
        rtol=RTOL,
        atol="scaled",
    )


def _train(sizes, cost, backend, images, labels, epochs, mini_batch_size, seed):
    net = Network(sizes, seed=seed, cost=COSTS[cost], backend=backend)
    net.SGD((images, labels), epochs, mini_batch_size, ETA[cost], seed=seed + 1)
    return net.weights, net.biases


def _sgd_cases(seed, mnist_rows, cost):
    """(label, (sizes, cost, images, labels, epochs, mini_batch_size, seed))."""
    rng = np.random.default_rng(seed)
    # name: (sizes, n examples, mini-batch size, epochs)
    runs = {
        "1x1, mini-batch of 1": ([1, 1], 4, 1, 3),
        "odd sizes, short last mini-batch": ([5, 7, 3], 10, 3, 3),
        "4 layers": ([6, 9, 8, 4], 12, 5, 3),
        "a mini-batch bigger than the data": ([5, 7, 3], 6, 50, 2),
    }
    for name, (sizes, n, mini_batch_size, epochs) in runs.items():
        for kind in VALUE_RANGES:
            images = make_inputs(rng, sizes[0], n, kind).T.copy()
            labels = rng.integers(0, sizes[-1], n)
            args = (sizes, cost, images, labels, epochs, mini_batch_size, seed)
            yield f"{name}, {kind}", args
    images, labels = mnist_rows
    yield "784-30-10, mnist", ([784, 30, 10], cost, images, labels, 3, 10, seed)


@pytest.mark.parametrize("cost", sorted(COSTS))
def test_sgd_matches_reference(seed, mnist_rows, cost):
    def numba(*args):
        return _train(*args[:2], "numba", *args[2:])

    def numpy(*args):
        return _train(*args[:2], "numpy", *args[2:])

    cases = list(_sgd_cases(seed, mnist_rows, cost))
    saturating = [case for case in cases if "saturating" in case[0]]
    others = [case for case in cases if "saturating" not in case[0]]
    assert_matches_reference(numba, numpy, others, rtol=RTOL, atol="scaled")
    assert_matches_reference(
        numba, numpy, saturating, rtol=SATURATED_SGD_RTOL, atol="scaled"
    )


def _l2_epoch(net, images, labels, order, mini_batch_size, eta, lmbda, n):
    """Chapter 3's L2-regularized epoch with the reference's update_mini_batch."""
    for k in range(0, len(order), mini_batch_size):
        idx = order[k : k + mini_batch_size]
        y = one_hot(labels[idx], net.sizes[-1])
        net.update_mini_batch(images[idx].T, y, eta, lmbda, n)
    return net.weights, net.biases


@pytest.mark.parametrize("n", [None, 50_000])
def test_l2_epoch_matches_reference(seed, mnist_rows, n):
    rng = np.random.default_rng(seed)
    images, labels = mnist_rows
    small = make_inputs(rng, 5, 10, "normal").T.copy()
    cases = [
        ("784-30-10, mnist", ([784, 30, 10], images, labels, 10)),
        ("odd sizes, short last mini-batch", ([5, 7, 3], small, labels[:10] % 3, 3)),
    ]
    cases = [
        (label, (*args[:3], rng.permutation(len(args[1])), args[3]))
        for label, args in cases
    ]

    def kernel(sizes, images, labels, order, mini_batch_size):
        net = Network(sizes, seed=seed)
        for _ in range(2):
            dense.train_epoch(
                net, images, labels, order, mini_batch_size, 0.5, lmbda=5.0, n=n
            )
        return net.weights, net.biases

    def reference(sizes, images, labels, order, mini_batch_size):
        net = Network(sizes, seed=seed)
        for _ in range(2):
            _l2_epoch(
                net, images, labels, order, mini_batch_size, 0.5, 5.0, n or len(images)
            )
        return net.weights, net.biases

    assert_matches_reference(kernel, reference, cases, rtol=RTOL, atol="scaled")


def test_sgd_with_l2_matches_reference(seed, mnist_rows):
    images, labels = mnist_rows

    def train(backend):
        net = Network([784, 30, 10], seed=seed, backend=backend)
        net.SGD((images, labels), 2, 10, 0.5, seed=seed, lmbda=5.0)
        return net.weights, net.biases

    assert_matches_reference(
        lambda: train("numba"),
        lambda: train("numpy"),
        [("784-30-10", ())],
        rtol=RTOL,
        atol="scaled",
    )


def test_l2_is_off_by_default(seed, mnist_rows):
    images, labels = mnist_rows
    order = np.random.default_rng(seed).permutation(len(images))
    default, explicit = (
        Network([784, 30, 10], seed=seed),
        Network([784, 30, 10], seed=seed),
    )
    dense.train_epoch(default, images, labels, order, 10, 3.0)
    dense.train_epoch(explicit, images, labels, order, 10, 3.0, lmbda=0.0, n=7)
    for actual, expected in zip(
        explicit.weights + explicit.biases, default.weights + default.biases
    ):
        np.testing.assert_array_equal(actual, expected)


def test_pack_then_unpack_gives_the_parameters_back(seed):
    net = Network([6, 9, 8, 4], seed=seed)
    weights, biases = dense.unpack(*dense.pack(net))
    for actual, expected in zip(weights + biases, net.weights + net.biases):
        np.testing.assert_array_equal(actual, expected)
        assert actual.flags.c_contiguous and actual.dtype == np.float64


def test_train_epoch_writes_back_float64_parameters_of_the_same_shapes(mnist_rows):
    images, labels = mnist_rows
    net = Network([784, 30, 10], seed=0)
    shapes = [w.shape for w in net.weights] + [b.shape for b in net.biases]
    dense.train_epoch(net, images, labels, np.arange(len(images)), 10, 3.0)
    assert [w.shape for w in net.weights] + [b.shape for b in net.biases] == shapes
    assert all(p.dtype == np.float64 for p in net.weights + net.biases)


def test_an_unknown_cost_asks_for_the_numpy_backend(mnist_rows):
    class LogLikelihood:
        name = "log_likelihood"

    images, labels = mnist_rows
    net = Network([784, 30, 10], seed=0, cost=LogLikelihood, backend="numba")
    with pytest.raises(NotImplementedError, match="log_likelihood.*backend='numpy'"):
        net.SGD((images, labels), 1, 10, 3.0, seed=0)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"order": np.array([0, 1, 10])}, "order"),
        ({"order": np.array([-1, 0])}, "order"),
        ({"labels": np.array([0, 3] * 5)}, "labels"),
        ({"images": np.zeros((10, 4))}, "images"),
        ({"mini_batch_size": 0}, "mini_batch_size"),
        ({"lmbda": -1.0}, "lmbda"),
    ],
)
def test_train_epoch_rejects_bad_arguments(change, message):
    arguments = {
        "images": np.zeros((10, 5)),
        "labels": np.zeros(10, dtype=np.int64),
        "order": np.arange(10),
        "mini_batch_size": 3,
        "eta": 1.0,
    } | change
    with pytest.raises(ValueError, match=message):
        dense.train_epoch(Network([5, 7, 3], seed=0), **arguments)
