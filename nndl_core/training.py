"""The pieces of the training loop that every network shares.

Used in chap1 onwards. Data sets store one example per *row*; networks work
on one example per *column* (so that ``z = w @ a + b`` reads like eq. 25).
:func:`minibatches` is the one place where rows become columns.
"""

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = [
    "History",
    "TrainingDivergedError",
    "MAX_PARAMETER",
    "check_diverged",
    "minibatch_slices",
    "minibatches",
    "one_hot",
]


class TrainingDivergedError(FloatingPointError):
    """Raised when weights or biases become NaN, infinite or absurdly large.

    See :func:`check_diverged`.
    """


@dataclass
class History:
    """What a training run measured, one entry per epoch.

    Attributes
    ----------
    evaluation_correct : list of int
        Number of evaluation examples classified correctly after each epoch
        (empty when no evaluation data was given).
    evaluation_accuracy : list of float
        The same as a fraction of ``n_evaluation``.
    seconds : list of float
        Wall-clock time of each epoch's training (evaluation excluded).
    n_evaluation : int
        Size of the evaluation set.
    evaluation_cost, training_cost : list of float
        Mean cost per example, regularization term included (chapter 3's
        monitors; empty unless asked for).
    training_correct, training_accuracy : list
        Like ``evaluation_correct`` and ``evaluation_accuracy``, on the
        training data.
    n_training : int
        Size of the training set.
    eta : list of float
        The learning rate used in each epoch (it changes under a schedule).
    stopped : str
        Why training ended before ``epochs`` (early stopping, schedule), or "".
    threads : int
        Threads an epoch trained on: the numba backend's
        (``nndl_core.kernels.dense.threads.parts``), or 1 for the NumPy
        reference (whose matrix products may use BLAS's own threads).
    """

    evaluation_correct: list = field(default_factory=list)
    evaluation_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    n_evaluation: int = 0
    evaluation_cost: list = field(default_factory=list)
    training_cost: list = field(default_factory=list)
    training_correct: list = field(default_factory=list)
    training_accuracy: list = field(default_factory=list)
    n_training: int = 0
    eta: list = field(default_factory=list)
    stopped: str = ""
    threads: int = 1

    @property
    def epochs(self):
        """Number of epochs recorded."""
        return len(self.seconds)

    def best(self):
        """Return ``(epoch, accuracy)`` of the best evaluation accuracy (0-based)."""
        if not self.evaluation_accuracy:
            raise ValueError("this history has no evaluation accuracy to rank")
        epoch = int(np.argmax(self.evaluation_accuracy))
        return epoch, self.evaluation_accuracy[epoch]

    def to_dict(self):
        """Plain-JSON form, for the results cache."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict` (older dicts, without chapter 3 fields, too)."""
        return cls(**data)


def one_hot(labels, n_classes=10):
    """Columns of desired outputs: ``y[j, i] = 1`` iff ``labels[i] == j``.

    Parameters
    ----------
    labels : ndarray of shape (batch,)
        Integer class labels in ``[0, n_classes)``.

    Returns
    -------
    ndarray of shape (n_classes, batch)

    Examples
    --------
    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 1.],
           [0., 0.],
           [1., 0.]])
    """
    y = np.zeros((n_classes, len(labels)))
    y[labels, np.arange(len(labels))] = 1.0
    return y


def minibatch_slices(n, mini_batch_size, rng):
    """Shuffle ``range(n)`` and cut it into consecutive mini-batches.

    Returns the permutation and the list of ``(start, stop)`` pairs; the last
    mini-batch is shorter when ``mini_batch_size`` does not divide ``n``. Both
    backends consume ``rng`` through this one function, so they see the same
    mini-batches for the same seed.
    """
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    order = rng.permutation(n)
    return order, [
        (k, min(k + mini_batch_size, n)) for k in range(0, n, mini_batch_size)
    ]


def minibatches(images, labels, mini_batch_size, rng, n_classes=10):
    """Yield shuffled mini-batches as columns ``(x, y)``.

    Parameters
    ----------
    images : ndarray of shape (n, n_in)
    labels : ndarray of shape (n,)
    mini_batch_size : int
    rng : numpy.random.Generator

    Yields
    ------
    x : ndarray of shape (n_in, m)
        Inputs, one example per column (``m <= mini_batch_size``).
    y : ndarray of shape (n_classes, m)
        One-hot desired outputs.
    """
    order, slices = minibatch_slices(len(images), mini_batch_size, rng)
    for start, stop in slices:
        idx = order[start:stop]
        yield images[idx].T, one_hot(labels[idx], n_classes)  # rows -> columns


#: Largest weight or bias magnitude a training run may reach before it is
#: stopped as diverged. Measured maxima of the book's runs (full profile,
#: numba backend, two or three seeds each, after every epoch): chapter 1's
#: networks at eta = 3.0 reach 17 ([784, 30, 10]) and 27.5 ([784, 10]); its
#: deliberately large eta = 100 only 10.8 (the sigmoids saturate at once
#: and the weights stop moving); chapter 3's runs stay below 17 (eta = 2.5,
#: 400 epochs of overfitting, ReLU, expanded data, eta = 10 with
#: lambda = 1000), except the eta = 100 strip whose decay factor is -1: it
#: grows linearly to 1.24e5 in 30 epochs. 1e8 is 800 times that, and a
#: sigmoid neuron with such a weight on an inked pixel is saturated
#: (sigma'(z) < 1e-17 once abs(z) > 40), so it learns nothing more.
#: eta = 1e300 reaches 5e298 in one epoch.
MAX_PARAMETER = 1e8


def check_diverged(parameters, epoch, eta, limit=MAX_PARAMETER):
    """Raise :class:`TrainingDivergedError` if training has run away.

    Called after every epoch by every trainer. Training has diverged when a
    weight or bias is NaN or infinite, or larger in magnitude than
    :data:`MAX_PARAMETER`: finite but absurd weights give chance accuracy
    without any other sign of trouble.

    Parameters
    ----------
    parameters : iterable of ndarray
        Every weight and bias array.
    epoch : int
        The epoch just trained (0-based), for the message.
    eta : float
        Its learning rate, for the message.
    limit : float, optional
        The largest magnitude tolerated. ``np.inf`` lets finite values grow
        (chapter 3's deliberately diverging runs record every epoch until
        the weights overflow), so that only NaN and infinity stop training.

    Examples
    --------
    >>> check_diverged([np.ones((2, 2))], 0, 3.0)  # fine: returns None
    >>> check_diverged([np.full((2, 2), 1e298)], 0, 1e300)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nndl_core.training.TrainingDivergedError: training diverged in epoch 0: ...
    """
    largest = 0.0
    for array in parameters:
        if not np.isfinite(array).all():
            raise TrainingDivergedError(
                f"training diverged in epoch {epoch}: weights or biases became "
                f"NaN or infinite. {_advice(eta)}"
            )
        if array.size:
            largest = max(largest, float(np.abs(array).max()))
    if largest > limit:
        raise TrainingDivergedError(
            f"training diverged in epoch {epoch}: a weight or bias reached "
            f"{largest:.3g}, beyond the limit of {limit:g} (the book's "
            f"runs stay below 2e5). {_advice(eta)}"
        )


def _advice(eta):
    return (
        f"The learning rate eta={eta} is probably too large; try a value 10 "
        f"times smaller (eta={eta / 10:g}), or start from the book's values "
        "(3.0 in chapter 1, 0.5 in chapter 3)."
    )
