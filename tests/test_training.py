import numpy as np
import pytest

from nndl_core.training import History, minibatch_slices, minibatches, one_hot


def test_minibatches_cover_every_example_once_as_columns(rng):
    images = np.arange(23 * 2, dtype=float).reshape(23, 2)
    labels = np.arange(23) % 10
    seen = []
    sizes = []
    for x, y in minibatches(images, labels, 5, rng):
        assert x.shape[0] == 2 and y.shape == (10, x.shape[1])
        assert (np.argmax(y, axis=0) == labels[(x[0] / 2).astype(int)]).all()
        seen.extend((x[0] / 2).astype(int))
        sizes.append(x.shape[1])
    assert sorted(seen) == list(range(23))
    assert sizes == [5, 5, 5, 5, 3]


def test_minibatch_slices_is_the_single_consumer_of_rng():
    a = minibatch_slices(10, 3, np.random.default_rng(1))
    b = minibatch_slices(10, 3, np.random.default_rng(1))
    assert (a[0] == b[0]).all() and a[1] == b[1] == [(0, 3), (3, 6), (6, 9), (9, 10)]


def test_one_hot_columns():
    y = one_hot(np.array([3, 0, 9]))
    assert y.shape == (10, 3) and (y.sum(axis=0) == 1).all() and y[3, 0] == 1


def test_history_round_trips_and_ranks():
    h = History([1, 3, 2], [0.1, 0.3, 0.2], [1.0, 1.0, 1.0], 10)
    assert History.from_dict(h.to_dict()) == h
    assert h.best() == (1, 0.3)
    with pytest.raises(ValueError, match="no evaluation"):
        History().best()


def test_train_may_let_finite_weights_grow_when_asked(rng):
    from nndl_core.network import Network
    from nndl_core.trainer import train
    from nndl_core.training import TrainingDivergedError

    images, labels = rng.random((20, 4)), rng.integers(0, 3, 20)
    with np.errstate(over="ignore"), pytest.raises(TrainingDivergedError):
        train(Network([4, 5, 3], seed=0), (images, labels), 1, 5, 1e300, monitor=())
    net = Network([4, 5, 3], seed=0)
    with np.errstate(over="ignore"):
        train(net, (images, labels), 1, 5, 1e300, monitor=(), max_parameter=np.inf)
    assert np.abs(net.weights[0]).max() > 1e290
