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
    "as_dataset",
    "check_finite",
    "minibatch_slices",
    "minibatches",
    "one_hot",
]


class TrainingDivergedError(FloatingPointError):
    """Raised when weights or biases stop being finite numbers during training."""


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
        (``nndl_core.kernels.dense_threads.parts``), or 1 for the NumPy
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


def as_dataset(data, n_inputs, name="data"):
    """Check and return ``(images, labels)`` as float64 rows and int64 labels.

    Accepts a :class:`nndl_core.data.Dataset` or any pair ``(images, labels)``.
    Raises ``ValueError`` naming ``name`` when the shapes do not fit the network.
    """
    try:
        images, labels = data
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a pair (images, labels) such as a Dataset from "
            "nndl_core.load_mnist(); for the book's list-of-pairs form use "
            "nndl_core.data.from_pairs()"
        ) from None
    images = np.ascontiguousarray(images, dtype=np.float64)
    labels = np.asarray(labels)
    if images.ndim != 2 or images.shape[1] != n_inputs:
        raise ValueError(
            f"{name}: images must have shape (n_samples, {n_inputs}), "
            f"got {images.shape}"
        )
    if not np.isfinite(images).all():
        raise ValueError(f"{name}: images contain NaN or infinite values")
    if labels.shape != (images.shape[0],) or not np.issubdtype(
        labels.dtype, np.integer
    ):
        raise ValueError(
            f"{name}: labels must be integers of shape ({images.shape[0]},), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    return images, labels.astype(np.int64)


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


def check_finite(weights, biases, epoch, eta):
    """Raise :class:`TrainingDivergedError` if any parameter is NaN or infinite."""
    if all(np.isfinite(w).all() for w in weights) and all(
        np.isfinite(b).all() for b in biases
    ):
        return
    raise TrainingDivergedError(
        f"training diverged in epoch {epoch}: weights or biases became NaN or "
        f"infinite. The learning rate eta={eta} is probably too large; try a "
        "value 10 times smaller."
    )
