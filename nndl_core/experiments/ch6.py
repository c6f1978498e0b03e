"""Chapter 6's experiments: the road from a shallow network to a 99.6 % ensemble.

The book's numbers and settings come from the original's chapter 6,
section "Convolutional neural networks in practice". Every number the book
quotes is the test accuracy at the epoch of best validation accuracy, best
of three runs; ours is one run per seed, scored the same way (ties go to
the later epoch).

Profiles: ``full`` is the book's exact settings (network3's L2 scaling and
initialisation included); ``default`` trains clearly labelled reduced
versions (fewer images and epochs) so the chapter trains in about 15
minutes on 2 cores; ``ci`` is tiny.

Every network saves a checkpoint after each epoch (see
:func:`checkpoint_folder`); an interrupted run started again with the same
settings and the same library code resumes at its last finished epoch.
"""

import dataclasses
import hashlib
import json
import shutil
from dataclasses import dataclass, replace

import numpy as np

from ..conv import ConvPoolLayer
from ..convnet import Network3, ensemble_predict
from ..data import load_mnist
from ..expand import expand_with_shifts
from ..layers import FullyConnectedLayer, SoftmaxLayer
from . import BookFigure, Profile, experiment, latest
from ._cache import results_dir, results_hash

SECTION = "chap6, 'Convolutional neural networks in practice'"
URL = "http://neuralnetworksanddeeplearning.com/chap6.html"


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
    the code (:func:`~nndl_core.experiments._cache.results_hash` of this
    module), so a checkpoint is only ever resumed by the code that wrote it.
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
    """The trained :class:`Network3` stored in a result made with ``keep_params``."""
    params = ConvParams(**result.params)
    net = Network3(build_layers(params), seed=0, backend="numpy")
    for layer, stored in zip(net.layers, result.value["params"], strict=True):
        layer.w, layer.b = np.array(stored["w"]), np.array(stored["b"])
    return net


def cached_full(name, seed=None):
    """The newest cached ``full``-profile result of ``name``, or None (never trains).

    It may come from earlier library code (``result.stale``); the page says so.
    """
    return latest(name, "full", seed)


# --- the progression -----------------------------------------------------------

SHALLOW = ConvParams(0, "sigmoid", 100, 1, 0.0, 60, 0.1, 0.0)
CONV1 = replace(SHALLOW, n_conv=1)
CONV2 = replace(SHALLOW, n_conv=2)
RELU = replace(CONV2, activation="relu", eta=0.03, lmbda=0.1)
EXPANDED = replace(RELU, expanded=True)
FC2 = replace(EXPANDED, n_fc=2)
DROPOUT = replace(FC2, n_hidden=1000, p_drop=0.5, epochs=40, lmbda=0.0)
ENSEMBLE = replace(DROPOUT, n_networks=5)


def _profiles(full, default, default_note):
    ci = replace(
        full,
        n_train=400 if not full.expanded else 100,
        epochs=2,
        n_validation=500,
        n_test=500,
        n_hidden=min(full.n_hidden, 100),
        n_networks=min(full.n_networks, 2),
    )
    return {
        "ci": Profile(ci, "tiny: a few hundred images, 2 epochs; numbers mean little"),
        "default": Profile(default, default_note),
        "full": Profile(full, "the book's settings"),
    }


def _reduced(full, n_train, epochs):
    expanded = f" (x5 = {5 * n_train:,} after expansion)" if full.expanded else ""
    return (
        replace(full, n_train=n_train, epochs=epochs),
        f"reduced: {n_train:,} training images{expanded}, {epochs} epochs "
        f"(the book: {full.n_train:,}, {full.epochs} epochs)",
    )


def _register(name, title, full, default, book_value, book_text, run=train_convnet):
    profiles = _profiles(full, *default)
    if full.keep_params:
        profiles = {
            k: Profile(replace(p.params, keep_params=True), p.note)
            for k, p in profiles.items()
        }
    experiment(
        name,
        title=title,
        profiles=profiles,
        book=BookFigure(
            book_value, book_text, "test at best validation", SECTION, 0.003
        ),
    )(run)


_register(
    "ch6.shallow",
    "Shallow baseline: FC 100 sigmoid + softmax, eta = 0.1, 60 epochs",
    SHALLOW,
    _reduced(SHALLOW, 50_000, 20),
    0.9780,
    "97.80 %",
)
_register(
    "ch6.conv1",
    "One conv-pool layer (20 maps, 5x5, pool 2x2) + FC 100 + softmax",
    CONV1,
    _reduced(CONV1, 20_000, 4),
    0.9878,
    "98.78 %",
)
_register(
    "ch6.conv2",
    "Two conv-pool layers (20 then 40 maps) + FC 100 + softmax, sigmoid",
    CONV2,
    _reduced(CONV2, 20_000, 4),
    0.9906,
    "99.06 %",
)
_register(
    "ch6.relu",
    "Two conv-pool layers with ReLU, eta = 0.03, lmbda = 0.1",
    replace(RELU, keep_params=True),
    _reduced(replace(RELU, keep_params=True), 20_000, 4),
    0.9923,
    "99.23 %",
)
_register(
    "ch6.expanded",
    "ReLU network trained on the expanded (one-pixel shifts) data",
    EXPANDED,
    _reduced(EXPANDED, 4_000, 2),
    0.9937,
    "99.37 %",
)
_register(
    "ch6.fc2",
    "An extra fully connected layer: two FC ReLU layers of 100",
    FC2,
    _reduced(FC2, 4_000, 2),
    0.9943,
    "99.43 %",
)
_register(
    "ch6.dropout",
    "Dropout (p = 0.5) on two FC layers of 1,000 neurons, 40 epochs",
    DROPOUT,
    _reduced(DROPOUT, 4_000, 2),
    0.9960,
    "99.60 %",
)
_register(
    "ch6.ensemble",
    "Plurality vote of five dropout networks",
    ENSEMBLE,
    _reduced(ENSEMBLE, 4_000, 2),
    0.9967,
    "99.67 % (33 errors)",
    run=train_ensemble,
)
# Wider fully connected layers (step 6's side trip): not a convincing win
for n_hidden, one, two in ((300, 0.9946, 0.9948), (1000, 0.9943, 0.9947)):
    _register(
        f"ch6.fc{n_hidden}",
        f"The expanded-data network with its FC layer widened to {n_hidden:,}",
        replace(EXPANDED, n_hidden=n_hidden),
        _reduced(replace(EXPANDED, n_hidden=n_hidden), 2_000, 2),
        one,
        f"{one * 100:.2f} %",
    )
    _register(
        f"ch6.2fc{n_hidden}",
        f"Two FC ReLU layers of {n_hidden:,} on the expanded data",
        replace(FC2, n_hidden=n_hidden),
        _reduced(replace(FC2, n_hidden=n_hidden), 2_000, 2),
        two,
        f"{two * 100:.2f} %",
    )
_register(
    "ch6.omit_fc",
    "Exercise: one conv-pool layer straight into the softmax (no FC layer)",
    replace(CONV1, n_fc=0),
    # the same reduction as ch6.conv1, so the page compares like with like
    _reduced(replace(CONV1, n_fc=0), 20_000, 4),
    None,
    "no number in the book (left to the reader)",
)
_register(
    "ch6.tanh",
    "Problem: the two-conv-layer network with tanh instead of sigmoid",
    replace(CONV2, activation="tanh"),
    # ch6.conv2's images; its first 3 epochs are the sigmoid curve to compare with
    _reduced(replace(CONV2, activation="tanh"), 20_000, 3),
    None,
    "no number in the book (tanh 'a little faster', similar accuracy)",
)
