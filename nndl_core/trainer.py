"""Chapter 3's training loop: the book's ``network2.SGD`` and its extensions.

Used in chap3 onwards. :func:`train` runs mini-batch SGD on a
:class:`~nndl_core.network.Network` with the four monitors of the book
(cost and accuracy on the training and evaluation data), L2 or L1
regularization, dropout, momentum, early stopping and a learning-rate
schedule. On a network with ``backend="numpy"`` each mini-batch goes through
the readable reference :func:`nndl_core.regularization.sgd_step`; with
``backend="numba"`` each epoch is one compiled call
(``nndl_core.kernels.dense.train_epoch``), tested equal to that
reference for every option: L2 or L1, dropout (the same masks, drawn from
the same generator), momentum, and sigmoid, tanh or ReLU hidden neurons with
sigmoid or softmax outputs.
"""

import time

import numpy as np

from .regularization import PENALTIES, penalty, sgd_step
from .schedules import no_improvement
from .training import (
    MAX_PARAMETER,
    History,
    check_diverged,
    minibatch_slices,
    one_hot,
)
from .validation import check_dataset, check_sgd

__all__ = ["MONITORS", "accuracy", "total_cost", "train"]

MONITORS = (
    "evaluation_cost",
    "evaluation_accuracy",
    "training_cost",
    "training_accuracy",
)


def total_cost(net, data, lmbda=0.0, n=None, regularization="l2"):
    """Mean cost per example on ``data`` plus the regularization term.

    Unlike the book's ``network2.total_cost`` (which divided the L2 term by
    the size of the data being scored, so that the same weights had a
    different penalty on the training and the evaluation data), the term always
    uses ``n``, the *training*-set size, so that training and evaluation
    costs measure the same objective.

    Parameters
    ----------
    net : Network
    data : (images, labels)
    lmbda : float
    n : int
        Training-set size (defaults to ``len(data)``).
    """
    images, labels = check_dataset(data, net.sizes[0], net.sizes[-1])
    n = len(labels) if n is None else n
    cost = 0.0
    for start in range(0, len(labels), 10_000):  # bounded memory
        a = net.feedforward(images[start : start + 10_000].T)
        cost += net.cost.fn(a, one_hot(labels[start : start + 10_000], net.sizes[-1]))
    return cost / len(labels) + penalty(net.weights, lmbda, n, regularization)


def accuracy(net, data):
    """Number of examples of ``data`` classified correctly."""
    return net.evaluate(data)


