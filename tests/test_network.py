import os

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nndl_core.activations import sigmoid
from nndl_core.costs import CrossEntropyCost, LogLikelihoodCost
from nndl_core.network import Network
from nndl_core.training import (
    MAX_PARAMETER,
    TrainingDivergedError,
    check_diverged,
    one_hot,
)


def tiny_net():
    """A 3-2-1 network with hand-picked parameters."""
    net = Network([3, 2, 1], seed=0)
    net.weights = [
        np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.5]]),
        np.array([[1.0, -1.0]]),
    ]
    net.biases = [np.array([[0.1], [-0.1]]), np.array([[0.2]])]
    return net


def test_worked_3_2_1_example_forward_and_backprop():
    # Worked by hand from the equations (sklearn test_fit style).
    net = tiny_net()
    x = np.array([[1.0], [2.0], [0.0]])
    y = np.array([[1.0]])
    z1 = np.array([[0.1 - 0.4 + 0.1], [1.0 - 0.1]])  # w x + b
    a1 = sigmoid(z1)
    z2 = a1[0] - a1[1] + 0.2
    a2 = sigmoid(z2)
    assert_allclose(net.feedforward(x), [a2], rtol=1e-15)

    delta2 = (a2 - 1.0) * a2 * (1 - a2)  # BP1, quadratic cost
    delta1 = np.array([1.0, -1.0]) * delta2 * (a1 * (1 - a1)).ravel()  # BP2
    nabla_b, nabla_w = net.backprop(x, y)
    assert_allclose(nabla_b[1], [delta2], rtol=1e-14)
    assert_allclose(nabla_w[1], [delta2 * a1.ravel()], rtol=1e-14)  # BP4
    assert_allclose(nabla_b[0].ravel(), delta1, rtol=1e-14)  # BP3
    assert_allclose(nabla_w[0], np.outer(delta1, x.ravel()), rtol=1e-14, atol=1e-300)


def test_backprop_of_a_batch_is_the_sum_over_its_columns(rng):
    net = Network([4, 5, 3], seed=1)
    x = rng.random((4, 6))
    y = one_hot(rng.integers(0, 3, 6), 3)
    nabla_b, nabla_w = net.backprop(x, y)
    singles = [net.backprop(x[:, [i]], y[:, [i]]) for i in range(6)]
    for l in range(2):  # noqa: E741
        assert_allclose(nabla_b[l], sum(s[0][l] for s in singles), rtol=1e-12)
        assert_allclose(nabla_w[l], sum(s[1][l] for s in singles), rtol=1e-12)


def test_feedforward_shapes_and_bad_input():
    net = Network([4, 3, 2], seed=0)
    assert net.feedforward(np.zeros(4)).shape == (2,)
    assert net.feedforward(np.zeros((4, 7))).shape == (2, 7)
    with pytest.raises(ValueError, match=r"input must have shape \(4,\)"):
        net.feedforward(np.zeros(5))
    with pytest.raises(ValueError, match=r"input must have shape \(4,\)"):
        net.feedforward(1.0)  # a scalar: was a bare IndexError


def test_constructor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least two"):
        Network([784])
    with pytest.raises(ValueError, match="backend"):
        Network([2, 1], backend="gpu")
    with pytest.raises(ValueError, match=r"sizes\[1\] must be a whole number, got 2.7"):
        Network([784, 2.7, 10])  # was silently int(2.7) == 2 neurons
    with pytest.raises(ValueError, match=r"sizes\[2\] must be at least 1"):
        Network([784, 30, 0])
    assert Network([4.0, 3, 2]).sizes == [4, 3, 2]


def test_same_seeds_give_the_same_run(rng):
    images, labels = rng.random((40, 6)), rng.integers(0, 3, 40)
    runs = []
    for _ in range(2):
        net = Network([6, 4, 3], seed=3)
        net.SGD((images, labels), 2, 7, 1.0, seed=5)
        runs.append(net)
    for w0, w1 in zip(runs[0].weights, runs[1].weights):
        assert_allclose(w0, w1, rtol=0)


def test_sgd_learns_a_separable_problem_and_reports_history(rng):
    images = rng.random((300, 2))
    labels = (images[:, 0] > images[:, 1]).astype(np.int64)
    net = Network([2, 8, 2], seed=0)
    before = net.evaluate((images, labels))
    history = net.SGD((images, labels), 30, 10, 3.0, test_data=(images, labels), seed=0)
    assert history.epochs == 30 and history.n_evaluation == 300
    assert history.evaluation_correct[-1] > max(before, 270)
    assert history.best()[1] == max(history.evaluation_accuracy)


