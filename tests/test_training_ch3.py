"""Chapter 3's training loop: monitors, early stopping, schedule, momentum, backends."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nndl_core.costs import CrossEntropyCost, LogLikelihoodCost
from nndl_core.network import Network
from nndl_core.schedules import HalvingSchedule, no_improvement
from nndl_core.trainer import MONITORS, train
from nndl_core.training import History, TrainingDivergedError


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 8))
    return x, (x[:, 0] > 0.5).astype(np.int64)


def _net(seed=0, **kw):
    return Network([8, 5, 2], seed=seed, cost=CrossEntropyCost, **kw)


def test_four_histories_and_round_trip():
    h = train(
        _net(),
        _data(),
        3,
        10,
        0.5,
        evaluation_data=_data(20, 1),
        monitor=MONITORS,
        seed=0,
    )
    for key in MONITORS:
        assert len(getattr(h, key)) == 3
    assert History.from_dict(h.to_dict()) == h
    assert History.from_dict({"seconds": [1.0]}).epochs == 1  # old caches still load


def test_matches_network_sgd_without_options():
    a, b = _net(), _net()
    a.SGD(_data(), 2, 10, 0.5, seed=3, lmbda=1.0)
    train(b, _data(), 2, 10, 0.5, lmbda=1.0, seed=3, monitor=())
    assert all(np.allclose(p, q) for p, q in zip(a.weights, b.weights))


def test_momentum_is_deterministic_and_differs_from_sgd():
    nets = [_net() for _ in range(3)]
    for net, mu in zip(nets, (0.9, 0.9, 0.0)):
        train(net, _data(), 2, 10, 0.5, mu=mu, seed=1, monitor=())
    assert np.array_equal(nets[0].weights[0], nets[1].weights[0])
    assert not np.allclose(nets[0].weights[0], nets[2].weights[0])


def test_momentum_rule_on_one_step():
    net = _net()
    w0 = net.weights[0].copy()
    x, y = _data(10)
    nb, nw = net.backprop(x.T, np.eye(2)[:, y])
    train(net, (x, y), 1, 10, 0.5, mu=0.5, seed=0, monitor=())
    assert np.allclose(net.weights[0], w0 - 0.5 * nw[0] / 10)  # first step: v = -eta*g


def test_early_stopping_and_schedule():
    assert no_improvement([0.5, 0.6, 0.6, 0.6], 2) and not no_improvement([0.5, 0.6], 2)
    h = train(
        _net(),
        _data(),
        200,
        10,
        0.5,
        evaluation_data=_data(20, 1),
        early_stopping=3,
        seed=0,
    )
    assert h.stopped and h.epochs < 200
    s = HalvingSchedule(patience=1)
    s.start(1.0)
    steps = 0
    while not s.finished:
        s.step(0.0)
        steps += 1
    assert steps == 8  # one epoch sets the best, then seven halvings
    assert s.finished and s.eta == pytest.approx(1 / 128)
    h = train(
        _net(),
        _data(),
        500,
        10,
        0.5,
        evaluation_data=_data(20, 1),
        schedule=HalvingSchedule(patience=2),
        seed=0,
    )
    assert h.stopped.startswith("learning rate") and min(h.eta) == pytest.approx(
        0.5 / 64
    )


def test_needs_evaluation_data():
    with pytest.raises(ValueError, match="evaluation_data"):
        train(_net(), _data(), 1, 10, 0.5, early_stopping=3)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_refuses_bad_data_before_training(backend):
    x, y = _data()
    net = _net(backend=backend)
    before = net.weights[0].copy()
    bad = y.copy()
    bad[9] = -1  # once trained as the last class, silently
    with pytest.raises(ValueError, match="training_data: .* got -1 at index 9"):
        train(net, (x, bad), 1, 10, 0.5, monitor=())
    with pytest.raises(ValueError, match="evaluation_data: .* got -1 at index 9"):
        train(net, (x, y), 1, 10, 0.5, evaluation_data=(x, bad))
    with pytest.raises(ValueError, match="training_data is empty"):
        train(net, (x[:0], y[:0]), 1, 10, 0.5, monitor=())  # numba: ZeroDivisionError
    assert_allclose(net.weights[0], before, rtol=0)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"eta": np.inf}, "eta must be a positive, finite number"),
        ({"eta": -0.5}, "eta must be a positive, finite number"),
        ({"lmbda": np.nan}, "lmbda must be a finite number"),
        ({"mini_batch_size": 0}, "mini_batch_size must be at least 1"),
        ({"mu": 1.0}, "mu=1.0"),
        ({"dropout": -0.1}, "dropout=-0.1"),
    ],
)
def test_refuses_bad_hyper_parameters(change, message):
    arguments = {"epochs": 1, "mini_batch_size": 10, "eta": 0.5} | change
    with pytest.raises(ValueError, match=message):
        train(_net(), _data(), monitor=(), **arguments)


def test_runaway_weights_stop_training():
    with pytest.raises(TrainingDivergedError, match=r"reached .*eta=1e\+300"):
        train(_net(), _data(), 1, 60, 1e300, monitor=())


# --- the numba backend trains as the NumPy one does ------------------------------

BACKEND_OPTIONS = {
    "plain": {},
    "l2": {"lmbda": 2.0},
    "l1": {"lmbda": 2.0, "regularization": "l1"},
    "dropout": {"dropout": 0.3},
    "momentum": {"mu": 0.7},
    "all": {"lmbda": 1.0, "regularization": "l1", "dropout": 0.2, "mu": 0.5},
}


def _train_on(backend, options, activation, cost, seed):
    x, y = _data(61, seed)  # 61: the last of the 9 mini-batches is short
    x[x < 0.4] = 0.0  # zeros, like MNIST's background
    net = Network(
        [8, 7, 5, 3] if activation != "sigmoid" else [8, 6, 3],
        seed=seed,
        cost=cost,
        activation=activation,
        backend=backend,
        initializer="default",
    )
    history = train(
        net,
        (x, (y + (x[:, 1] > 0.5)) % 3),
        3,
        7,
        0.4,
        seed=seed,
        evaluation_data=_data(20, seed + 1),
        monitor=MONITORS,
        **options,
    )
    return net.weights + net.biases, history


@pytest.mark.parametrize("option", sorted(BACKEND_OPTIONS))
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize(
    "cost", [CrossEntropyCost, LogLikelihoodCost], ids=["ce", "ll"]
)
def test_numba_backend_trains_like_numpy(seed, option, activation, cost):
    # Same seed: same initial weights, same shuffles, same dropout masks.
    options = BACKEND_OPTIONS[option]
    expected, expected_history = _train_on("numpy", options, activation, cost, seed)
    actual, actual_history = _train_on("numba", options, activation, cost, seed)
    for a, e in zip(actual, expected, strict=True):
        assert_allclose(a, e, rtol=1e-12, atol=1e-12 * np.abs(e).max())
    assert actual_history.evaluation_correct == expected_history.evaluation_correct
    assert_allclose(
        actual_history.training_cost, expected_history.training_cost, rtol=1e-10
    )


def test_numba_momentum_step_is_the_books_rule():
    net = _net(backend="numba")
    w0 = net.weights[0].copy()
    x, y = _data(10)
    nb, nw = net.backprop(x.T, np.eye(2)[:, y])
    train(net, (x, y), 1, 10, 0.5, mu=0.5, seed=0, monitor=())
    assert_allclose(net.weights[0], w0 - 0.5 * nw[0] / 10, rtol=1e-12)


@pytest.mark.parametrize(
    "mu, threads, expected", [(0.0, 2, 2), (0.0, 1, 1), (0.5, 2, 1)]
)
def test_the_history_says_how_many_threads_trained(mu, threads, expected):
    net = _net(backend="numba", threads=threads)
    history = train(net, _data(), 1, 10, 0.5, mu=mu, seed=0, monitor=())
    assert history.threads == expected  # momentum runs on one thread
    assert train(_net(), _data(), 1, 10, 0.5, mu=mu, seed=0, monitor=()).threads == 1