def train(
    net,
    training_data,
    epochs,
    mini_batch_size,
    eta,
    *,
    lmbda=0.0,
    regularization="l2",
    dropout=0.0,
    mu=0.0,
    evaluation_data=None,
    monitor=("evaluation_accuracy",),
    early_stopping=None,
    schedule=None,
    seed=None,
    callback=None,
    max_parameter=MAX_PARAMETER,
):
    """Train ``net`` by mini-batch SGD with chapter 3's options; return a History.

    Parameters
    ----------
    net : Network
    training_data, evaluation_data : (images, labels)
    epochs, mini_batch_size : int
        ``epochs`` is the most that will run (early stopping may end sooner).
    eta : float
        Learning rate (the starting one, under a ``schedule``).
    lmbda : float
        Regularization parameter; 0 turns it off.
    regularization : {"l2", "l1"}
    dropout : float
        Probability of dropping each hidden neuron (0 = no dropout); see
        :func:`~nndl_core.regularization.dropout_backprop`.
    mu : float
        Momentum coefficient (0 = plain SGD).
    monitor : iterable of str
        Which of ``MONITORS`` to record each epoch.
    early_stopping : int or None
        Stop after this many epochs without a better evaluation accuracy.
    schedule : HalvingSchedule or None
        Lower η when evaluation accuracy stalls, and stop when it is spent.
    seed : int or None
        Seeds the shuffles and the dropout masks.
    callback : callable, optional
        ``callback(epoch, history)`` after every epoch.
    max_parameter : float, optional
        Training stops with :class:`~nndl_core.training.TrainingDivergedError`
        once a weight or bias is larger in magnitude
        (:func:`~nndl_core.training.check_diverged`); ``np.inf`` stops only on
        NaN or infinity.

    Returns
    -------
    History
        With ``evaluation_*`` and ``training_*`` lists for the monitors asked
        for, and ``eta`` per epoch.
    """
    monitor = set(monitor)
    if monitor - set(MONITORS) or regularization not in PENALTIES:
        raise ValueError(
            f"monitor must be drawn from {MONITORS} and regularization from "
            f"{PENALTIES}; got {sorted(monitor)} and {regularization!r}"
        )
    if not 0 <= dropout < 1 or not 0 <= mu < 1:
        raise ValueError(
            f"need 0 <= dropout < 1 and 0 <= mu < 1, got dropout={dropout!r} "
            f"and mu={mu!r}"
        )
    needs_eval = (early_stopping or schedule) or monitor & {
        "evaluation_cost",
        "evaluation_accuracy",
    }
    if needs_eval and evaluation_data is None:
        raise ValueError(
            "monitoring, early stopping and schedules need evaluation_data"
        )
    n_in, n_out = net.sizes[0], net.sizes[-1]
    images, labels = check_dataset(training_data, n_in, n_out, "training_data")
    if evaluation_data is not None:
        evaluation_data = check_dataset(evaluation_data, n_in, n_out, "evaluation_data")
    n = len(labels)
    epochs, mini_batch_size, eta, lmbda = check_sgd(
        epochs, mini_batch_size, eta, n, lmbda
    )
    epoch_data = images
    if net.backend == "numba":
        from .kernels import dense  # imported on first use: compiling takes time

        epoch_data = dense.to_sparse(images)  # once: every image's nonzero pixels
    rng = np.random.default_rng(seed)
    mask_rng = np.random.default_rng(None if seed is None else [seed, 1])
    options = dict(
        lmbda=lmbda, n=n, regularization=regularization, dropout=dropout, mu=mu
    )
    velocities = (
        [np.zeros_like(w) for w in net.weights],
        [np.zeros_like(b) for b in net.biases],
    )
    history = History(
        n_evaluation=0 if evaluation_data is None else len(evaluation_data[1]),
        n_training=n,
    )
    if net.backend == "numba":
        from .kernels import dense

        history.threads = dense.threads.parts(mu, net.threads)
    if schedule is not None:
        eta = schedule.start(eta)
    for epoch in range(epochs):
        start = time.perf_counter()
        _epoch(
            net,
            (epoch_data, labels),
            mini_batch_size,
            eta,
            options,
            velocities,
            (rng, mask_rng),
        )
        history.seconds.append(time.perf_counter() - start)
        history.eta.append(eta)
        check_diverged(net.weights + net.biases, epoch, eta, max_parameter)
        _record(net, history, monitor, (images, labels), evaluation_data, options)
        if callback is not None:
            callback(epoch, history)
        if early_stopping and no_improvement(
            history.evaluation_accuracy, early_stopping
        ):
            history.stopped = f"no improvement in {early_stopping} epochs"
            break
        if schedule is not None:
            eta = schedule.step(history.evaluation_accuracy[-1])
            if schedule.finished:
                history.stopped = "learning rate fell to its floor"
                break
    return history


def _epoch(net, training, mini_batch_size, eta, options, velocities, rngs):
    """One epoch: shuffle with ``rngs[0]``, dropout masks from ``rngs[1]``.

    The numba path consumes both generators exactly as the NumPy path does,
    so the two see the same mini-batches and the same masks.
    """
    images, labels = training
    rng, mask_rng = rngs
    order, slices = minibatch_slices(len(labels), mini_batch_size, rng)
    if net.backend == "numba":
        from .kernels import dense

        dense.train_epoch(  # options: lmbda, n, regularization, dropout, mu
            net,
            images,
            labels,
            order,
            mini_batch_size,
            eta,
            velocities=velocities,
            rng=mask_rng,
            threads=net.threads,
            **options,
        )
        return
    for lo, hi in slices:
        idx = order[lo:hi]
        y = one_hot(labels[idx], net.sizes[-1])
        sgd_step(net, images[idx].T, y, eta, options, velocities, mask_rng)


def _record(net, history, monitor, training, evaluation, options):
    """Append this epoch's monitored costs and accuracies to ``history``.

    One forward pass per data set serves both its cost and its accuracy.
    """
    reg = penalty(
        net.weights, options["lmbda"], options["n"], options["regularization"]
    )
    for prefix, data in (("training", training), ("evaluation", evaluation)):
        want_cost = f"{prefix}_cost" in monitor
        want_acc = f"{prefix}_accuracy" in monitor or prefix == "evaluation"
        if data is None or not (want_cost or want_acc):
            continue
        images, labels = data
        cost, correct = 0.0, 0
        for lo in range(0, len(labels), 10_000):  # bounded memory
            a = net.feedforward(images[lo : lo + 10_000].T)
            correct += int(np.sum(np.argmax(a, axis=0) == labels[lo : lo + 10_000]))
            if want_cost:
                y = one_hot(labels[lo : lo + 10_000], net.sizes[-1])
                cost += net.cost.fn(a, y)
        if want_cost:
            getattr(history, f"{prefix}_cost").append(cost / len(labels) + reg)
        if want_acc:
            getattr(history, f"{prefix}_correct").append(correct)
            getattr(history, f"{prefix}_accuracy").append(correct / len(labels))
