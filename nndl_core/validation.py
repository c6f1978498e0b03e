"""Checks of what a trainer is given: layer sizes, hyper-parameters and data.

Used in chap1 onwards, by every trainer
(:meth:`~nndl_core.network.Network.SGD` on both backends,
:func:`~nndl_core.trainer.train`, :meth:`~nndl_core.convnet.Network3.SGD`)
and by the methods that score a network
(:meth:`~nndl_core.network.Network.evaluate`,
:meth:`~nndl_core.convnet.Network3.accuracy`). The checks run once, before
any work starts, and are vectorised: one pass over the data per call,
nothing per epoch. A value of the wrong kind raises ``TypeError``, a value
out of range ``ValueError``; each message says what was wrong, where, and
what to pass instead.

Without them, a label of -1 indexes the last row of the one-hot matrix and
trains silently as the last class (the digit 9), and ``int(2.7)`` quietly
builds a layer of 2 neurons.
"""

import numbers

import numpy as np

__all__ = [
    "check_dataset",
    "check_labels",
    "check_learning_rate",
    "check_sgd",
    "check_sizes",
    "check_whole",
]


def check_whole(value, name, minimum=1):
    """Return ``value`` as an ``int`` if it is a whole number ``>= minimum``.

    Floats with no fractional part (``30.0``, from ``n / 2`` say) are
    accepted; ``2.7`` is an error rather than a silent ``int(2.7) == 2``.

    Parameters
    ----------
    value : int or float
    name : str
        How the error message calls it (``"mini_batch_size"``).
    minimum : int

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not a real number (or is a bool).
    ValueError
        If it has a fractional part, or is below ``minimum``.

    Examples
    --------
    >>> check_whole(30.0, "size")
    30
    >>> check_whole(2.7, "size")
    Traceback (most recent call last):
    ...
    ValueError: size must be a whole number, got 2.7
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if not isinstance(value, numbers.Integral) and not float(value).is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(value)


def check_sizes(sizes):
    """Return the layer sizes of a network as a list of positive ints.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first, at least two layers.

    Returns
    -------
    list of int

    Examples
    --------
    >>> check_sizes((784, 30.0, 10))
    [784, 30, 10]
    >>> check_sizes([784, 2.7, 10])
    Traceback (most recent call last):
    ...
    ValueError: sizes[1] must be a whole number, got 2.7
    """
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(
            f"sizes must be a list of layer sizes such as [784, 30, 10], got {sizes!r}"
        ) from None
    if len(sizes) < 2:
        raise ValueError(
            f"sizes needs at least two positive layer sizes (input and output), "
            f"got {sizes}"
        )
    return [check_whole(s, f"sizes[{i}]") for i, s in enumerate(sizes)]


def check_learning_rate(eta):
    """Return ``eta`` as a float if it is a positive, finite number.

    Examples
    --------
    >>> check_learning_rate(3)
    3.0
    >>> check_learning_rate(-1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: eta must be a positive, finite number such as 3.0 (chapter 1's), ...
    """
    if isinstance(eta, (bool, np.bool_)) or not isinstance(eta, numbers.Real):
        raise TypeError(f"eta must be a number, got {eta!r}")
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(
            "eta must be a positive, finite number such as 3.0 (chapter 1's), "
            f"got {eta!r}"
        )
    return float(eta)


def check_sgd(epochs, mini_batch_size, eta, n, lmbda=0.0, drop_last=False):
    """Check stochastic gradient descent's hyper-parameters for ``n`` examples.

    Parameters
    ----------
    epochs : int
        At least 0 (0 trains nothing, as asked).
    mini_batch_size : int
        At least 1. With ``drop_last`` (network3, which drops a short last
        mini-batch) it must not exceed ``n``, or no step would be taken.
    eta : float
        Positive and finite.
    n : int
        Size of the training set.
    lmbda : float
        Regularization parameter: finite and ``>= 0``.
    drop_last : bool

    Returns
    -------
    epochs, mini_batch_size : int
    eta, lmbda : float

    Examples
    --------
    >>> check_sgd(30, 10.0, 3, n=50_000)
    (30, 10, 3.0, 0.0)
    >>> check_sgd(1, 50, 0.1, n=20, drop_last=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: mini_batch_size=50 exceeds the 20 training examples; ...
    """
    epochs = check_whole(epochs, "epochs", minimum=0)
    mini_batch_size = check_whole(mini_batch_size, "mini_batch_size")
    if drop_last and mini_batch_size > n:
        raise ValueError(
            f"mini_batch_size={mini_batch_size} exceeds the {n} training examples; "
            "the short last mini-batch is dropped, so nothing would train: "
            f"pass at most {n}"
        )
    eta = check_learning_rate(eta)
    if isinstance(lmbda, (bool, np.bool_)) or not isinstance(lmbda, numbers.Real):
        raise TypeError(f"lmbda must be a number, got {lmbda!r}")
    if not (np.isfinite(lmbda) and lmbda >= 0):
        raise ValueError(f"lmbda must be a finite number >= 0, got {lmbda!r}")
    return epochs, mini_batch_size, eta, float(lmbda)


def check_labels(labels, n_classes, name="labels"):
    """Return ``labels`` as int64 if every one is a class index ``0 .. n_classes-1``.

    The test is ``0 <= labels < n_classes`` on the whole array at once, the
    check the numba path's ``train_epoch`` makes. Without it the NumPy
    paths fail in two ways: a label of -1 silently picks the last class
    (``one_hot``'s row -1), and a label of ``n_classes`` raises a bare
    ``IndexError``.

    Parameters
    ----------
    labels : array_like of int, shape (n,)
    n_classes : int or None
        Output neurons of the network (10 for MNIST); None only asks for
        integers ``>= 0``.
    name : str
        How the error message calls the labels.

    Returns
    -------
    ndarray of int64, shape (n,)

    Examples
    --------
    >>> check_labels([3, 0, 9], 10)
    array([3, 0, 9])
    >>> check_labels([3, 0, 9, -1], 10)
    Traceback (most recent call last):
    ...
    ValueError: labels must be integers 0..9; got -1 at index 3
    """
    labels = np.asarray(labels)
    wanted = "integers >= 0" if n_classes is None else f"integers 0..{n_classes - 1}"
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(
            f"{name} must be {wanted}, got {labels.dtype} values "
            "(whole-number floats convert with labels.astype(int))"
        )
    bad = labels < 0 if n_classes is None else (labels < 0) | (labels >= n_classes)
    if bad.any():
        where = np.unravel_index(int(np.argmax(bad)), labels.shape)
        index = where[0] if labels.ndim == 1 else where
        raise ValueError(
            f"{name} must be {wanted}; got {labels[where]} at index {index}"
        )
    return labels.astype(np.int64, copy=False)


def check_dataset(data, n_inputs, n_classes=None, name="data", dtype=np.float64):
    """Return ``(images, labels)`` checked: shapes, finite pixels, class labels.

    Parameters
    ----------
    data : Dataset or pair (images, labels)
        Images as rows, shape (n, n_inputs); labels of shape (n,).
    n_inputs : int
        Pixels per image (the network's input neurons).
    n_classes : int, optional
        Output neurons; when given, every label must lie in
        ``0 .. n_classes-1`` (:func:`check_labels`).
    name : str
        How the error message calls the data set (``"training_data"``).
    dtype : numpy dtype
        Floating-point type of the returned images (float32 on Network3's
        numba backend).

    Returns
    -------
    images : C-contiguous ndarray of ``dtype``, shape (n, n_inputs)
        The caller's array itself when it already has that form (no copy).
    labels : ndarray of int64, shape (n,)

    Raises
    ------
    TypeError
        ``data`` is not a pair, or the images are not numbers, or the labels
        not integers.
    ValueError
        Wrong shapes, no examples, NaN or infinite pixels, labels out of range.

    Examples
    --------
    >>> images, labels = check_dataset((np.zeros((2, 4)), [1, 0]), 4, 3)
    >>> images.shape, labels
    ((2, 4), array([1, 0]))
    >>> check_dataset((np.zeros((2, 4)), [1, 3]), 4, 3, "test_data")
    Traceback (most recent call last):
    ...
    ValueError: test_data: labels must be integers 0..2; got 3 at index 1
    """
    try:
        images, labels = data
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a pair (images, labels) such as a Dataset from "
            "nndl_core.load_mnist(); for the book's list-of-pairs form use "
            "nndl_core.data.from_pairs()"
        ) from None
    try:
        images = np.ascontiguousarray(images, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: images must be an array of numbers of shape "
            f"(n_samples, {n_inputs})"
        ) from None
    if images.ndim != 2 or images.shape[1] != n_inputs:
        raise ValueError(
            f"{name}: images must have shape (n_samples, {n_inputs}), "
            f"got {images.shape}"
        )
    if len(images) == 0:
        raise ValueError(f"{name} is empty: pass at least one example")
    _check_finite_pixels(images, name)
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(
            f"{name}: labels must have shape ({len(images)},), one per image, "
            f"got {labels.shape}"
        )
    return images, check_labels(labels, n_classes, f"{name}: labels")


def _check_finite_pixels(images, name):
    """Raise ValueError naming the first row of ``images`` with a NaN or infinity.

    A sum is NaN or infinite whenever one of its terms is, so one sum (no
    temporary array the size of the data) clears the usual case; only a
    non-finite sum pays for the row-by-row search.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf is NaN: fine
        if np.isfinite(images.sum()):
            return
    bad_rows = ~np.isfinite(images).all(axis=1)
    if bad_rows.any():  # else the sum overflowed on huge but finite pixels
        raise ValueError(
            f"{name}: images contain NaN or infinite values (first in row "
            f"{int(np.argmax(bad_rows))}); fix or drop those rows"
        )
