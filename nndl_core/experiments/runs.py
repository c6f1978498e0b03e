"""The run machinery of the dense-network experiments (chapters 1, 3 and 5).

What a chapter's catalogue registers is, most often, one network trained as
its parameters say. This module holds the pieces those runs share:

* :func:`take`, :func:`epoch_reporter` and :func:`summary`: a training
  subset, progress after every epoch, and the numbers a run records;
* :func:`train_network`: chapter 1's and chapter 5's run, the book's
  ``net.SGD`` scored after every epoch;
* :class:`RunParams` and :func:`train_run`: chapter 3's run, with every
  option of the trainer (costs, L1/L2, dropout, momentum, expanded data,
  early stopping, a halving schedule), the root-mean-square weights after
  every epoch, an allowed divergence recorded instead of raised, and
  finished runs served again from memory;
* :func:`register`: a :func:`train_run` experiment with its three profiles;
* :func:`one_blas_thread`: timings on one core.

Every run trains on the Numba kernels where they apply (sigmoid, tanh or
ReLU neurons, every cost, L1/L2, dropout, momentum), which are tested equal
to the NumPy reference.
"""

import contextlib
import importlib.util
from dataclasses import dataclass, replace

import numpy as np

from ..costs import COSTS
from ..data import Dataset, load_mnist
from ..expand import expand_with_shifts, rotate_images
from ..network import Network
from ..schedules import HalvingSchedule
from ..trainer import train
from ..training import MAX_PARAMETER, History, TrainingDivergedError
from . import Profile, experiment

__all__ = [
    "RunParams",
    "blas_threads",
    "ci_params",
    "epoch_reporter",
    "one_blas_thread",
    "register",
    "summary",
    "take",
    "train_network",
    "train_run",
    "training_set",
]


def take(dataset, n):
    """The first ``n`` examples of ``dataset`` as a :class:`~nndl_core.data.Dataset`."""
    return Dataset(*(part[:n] for part in dataset))


def epoch_reporter(progress, epochs, done=0):
    """An SGD ``callback(epoch, history)`` calling ``progress(done, total)``."""

    def report(epoch, history):
        if progress is not None:
            progress(done + epoch + 1, epochs)

    return report


def summary(history):
    """A run's result: its history and the best and final evaluation accuracy."""
    best_epoch, best = history.best()[:2]
    return {
        "history": history.to_dict(),
        "best_epoch": best_epoch,
        "best": best,
        "final": history.evaluation_accuracy[-1],
    }


def one_blas_thread():
    """A context in which BLAS uses one thread, if threadpoolctl is installed.

    Timings should compare algorithms, not thread scheduling: on a busy
    two-core machine a multithreaded matrix-vector product can take several
    times longer than a single-threaded one. threadpoolctl comes with
    scikit-learn (the ``book`` and ``svm`` extras); without it the BLAS
    default applies, and :func:`blas_threads` reports ``None``.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def blas_threads():
    """Threads that :func:`one_blas_thread` allows: 1, or None (no threadpoolctl)."""
    return 1 if importlib.util.find_spec("threadpoolctl") is not None else None


def train_network(net, training, evaluation, params, seed, progress=None, lmbda=0.0):
    """The book's ``net.SGD`` as ``params`` says, scored on ``evaluation`` every epoch.

    ``params`` gives ``epochs``, ``mini_batch_size`` and ``eta``; the
    shuffles come from ``seed + 1000`` and ``progress(epoch, epochs)`` is
    called after every epoch. Returns the run's
    :class:`~nndl_core.training.History`.
    """
    return net.SGD(
        training,
        params.epochs,
        params.mini_batch_size,
        params.eta,
        test_data=evaluation,
        seed=seed + 1_000,
        callback=epoch_reporter(progress, params.epochs),
        lmbda=lmbda,
    )


@dataclass(frozen=True)
class RunParams:
    """One MNIST training run with chapter 3's options."""

    sizes: tuple = (784, 30, 10)
    epochs: int = 30
    mini_batch_size: int = 10
    eta: float = 0.5
    lmbda: float = 0.0
    n_train: int = 50_000
    evaluate_on: str = "test"
    n_eval: int = 10_000
    cost: str = "cross_entropy"
    initializer: str = "large"
    activation: str = "sigmoid"
    regularization: str = "l2"
    dropout: float = 0.0
    mu: float = 0.0
    monitor: tuple = ("evaluation_accuracy",)
    expand: str = ""
    early_stopping: int = 0
    schedule_patience: int = 0
    allow_divergence: bool = False  # record a blow-up instead of raising


def training_set(params, seed):
    """The first ``n_train`` training images, expanded if ``params.expand`` says so."""
    data = load_mnist()
    images = data.training.images[: params.n_train]
    labels = data.training.labels[: params.n_train]
    if params.expand:
        parts_x, parts_y = [images], [labels]
        if "rotations" in params.expand:
            for degrees in (-10.0, 10.0):
                parts_x.append(rotate_images(images, degrees))
                parts_y.append(labels)
        if "shifts" in params.expand:
            x, y = expand_with_shifts(images, labels, shuffle=False)
            parts_x.append(x[len(images) :])
            parts_y.append(y[len(images) :])
        images, labels = np.concatenate(parts_x), np.concatenate(parts_y)
        order = np.random.default_rng(seed + 7).permutation(len(labels))
        images, labels = images[order], labels[order]
    return Dataset(images, labels)