def test_sgd_does_not_touch_the_callers_data(rng):
    images, labels = rng.random((20, 3)), rng.integers(0, 2, 20)
    copy = images.copy(), labels.copy()
    Network([3, 2], seed=0).SGD((images, labels), 1, 4, 1.0, seed=0)
    assert_allclose(images, copy[0], rtol=0)
    assert (labels == copy[1]).all()


def test_sgd_explains_wrong_shapes():
    net = Network([784, 30, 10], seed=0)
    with pytest.raises(ValueError, match=r"training_data: images must have shape"):
        net.SGD((np.zeros((5, 28, 28)), np.zeros(5, dtype=int)), 1, 1, 1.0)
    with pytest.raises(TypeError, match="labels must be integers"):
        net.SGD((np.zeros((5, 784)), np.zeros(5)), 1, 1, 1.0)
    with pytest.raises(TypeError, match="pair"):
        net.SGD([1, 2, 3], 1, 1, 1.0)
    with pytest.raises(ValueError, match="mini_batch_size"):
        net.SGD((np.zeros((5, 784)), np.zeros(5, dtype=int)), 1, 0, 1.0)


def test_divergence_is_reported_with_advice():
    weights = [np.ones((2, 2)), np.array([[np.inf, 0.0]])]
    with pytest.raises(TrainingDivergedError, match="eta=3.0 is probably too large"):
        check_diverged(weights + [np.zeros((2, 1)), np.zeros((1, 1))], 4, 3.0)
    check_diverged(weights[:1] + [np.zeros((2, 1))], 4, 3.0)  # finite: no error


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_runaway_weights_stop_training_with_advice(rng, backend):
    # eta = 1e300 once trained to weights near 1e298 and chance accuracy, silently
    images, labels = rng.random((20, 4)), rng.integers(0, 3, 20)
    net = Network([4, 5, 3], seed=0, backend=backend)
    with pytest.raises(TrainingDivergedError, match=r"epoch 0.*eta=1e\+300"):
        net.SGD((images, labels), 2, 5, 1e300)
    # Silencing NumPy's overflow warnings does not silence the check.
    net = Network([4, 5, 3], seed=0, backend=backend)
    with np.errstate(over="ignore"), pytest.raises(TrainingDivergedError):
        net.SGD((images, labels), 1, 5, 1e300)


def test_the_divergence_limit_sits_between_working_and_runaway_weights():
    # Measured: the book's runs reach at most 1.24e5 (training.MAX_PARAMETER).
    working = [np.full((2, 2), 1.24e5), np.full((2, 1), -1.24e5)]
    check_diverged(working, 0, 100.0)
    runaway = [np.zeros((2, 2)), np.full((2, 1), -2 * MAX_PARAMETER)]
    with pytest.raises(TrainingDivergedError, match=r"reached 2e\+08"):
        check_diverged(runaway, 0, 100.0)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("NNDL_MNIST_DIR"), reason="needs NNDL_MNIST_DIR")
def test_chapter_1_large_eta_run_stays_below_the_divergence_limit():
    # The book's deliberately bad eta = 100 (chap1): its sigmoids saturate at
    # once, and its weights stay near 10, far below the limit.
    from nndl_core.data import load_mnist

    training = load_mnist().training
    net = Network([784, 30, 10], seed=0, backend="numba")
    net.SGD((training.images[:5_000], training.labels[:5_000]), 3, 10, 100.0, seed=0)
    largest = max(np.abs(p).max() for p in net.weights + net.biases)
    assert 1.0 < largest < MAX_PARAMETER / 1e6


def test_sgd_rejects_a_nonsense_learning_rate():
    net = Network([3, 2], seed=0)
    data = (np.zeros((4, 3)), np.zeros(4, dtype=int))
    for eta in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="eta must be a positive"):
            net.SGD(data, 1, 2, eta)


