"""The run machinery of chapter 6's convolutional networks.

One network (or an ensemble voting) trained on the Numba path, scored on
validation and test after every epoch as network3 does; the catalogue in
``nndl_core.experiments.ch6`` registers these runs. It shares nothing
with the dense runs (:mod:`nndl_core.experiments.runs`) on purpose: a
result's code hash covers only what its run imports, so editing the dense
code never throws away chapter 6's hours-long results.

Every network saves a checkpoint after each epoch (see
:func:`checkpoint_folder`); an interrupted run started again with the same
settings and the same library code resumes at its last finished epoch.
"""

import dataclasses
import hashlib
import json
import shutil
from dataclasses import dataclass

import numpy as np

from ..conv import ConvPoolLayer
from ..convnet import Network3, ensemble_predict
from ..data import load_mnist
from ..expand import expand_with_shifts
from ..layers import FullyConnectedLayer, SoftmaxLayer
from ._cache import results_dir, results_hash


@dataclass(frozen=True)
class ConvParams:
    """One chapter-6 training run (or an ensemble of ``n_networks`` runs)."""

    n_conv: int  # 0, 1 or 2 conv-pool layers
    activation: str
    n_hidden: int
    n_fc: int
    p_drop: float
    epochs: int
    eta: float
    lmbda: float
    n_train: int = 50_000  # original images used (before expansion)
    expanded: bool = False
    n_validation: int = 10_000
    n_test: int = 10_000
    init: str = "n_out"
    l2: str = "network3"
    n_networks: int = 1
    keep_params: bool = False


def build_layers(params):
    """The layers of ``params``' network (uninitialised)."""
    act, layers = params.activation, []
    if params.n_conv >= 1:
        layers.append(ConvPoolLayer((20, 1, 5, 5), (1, 28, 28), 2, act, params.init))
    if params.n_conv == 2:
        layers.append(ConvPoolLayer((40, 20, 5, 5), (20, 12, 12), 2, act, params.init))
    n_in = {0: 784, 1: 20 * 12 * 12, 2: 40 * 4 * 4}[params.n_conv]
    for _ in range(params.n_fc):
        layers.append(
            FullyConnectedLayer(n_in, params.n_hidden, act, params.p_drop, params.init)
        )
        n_in = params.n_hidden
    layers.append(SoftmaxLayer(n_in, 10, params.p_drop))
    return layers


def _data(params, seed):
    data = load_mnist()
    images, labels = data.training.images, data.training.labels
    images, labels = images[: params.n_train], labels[: params.n_train]
    if params.expanded:
        images, labels = expand_with_shifts(
            images.astype(np.float32), labels, seed=1_000 + seed
        )
    validation = (
        data.validation.images[: params.n_validation],
        data.validation.labels[: params.n_validation],
    )
    test = data.test.images[: params.n_test], data.test.labels[: params.n_test]
    return (images, labels), validation, test


def checkpoint_folder(params, seed):
    """Where the network of ``params`` and ``seed`` keeps its per-epoch checkpoint.

    Under the results folder, named by a hash of the parameters, the seed and
    the code (the results hash of this module and what it imports), so a
    checkpoint is only ever resumed by the code that wrote it.
    """
    blob = json.dumps(
        [dataclasses.asdict(params), seed, results_hash(module=__name__)],
        sort_keys=True,
    )
    digest = hashlib.sha256(blob.encode()).hexdigest()[:20]
    return results_dir() / "checkpoints" / "ch6" / digest


def _train_one(params, seed, data, progress=None, done=0, total=None):
    training, validation, test = data
    net = Network3(build_layers(params), seed=seed, backend="numba")

    def report(epoch, history):
        if progress is not None:
            progress(done + epoch + 1, total or params.epochs)

    history = net.SGD(
        training,
        params.epochs,
        10,
        params.eta,
        validation,
        test,
        lmbda=params.lmbda,
        l2=params.l2,
        seed=seed + 1,
        callback=report,
        checkpoint=checkpoint_folder(params, seed),
    )
    return net, history


def _forget_checkpoints(params, seeds):
    """Delete the checkpoints of a finished run (its result is cached now)."""
    for seed in seeds:
        shutil.rmtree(checkpoint_folder(params, seed), ignore_errors=True)


def train_convnet(params, seed, progress=None):
    """Train one network on the Numba path; score validation and test every epoch."""
    data = _data(params, seed)
    net, history = _train_one(params, seed, data, progress)
    best_epoch, best_validation, test_at_best = history.best()
    value = {
        "history": history.to_dict(),
        "best_epoch": best_epoch,
        "best_validation": best_validation,
        "test_at_best": test_at_best,
        "seconds_per_epoch": float(np.mean(history.seconds)),
        "n_training_images": len(data[0][1]),
        "n_params": net.n_params,
    }
    if params.keep_params:
        value["params"] = [
            {"w": layer.w.tolist(), "b": layer.b.tolist()} for layer in net.layers
        ]
    _forget_checkpoints(params, [seed])
    return value


def train_ensemble(params, seed, progress=None):
    """Train ``n_networks`` networks (seeds ``100 * seed + i``) and let them vote."""
    data = _data(params, seed)
    test_images, test_labels = data[2]
    members, nets = [], []
    for i in range(params.n_networks):
        net, history = _train_one(
            params,
            100 * seed + i,
            data,
            progress,
            done=i * params.epochs,
            total=params.n_networks * params.epochs,
        )
        nets.append(net)
        members.append(history.best()[2])
    voted = ensemble_predict(nets, test_images)
    wrong = np.flatnonzero(voted != test_labels)
    _forget_checkpoints(params, [100 * seed + i for i in range(params.n_networks)])
    return {
        "member_test_at_best": members,
        "accuracy": float(np.mean(voted == test_labels)),
        "errors": wrong.tolist(),
        "error_predictions": voted[wrong].tolist(),
        "seconds_per_epoch": None,
    }


def load_network(result):
    """The trained :class:`~nndl_core.convnet.Network3` of a ``keep_params`` result."""
    params = ConvParams(**result.params)
    net = Network3(build_layers(params), seed=0, backend="numpy")
    for layer, stored in zip(net.layers, result.value["params"], strict=True):
        layer.w, layer.b = np.array(stored["w"]), np.array(stored["b"])
    return net