#: Runs finished in this process, keyed by (params with epochs=0, seed). The
#: first k epochs of a longer run are exactly a k-epoch run with the same
#: settings (the initial weights and every epoch's shuffle come from the same
#: seeds, in the same order), so ``train_run`` serves the shorter run from
#: memory. Chapter 3's page trains ch3.l2_100_60ep before ch3.init100, whose
#: N(0, 1) run is that run's first 30 epochs.
_FINISHED = {}


def train_run(params, seed, progress=None):
    """Train one network as ``params`` says; return its History and summary numbers.

    Besides the entries of :func:`summary` the result holds ``first``
    (evaluation accuracy after the first epoch), ``last_training_cost``
    (None unless monitored), ``weight_rms`` (the root-mean-square weight of
    each layer before training and after every epoch, for problem ch3-pb-9),
    ``backend`` and ``diverged``: "" or, when ``params.allow_divergence`` let
    the weights overflow, the error that stopped training (the epochs before
    it are kept).
    """
    reusable = not (params.early_stopping or params.schedule_patience)
    key = (replace(params, epochs=0), seed)
    if reusable and key in _FINISHED and _FINISHED[key][0] >= params.epochs:
        if progress is not None:
            progress(params.epochs, params.epochs)
        return _first_epochs(_FINISHED[key][1], params.epochs)
    data = load_mnist()
    evaluation = getattr(data, params.evaluate_on)
    evaluation = take(evaluation, params.n_eval)
    cost = COSTS[params.cost]
    # The Numba kernels run every cost, L1/L2, dropout and momentum.
    numba_ok = params.activation in ("sigmoid", "tanh", "relu")
    net = Network(
        params.sizes,
        seed=seed,
        cost=cost,
        backend="numba" if numba_ok else "numpy",
        initializer=params.initializer,
        activation=params.activation,
    )

    weight_rms, last = [_rms(net.weights)], {}
    report = epoch_reporter(progress, params.epochs)

    def after_epoch(epoch, history):
        weight_rms.append(_rms(net.weights))
        last["history"] = history
        report(epoch, history)

    quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore")
    diverged = ""
    try:
        with quiet if params.allow_divergence else contextlib.nullcontext():
            history = train(
                net,
                training_set(params, seed),
                params.epochs,
                params.mini_batch_size,
                params.eta,
                lmbda=params.lmbda,
                regularization=params.regularization,
                dropout=params.dropout,
                mu=params.mu,
                evaluation_data=evaluation,
                monitor=params.monitor,
                early_stopping=params.early_stopping or None,
                schedule=HalvingSchedule(params.schedule_patience)
                if params.schedule_patience
                else None,
                seed=seed + 1_000,
                callback=after_epoch,
                max_parameter=np.inf if params.allow_divergence else MAX_PARAMETER,
            )
    except TrainingDivergedError as error:
        if not params.allow_divergence or "history" not in last:
            raise
        history, diverged = _completed(last["history"]), str(error)
    result = {
        **_summary(history, weight_rms),
        "backend": net.backend,
        "diverged": diverged,
    }
    if reusable and not diverged:
        _FINISHED[key] = (params.epochs, result)
    return result


def _rms(weights):
    """Root-mean-square entry of each weight matrix (scaled: huge ones stay finite)."""
    out = []
    for w in weights:
        scale = float(np.max(np.abs(w)))
        out.append(scale * float(np.sqrt(np.mean((w / scale) ** 2))) if scale else 0.0)
    return out


def _summary(history, weight_rms):
    return {
        **summary(history),
        "first": history.evaluation_accuracy[0],
        "last_training_cost": history.training_cost[-1]
        if history.training_cost
        else None,
        "weight_rms": weight_rms[: history.epochs + 1],
    }


def _completed(history):
    """``history`` without the epoch that diverged (timed, but never scored)."""
    done = len(history.evaluation_accuracy)
    history.seconds, history.eta = history.seconds[:done], history.eta[:done]
    return history


def _first_epochs(result, epochs):
    """The result of a ``train_run`` cut to its first ``epochs`` epochs."""
    lists = {
        name: value[:epochs] if isinstance(value, list) else value
        for name, value in result["history"].items()
    }
    return {**result, **_summary(History.from_dict(lists), result["weight_rms"])}


def ci_params(params):
    """``params`` cut for the ci profile: at most 1,000 images each way, few epochs."""
    return replace(
        params,
        n_train=min(params.n_train, 1_000),
        n_eval=min(params.n_eval, 1_000),
        epochs=min(params.epochs, 20 if params.n_train <= 1_000 else 2),
    )


def _profiles(full, default=None, note="the book's settings", ci=None, full_note=None):
    default = full if default is None else default
    return {
        "ci": Profile(
            ci_params(full) if ci is None else ci,
            "tiny: at most 1,000 training and 1,000 evaluation images"
            if ci is None
            else "the book's settings (already tiny)",
        ),
        "default": Profile(default, note if default != full else "the book's settings"),
        "full": Profile(full, full_note or "the book's settings"),
    }


def register(
    name,
    title,
    full,
    default=None,
    note="the book's settings",
    book=None,
    ci=None,
    full_note=None,
):
    """Register :func:`train_run` under ``name`` with the three profiles.

    ``full`` is the book's run; ``default`` (with its ``note``) a reduced one
    when it differs; ``ci`` defaults to :func:`ci_params` of ``full``.
    """
    profiles = _profiles(full, default, note, ci, full_note)
    experiment(name, title=title, profiles=profiles, book=book)(train_run)
