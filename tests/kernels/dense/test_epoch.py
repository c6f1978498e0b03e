"""The compiled SGD epochs equal the readable step functions (kernel == reference).

Plain SGD (with and without L2) against ``Network.update_mini_batch``; L1,
dropout, momentum and their combination against
``regularization.sgd_step``, with the masks drawn from the same generator;
for every cost with its output neurons and every hidden neuron. Shapes 1x1
with mini-batches of 1, odd sizes with a short last mini-batch, a 4-layer
net, a mini-batch bigger than the data, and 784-30-10 on real MNIST rows;
normal, saturating and mostly-zero inputs.

Every case runs two or three epochs through one set of velocities and one
mask generator, as ``trainer.train`` does, so momentum carries across epochs.

Tolerance: ``rtol=1e-12`` with ``atol="scaled"`` (1e-12 times the largest
``|entry|`` of the same array: SGD may drive a weight to -3e-6 among weights
of size 1, and its rounding error is relative to the array's scale). The
fused step subtracts each example's gradient as soon as it is known, the
reference the mini-batch's sum once, a difference of rounding that stays
far below 1e-12 over the few epochs here. Training from saturating inputs
is compared at 1e-8 (worst seen over seeds 0..99: 2.4e-9): there
sigma'(z) = a(1 - a) loses digits to cancellation in both implementations,
NumPy's SIMD exp differs from the C library's, which Numba calls, by one ulp
on ~5% of arguments, and the reference is no steadier: in the worst cases,
one ulp added to its own initial weights moves its trained parameters by
up to 3e-9.
"""

from functools import partial

import numpy as np
import pytest

from nndl_core import Network, costs
from nndl_core._testing import VALUE_RANGES, assert_matches_reference, make_inputs
from nndl_core.data import load_mnist
from nndl_core.kernels import dense
from nndl_core.regularization import dropout_backprop, sgd_step
from nndl_core.training import one_hot

RTOL = 1e-12
SATURATED_SGD_RTOL = 1e-8

COSTS = {
    "quadratic": costs.QuadraticCost,
    "cross_entropy": costs.CrossEntropyCost,
    "log_likelihood": costs.LogLikelihoodCost,
}
# The book's learning rates: 3.0 for the quadratic cost (chap1), 0.5 for the
# others (chap3). At eta=3.0 cross-entropy training on 200 images is chaotic:
# one ulp changed in the *reference's* initial weights grows to a relative
# difference of ~1e-7 within 4 epochs, so no summation order other than
# NumPy's own could match it to 1e-12 there.
ETA = {"quadratic": 3.0, "cross_entropy": 0.5, "log_likelihood": 0.5}

OPTIONS = {
    "plain": {},
    "l2": {"lmbda": 5.0},
    "l1": {"lmbda": 5.0, "regularization": "l1"},
    "dropout": {"dropout": 0.5},
    "dropout 0.2": {"dropout": 0.2},
    "momentum": {"mu": 0.9},
    "all": {"lmbda": 2.0, "regularization": "l1", "dropout": 0.3, "mu": 0.5},
    "l2, momentum": {"lmbda": 2.0, "mu": 0.5},
}


@pytest.fixture(scope="module")
def mnist_rows():
    """100 real MNIST training images (rows) and labels."""
    training = load_mnist(subset=True).training
    return training.images[:100], training.labels[:100]


def _options(option, n):
    """The ``options`` dict of ``sgd_step`` for one entry of ``OPTIONS``."""
    base = {"lmbda": 0.0, "n": n, "regularization": "l2", "dropout": 0.0, "mu": 0.0}
    return base | OPTIONS[option]


def _epochs_kernel(make_net, images, labels, orders, mini_batch_size, eta, options):
    net = make_net()  # a fresh network: each side trains its own
    velocities = (
        [np.zeros_like(w) for w in net.weights],
        [np.zeros_like(b) for b in net.biases],
    )
    rng = np.random.default_rng(11)  # dropout masks
    sparse = dense.to_sparse(images)
    for order in orders:
        dense.train_epoch(
            net,
            sparse,
            labels,
            order,
            mini_batch_size,
            eta,
            velocities=velocities,
            rng=rng,
            **options,
        )
    return net.weights, net.biases