def test_non_finite_data_is_rejected_before_training():
    images = np.zeros((4, 3))
    images[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        Network([3, 2], seed=0).SGD((images, np.zeros(4, dtype=int)), 1, 2, 1.0)


def test_l2_shrinks_weights_by_the_books_factor(rng):
    net = Network([3, 2], seed=0)
    x, y = rng.random((3, 4)), one_hot(rng.integers(0, 2, 4), 2)
    nabla_b, nabla_w = net.backprop(x, y)
    expected = (1 - 0.5 * 2.0 / 100) * net.weights[0] - 0.5 / 4 * nabla_w[0]
    net.update_mini_batch(x, y, eta=0.5, lmbda=2.0, n=100)
    assert_allclose(net.weights[0], expected, rtol=1e-14)


def test_l2_is_the_same_on_both_backends(rng):
    images, labels = rng.random((30, 5)), rng.integers(0, 3, 30)
    nets = [Network([5, 4, 3], seed=2, backend=b) for b in ("numpy", "numba")]
    for net in nets:
        net.SGD((images, labels), 2, 4, 0.7, seed=3, lmbda=5.0)
    for expected, actual in zip(nets[0].weights, nets[1].weights):
        assert_allclose(actual, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="lmbda"):
        nets[0].SGD((images, labels), 1, 4, 0.7, lmbda=-1.0)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize(
    "cost", [CrossEntropyCost, LogLikelihoodCost], ids=["ce", "ll"]
)
def test_sgd_is_the_same_on_both_backends_for_every_neuron(rng, activation, cost):
    images, labels = rng.random((30, 5)), rng.integers(0, 3, 30)
    images[images < 0.3] = 0.0
    nets = [
        Network(
            [5, 4, 3],
            seed=2,
            cost=cost,
            activation=activation,
            backend=backend,
            initializer="default",
        )
        for backend in ("numpy", "numba")
    ]
    for net in nets:
        net.SGD((images, labels), 2, 4, 0.3, seed=3, lmbda=1.0)
    for expected, actual in zip(
        nets[0].weights + nets[0].biases, nets[1].weights + nets[1].biases
    ):
        assert_allclose(actual, expected, rtol=1e-12, atol=1e-14)


def test_numba_backend_refuses_what_it_cannot_run():
    class Hinge:
        name = "hinge"

    with pytest.raises(NotImplementedError, match="backend='numpy'"):
        Network([4, 3, 2], cost=Hinge, backend="numba")
    Network([4, 3, 2], cost=Hinge)  # the NumPy backend takes any cost


@pytest.mark.parametrize("threads", [1, 2])
def test_the_history_says_how_many_threads_trained(rng, threads):
    images, labels = rng.random((40, 6)), rng.integers(0, 3, 40)
    net = Network([6, 9, 3], seed=0, backend="numba", threads=threads)
    assert net.SGD((images, labels), 1, 10, 1.0, seed=0).threads == threads
    numpy_net = Network([6, 9, 3], seed=0)
    assert numpy_net.SGD((images, labels), 1, 10, 1.0, seed=0).threads == 1
    for actual, expected in zip(net.weights, numpy_net.weights):
        assert_allclose(actual, expected, rtol=1e-12)


def test_threads_must_be_positive():
    with pytest.raises(ValueError, match="threads must be at least 1"):
        Network([2, 2], threads=0)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("bad", [-1, 3])
def test_labels_outside_the_classes_are_refused_on_both_backends(rng, backend, bad):
    # NumPy once trained -1 as the last class and raised IndexError on 3.
    images, labels = rng.random((20, 4)), rng.integers(0, 3, 20)
    labels[7] = bad
    net = Network([4, 5, 3], seed=0, backend=backend)
    before = [w.copy() for w in net.weights]
    message = f"training_data: labels must be integers 0..2; got {bad} at index 7"
    with pytest.raises(ValueError, match=message):
        net.SGD((images, labels), 1, 5, 1.0)
    for expected, actual in zip(before, net.weights):
        assert_allclose(actual, expected, rtol=0)  # refused before any step
    with pytest.raises(ValueError, match=f"test_data: labels .* got {bad} at index 7"):
        net.SGD((images, labels % 3), 1, 5, 1.0, test_data=(images, labels))
    with pytest.raises(ValueError, match=f"got {bad} at index 7"):
        net.evaluate((images, labels))  # once counted -1 as a wrong 9


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_an_empty_training_set_is_refused_on_both_backends(backend):
    # NumPy once trained nothing silently; numba divided by zero.
    net = Network([4, 5, 3], seed=0, backend=backend)
    with pytest.raises(ValueError, match="training_data is empty"):
        net.SGD((np.zeros((0, 4)), np.zeros(0, dtype=int)), 1, 5, 1.0)


def test_sgd_rejects_fractional_counts():
    net = Network([3, 2], seed=0)
    data = (np.zeros((4, 3)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="mini_batch_size must be a whole number"):
        net.SGD(data, 1, 2.5, 1.0)
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        net.SGD(data, 1.5, 2, 1.0)
