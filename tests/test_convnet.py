"""Network3: whole-network gradient check, backends agree, SGD semantics,
checkpoint and resume, ensembles."""

import json

import numpy as np
import pytest

from nndl_core.conv import ConvPoolLayer
from nndl_core.convnet import Network3, ensemble_predict
from nndl_core.convnet_checkpoint import (
    ConvHistory,
    listening,
    load_network,
    save_network,
)
from nndl_core.layers import FullyConnectedLayer, SoftmaxLayer, log_likelihood
from nndl_core.training import TrainingDivergedError


def tiny_layers(activation="tanh", p_drop=0.0):
    """A 6x6 image -> conv 2 maps 3x3 + pool 2 -> dense 5 -> softmax 3."""
    return [
        ConvPoolLayer((2, 1, 3, 3), (1, 6, 6), 2, activation),
        ConvPoolLayer((3, 2, 1, 1), (2, 2, 2), 1, activation),
        FullyConnectedLayer(12, 5, "sigmoid", p_drop),
        SoftmaxLayer(5, 3, p_drop),
    ]


def _data(rng, n=8, side=6, classes=3):
    return rng.random((n, side * side)), rng.integers(0, classes, n)


def test_whole_network_gradient_matches_finite_differences(rng):
    net = Network3(tiny_layers(), seed=1)
    for layer in net.layers:  # the softmax starts at zero; move it off
        layer.w = layer.w + 0.3 * rng.standard_normal(layer.w.shape)
    images, labels = _data(rng, n=3)
    grads = net.backprop(images, labels)

    def cost():
        return log_likelihood(net.feedforward(images), labels)

    eps = 1e-6
    for layer, grad in zip(net.layers, grads, strict=True):
        for name in ("w", "b"):
            array = getattr(layer, name)
            expected = np.zeros_like(array)
            for i in np.ndindex(array.shape):
                old = array[i]
                array[i] = old + eps
                plus = cost()
                array[i] = old - eps
                expected[i] = (plus - cost()) / (2 * eps)
                array[i] = old
            np.testing.assert_allclose(grad[name], expected, rtol=1e-5, atol=1e-8)


def _train(backend, dtype, rng_seed, p_drop=0.0, **kw):
    rng = np.random.default_rng(rng_seed)
    train, val = _data(rng, 30), _data(rng, 10)
    net = Network3(tiny_layers("relu", p_drop), seed=2, backend=backend, dtype=dtype)
    history = net.SGD(train, 3, 4, 0.5, val, val, lmbda=0.1, seed=5, **kw)
    return net, history


@pytest.mark.parametrize("p_drop", [0.0, 0.5])
def test_numba_backend_trains_like_numpy(seed, p_drop):
    expected, _ = _train("numpy", None, seed, p_drop)
    actual, _ = _train("numba", np.float64, seed, p_drop)
    for a, e in zip(actual.layers, expected.layers, strict=True):
        for name in ("w", "b"):
            x, y = getattr(a, name), getattr(e, name)
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10 * np.abs(y).max())


def test_numba_backend_trains_in_float32_by_default(seed):
    net, history = _train("numba", None, seed)
    assert net.layers[0].w.dtype == np.float32 and history.epochs == 3


def test_best_epoch_ties_go_to_the_later_epoch():
    history = ConvHistory([0.5, 0.7, 0.7, 0.6], [0.1, 0.2, 0.3, 0.4], [0] * 4)
    assert history.best() == (2, 0.7, 0.3)


def test_l2_scaling_network3_decays_by_eta_lmbda_m_over_n(rng):
    net = Network3(tiny_layers(), seed=0)
    for layer in net.layers:
        layer.w = np.ones_like(layer.w)
    before = net.layers[0].w.copy()
    images, labels = _data(rng, 20)
    net.SGD(
        (images, labels), 1, 10, 1e-12, (images, labels), (images, labels), lmbda=1e9
    )
    # two steps, each decaying by 1 - eta * lmbda * m / n = 1 - 1e-3 * 10 / 20
    np.testing.assert_allclose(net.layers[0].w, before * (1 - 5e-4) ** 2, rtol=1e-6)


def test_checkpoint_resumes_to_the_same_result(tmp_path, seed):
    rng = np.random.default_rng(seed)
    train, val = _data(rng, 30), _data(rng, 10)

    def run(epochs, folder):
        net = Network3(tiny_layers("relu", 0.5), seed=2)
        return net, net.SGD(train, epochs, 4, 0.5, val, val, seed=7, checkpoint=folder)

    straight, history = run(3, tmp_path / "a")

    class StopTrainingError(Exception):
        pass

    def stop_after_two(epoch, _):
        if epoch == 1:
            raise StopTrainingError

    net = Network3(tiny_layers("relu", 0.5), seed=2)
    with pytest.raises(StopTrainingError):
        net.SGD(
            train,
            3,
            4,
            0.5,
            val,
            val,
            seed=7,
            checkpoint=tmp_path / "b",
            callback=stop_after_two,
        )
    resumed, resumed_history = run(3, tmp_path / "b")
    assert resumed_history.validation_accuracy == history.validation_accuracy
    assert resumed_history.test_accuracy == history.test_accuracy
    for a, e in zip(resumed.layers, straight.layers, strict=True):
        np.testing.assert_array_equal(a.w, e.w)


def test_checkpoint_of_another_run_is_refused(tmp_path, rng):
    train = _data(rng, 12)
    net = Network3(tiny_layers(), seed=0)
    net.SGD(train, 1, 4, 0.1, train, train, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="different run"):
        Network3(tiny_layers(), seed=0).SGD(
            train, 1, 4, 0.2, train, train, checkpoint=tmp_path
        )