def _epochs_reference(make_net, images, labels, orders, mini_batch_size, eta, options):
    """``sgd_step`` on consecutive slices of each order, as ``trainer.train``."""
    net = make_net()  # a fresh network: each side trains its own
    velocities = (
        [np.zeros_like(w) for w in net.weights],
        [np.zeros_like(b) for b in net.biases],
    )
    rng = np.random.default_rng(11)
    for order in orders:
        for k in range(0, len(order), mini_batch_size):
            idx = order[k : k + mini_batch_size]
            y = one_hot(labels[idx], net.sizes[-1])
            sgd_step(net, images[idx].T, y, eta, options, velocities, rng)
    return net.weights, net.biases


def _update_mini_batch_epochs(
    make_net, images, labels, orders, mini_batch_size, eta, options
):
    """Plain SGD with L2 as ``Network.SGD`` computes it (``update_mini_batch``)."""
    net = make_net()  # a fresh network: each side trains its own
    for order in orders:
        for k in range(0, len(order), mini_batch_size):
            idx = order[k : k + mini_batch_size]
            y = one_hot(labels[idx], net.sizes[-1])
            net.update_mini_batch(images[idx].T, y, eta, options["lmbda"], options["n"])
    return net.weights, net.biases


def _cases(seed, mnist_rows, option, cost="cross_entropy", hidden="sigmoid"):
    """(label, (make_net, images, labels, orders, mini_batch_size, eta, options)).

    Sigmoid networks start from chapter 1's N(0, 1) weights; tanh and ReLU
    ones from chapter 3's N(0, 1/n_in) and learn at eta=0.1. At eta=0.5 a
    tanh 784-30-10 network with dropout or momentum is chaotic on 200 MNIST
    images: one ulp added to the reference's own initial weights moves its
    parameters by 1e-9 to 1e-7 within two epochs, so nothing but the
    reference itself could match it to 1e-12. At eta=0.1 that ulp moves them
    by less than 1e-14.
    """
    rng = np.random.default_rng(seed)
    eta = ETA[cost] if hidden == "sigmoid" else 0.1
    make_net = partial(
        Network,
        seed=seed,
        cost=COSTS[cost],
        activation=hidden,
        initializer="large" if hidden == "sigmoid" else "default",
    )
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
            orders = [rng.permutation(n) for _ in range(epochs)]
            args = (images, labels, orders, mini_batch_size, eta)
            net = partial(make_net, sizes)
            yield f"{name}, {kind}", (net, *args, _options(option, n))
    images, labels = mnist_rows
    orders = [rng.permutation(len(labels)) for _ in range(2)]
    args = (images, labels, orders, 10, eta, _options(option, 50_000))
    yield "784-30-10, mnist", (partial(make_net, [784, 30, 10]), *args)


def _assert_epochs_match(kernel, reference, cases):
    cases = list(cases)
    saturating = [case for case in cases if "saturating" in case[0]]
    others = [case for case in cases if "saturating" not in case[0]]
    assert_matches_reference(kernel, reference, others, rtol=RTOL, atol="scaled")
    assert_matches_reference(
        kernel, reference, saturating, rtol=SATURATED_SGD_RTOL, atol="scaled"
    )


@pytest.mark.parametrize("cost", sorted(COSTS))
@pytest.mark.parametrize("option", ["plain", "l2"])
def test_plain_sgd_matches_update_mini_batch(seed, mnist_rows, cost, option):
    _assert_epochs_match(
        _epochs_kernel,
        _update_mini_batch_epochs,
        _cases(seed, mnist_rows, option, cost),
    )


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_every_option_matches_sgd_step(seed, mnist_rows, option):
    _assert_epochs_match(
        _epochs_kernel, _epochs_reference, _cases(seed, mnist_rows, option)
    )


