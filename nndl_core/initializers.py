"""Weight initialisers: chapter 1's N(0, 1) and chapter 3's N(0, 1/n_in).

Used in chap1 (``large_weight_initializer``, the default of
:class:`~nndl_core.network.Network`), chap3 and chap5. An initialiser maps
``(sizes, rng)`` to ``(weights, biases)`` with the shapes of
:class:`~nndl_core.network.Network`'s attributes.
"""

import numpy as np

__all__ = ["INITIALIZERS", "default_weight_initializer", "large_weight_initializer"]


def large_weight_initializer(sizes, rng):
    """Weights and biases all drawn from N(0, 1), as in chapter 1.

    Returns
    -------
    weights : list of ndarray of shape (n_out, n_in)
    biases : list of ndarray of shape (n_out, 1)

    Examples
    --------
    >>> w, b = large_weight_initializer([3, 2], np.random.default_rng(0))
    >>> w[0].shape, b[0].shape
    ((2, 3), (2, 1))
    """
    biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
    weights = [
        rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]
    return weights, biases


def default_weight_initializer(sizes, rng):
    r"""Weights from N(0, 1/n_in), biases from N(0, 1) (chapter 3).

    Scaling by :math:`1/\sqrt{n_{in}}` keeps the weighted input
    :math:`z = \sum_k w_{jk} x_k + b_j` of order one, so hidden neurons do not
    start saturated.

    Examples
    --------
    >>> w, _ = default_weight_initializer([10_000, 1], np.random.default_rng(0))
    >>> print(f"{w[0].std() * 100:.1f}")
    1.0
    """
    biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
    weights = [
        rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]
    return weights, biases


INITIALIZERS = {
    "large": large_weight_initializer,
    "default": default_weight_initializer,
}