def test_save_and_load_round_trip(tmp_path, rng):
    net = Network3(tiny_layers(), seed=3)
    save_network(net, tmp_path)
    loaded = load_network(tmp_path)
    images, _ = _data(rng)
    np.testing.assert_array_equal(loaded.feedforward(images), net.feedforward(images))


def test_ensemble_takes_the_plurality_vote():
    class Fixed:
        def __init__(self, answers):
            self.answers = np.array(answers)

        def predict(self, images):
            return self.answers

    nets = [Fixed([1, 2, 3]), Fixed([1, 5, 4]), Fixed([0, 5, 3])]
    np.testing.assert_array_equal(ensemble_predict(nets, None), [1, 5, 3])


def test_layers_must_chain():
    with pytest.raises(ValueError, match="expects"):
        Network3([FullyConnectedLayer(784, 30), SoftmaxLayer(20, 10)])


@pytest.mark.parametrize("bad", [-1, 3])
@pytest.mark.parametrize("where", ["training_data", "validation_data", "test_data"])
def test_sgd_refuses_labels_outside_the_classes(rng, bad, where):
    # -1 once trained as the last class, silently; 3 raised a bare IndexError
    data = {name: _data(rng, 12) for name in ("training_data", "validation_data")}
    data["test_data"] = _data(rng, 12)
    data[where][1][5] = bad
    net = Network3(tiny_layers(), seed=0)
    with pytest.raises(ValueError, match=f"{where}: labels .* got {bad} at index 5"):
        net.SGD(data["training_data"], 1, 4, 0.1, *list(data.values())[1:])
    with pytest.raises(ValueError, match=f"got {bad} at index 5"):
        net.accuracy(data[where])


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"eta": -1.0}, ValueError, "eta must be a positive"),  # was accepted
        ({"eta": np.nan}, ValueError, "eta must be a positive"),
        ({"mini_batch_size": 13}, ValueError, "pass at most 12"),  # trained nothing
        ({"mini_batch_size": 0}, ValueError, "at least 1"),  # ZeroDivisionError
        ({"lmbda": -0.1}, ValueError, "lmbda"),
        ({"epochs": 2.5}, ValueError, "epochs must be a whole number"),
    ],
)
def test_sgd_refuses_bad_hyper_parameters(rng, change, error, message):
    train = _data(rng, 12)
    arguments = {"epochs": 1, "mini_batch_size": 4, "eta": 0.1} | change
    net = Network3(tiny_layers(), seed=0)
    with pytest.raises(error, match=message):
        net.SGD(train, validation_data=train, test_data=train, **arguments)


def test_sgd_explains_float_labels_and_nan_images(rng):
    images, labels = _data(rng, 12)
    net = Network3(tiny_layers(), seed=0)
    with pytest.raises(TypeError, match="labels must be integers 0..2, got float64"):
        net.SGD((images, labels.astype(float)), 1, 4, 0.1, (images, labels), None)
    with pytest.raises(TypeError, match="test_data must be a pair"):
        net.SGD((images, labels), 1, 4, 0.1, (images, labels), None)
    images[4, 7] = np.nan  # was reported as a learning rate that was too large
    with pytest.raises(ValueError, match=r"NaN or infinite values \(first in row 4\)"):
        net.SGD((images, labels), 1, 4, 0.1, (images, labels), (images, labels))


def test_runaway_parameters_stop_training(rng):
    train = _data(rng, 8, side=6)
    net = Network3([FullyConnectedLayer(36, 5), SoftmaxLayer(5, 3)], seed=0)
    with pytest.raises(TrainingDivergedError, match=r"reached .*eta=1e\+300"):
        net.SGD(train, 1, 8, 1e300, train, train)  # one step: finite, absurd weights


def test_a_checkpoint_names_a_complete_parameter_file(tmp_path, rng):
    """``state.json`` is replaced last, so a kill at any moment leaves a pair
    that belongs together; older parameter files are removed after it."""
    train = _data(rng, 12)
    net = Network3(tiny_layers(), seed=0)
    net.SGD(train, 2, 4, 0.1, train, train, checkpoint=tmp_path)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["epoch"] == 2 and state["params"] == "params-2.npz"
    assert sorted(p.name for p in tmp_path.glob("params-*.npz")) == ["params-2.npz"]


def test_listening_hears_every_epoch_and_every_resume(tmp_path, rng):
    train = _data(rng, 12)
    heard = []

    def on_epoch(epoch, epochs, history, folder):
        heard.append(("epoch", epoch, epochs, history.epochs, folder))

    def on_resume(epoch, epochs, folder):
        heard.append(("resume", epoch, epochs, folder))

    with listening(on_resume, on_epoch):
        Network3(tiny_layers(), seed=0).SGD(train, 1, 4, 0.1, train, train)
        assert heard == [("epoch", 0, 1, 1, None)]
        heard.clear()
        net = Network3(tiny_layers(), seed=0)
        net.SGD(train, 1, 4, 0.1, train, train, checkpoint=tmp_path)
        Network3(tiny_layers(), seed=0).SGD(
            train, 2, 4, 0.1, train, train, checkpoint=tmp_path / "two"
        )
    assert heard[0] == ("epoch", 0, 1, 1, tmp_path)
    heard.clear()
    with listening(on_resume, on_epoch):
        resumed = Network3(tiny_layers(), seed=0)
        resumed.SGD(train, 1, 4, 0.1, train, train, checkpoint=tmp_path)
    assert heard == [("resume", 1, 1, tmp_path)]  # nothing left to train
    for a, e in zip(resumed.layers, net.layers, strict=True):
        np.testing.assert_array_equal(a.w, e.w)
    heard.clear()
    Network3(tiny_layers(), seed=0).SGD(train, 1, 4, 0.1, train, train)
    assert heard == []  # outside the block nobody listens