@pytest.mark.parametrize("cost", sorted(COSTS))
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("option", ["plain", "all"])
def test_every_neuron_and_cost_matches_sgd_step(seed, mnist_rows, cost, hidden, option):
    _assert_epochs_match(
        _epochs_kernel,
        _epochs_reference,
        _cases(seed, mnist_rows, option, cost, hidden),
    )


def test_dropout_masks_are_the_references_masks(seed):
    net = Network([5, 7, 4, 3], seed=seed)
    layout, _ = dense.pack(net)
    masks = dense.epoch.dropout_masks(np.random.default_rng(seed), 6, layout, 0.4)
    assert masks.shape == (6, 8 + 8)  # two hidden layers, padded to 8
    rng = np.random.default_rng(seed)
    for batch in range(6):  # dropout_backprop draws one mask per hidden layer
        for l, n in ((1, 7), (2, 4)):  # noqa: E741
            expected = (rng.random((n, 1)) >= 0.4) / 0.6
            start = layout.node_offsets[l]
            np.testing.assert_array_equal(
                masks[batch, start : start + n], expected[:, 0]
            )
            assert np.all(masks[batch, start + n : start + 8] == 0)  # padding


def test_masks_reach_the_kernel_in_order(seed):
    # One epoch of two mini-batches with dropout: each mini-batch's gradient
    # must be the reference's, with that mini-batch's masks.
    rng = np.random.default_rng(seed)
    images, labels = rng.random((8, 5)), rng.integers(0, 3, 8)
    net = Network([5, 6, 3], seed=seed, cost=costs.CrossEntropyCost)
    expected = Network([5, 6, 3], seed=seed, cost=costs.CrossEntropyCost)
    mask_rng = np.random.default_rng(1)
    for idx in (np.arange(4), np.arange(4, 8)):
        nabla_b, nabla_w = dropout_backprop(
            expected, images[idx].T, one_hot(labels[idx], 3), 0.5, mask_rng
        )
        expected.weights = [
            w - 0.5 / 4 * nw for w, nw in zip(expected.weights, nabla_w)
        ]
        expected.biases = [b - 0.5 / 4 * nb for b, nb in zip(expected.biases, nabla_b)]
    dense.train_epoch(
        net,
        images,
        labels,
        np.arange(8),
        4,
        0.5,
        dropout=0.5,
        rng=np.random.default_rng(1),
    )
    for actual, wanted in zip(
        net.weights + net.biases, expected.weights + expected.biases
    ):
        np.testing.assert_allclose(actual, wanted, rtol=RTOL, atol=1e-15)


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


def test_dense_and_sparse_images_train_alike(seed, mnist_rows):
    images, labels = mnist_rows
    order = np.random.default_rng(seed).permutation(len(images))
    nets = [Network([784, 30, 10], seed=seed) for _ in range(2)]
    dense.train_epoch(nets[0], images, labels, order, 10, 3.0)
    dense.train_epoch(nets[1], dense.to_sparse(images), labels, order, 10, 3.0)
    for actual, expected in zip(nets[1].weights, nets[0].weights):
        np.testing.assert_array_equal(actual, expected)


def test_train_epoch_writes_back_float64_parameters_of_the_same_shapes(mnist_rows):
    images, labels = mnist_rows
    net = Network([784, 30, 10], seed=0)
    shapes = [w.shape for w in net.weights] + [b.shape for b in net.biases]
    dense.train_epoch(net, images, labels, np.arange(len(images)), 10, 3.0)
    assert [w.shape for w in net.weights] + [b.shape for b in net.biases] == shapes
    assert all(p.dtype == np.float64 for p in net.weights + net.biases)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"order": np.array([0, 1, 10])}, "order"),
        ({"order": np.array([-1, 0])}, "order"),
        ({"labels": np.array([0, 3] * 5)}, "labels"),
        ({"images": np.zeros((10, 4))}, "images"),
        ({"mini_batch_size": 0}, "mini_batch_size"),
        ({"lmbda": -1.0}, "lmbda"),
        ({"mu": 1.0}, "mu"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": 0.5}, "rng"),
        ({"regularization": "l3"}, "regularization"),
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
