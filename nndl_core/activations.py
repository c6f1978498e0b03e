"""Activation functions and their derivatives.

Used in chap1 (the sigmoid neuron), chap2 (sigma' in BP1 and BP2) and chap3
(tanh, ReLU, softmax). Every function except :func:`softmax` is elementwise
and accepts an ndarray of any shape.
"""

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "relu",
    "relu_prime",
    "sigmoid",
    "sigmoid_prime",
    "softmax",
    "tanh",
    "tanh_prime",
]


def sigmoid(z):
    r"""The logistic function :math:`\sigma(z) = 1 / (1 + e^{-z})`.

    Written so that ``np.exp`` only ever sees non-positive arguments: for
    ``z >= 0`` we use :math:`1/(1+e^{-z})` and for ``z < 0`` the equal form
    :math:`e^{z}/(1+e^{z})`. The naive formula overflows for ``z < -709``.

    Parameters
    ----------
    z : ndarray of any shape
        Weighted inputs.

    Returns
    -------
    ndarray of the same shape as ``z``, with values in [0, 1].

    Examples
    --------
    >>> print(sigmoid(np.array([-1000.0, 0.0, 2.0])).round(4))
    [0.     0.5    0.8808]
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    r"""Derivative of the sigmoid, :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`.

    Its maximum is 1/4 at ``z = 0``; it vanishes as ``|z|`` grows, which is
    why saturated neurons learn slowly.

    Examples
    --------
    >>> print(sigmoid_prime(np.array([0.0, 5.0])).round(6))
    [0.25     0.006648]
    """
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    r"""The hyperbolic tangent :math:`\tanh z = (e^z - e^{-z})/(e^z + e^{-z})` (chap3).

    A rescaled sigmoid, :math:`\sigma(z) = (1 + \tanh(z/2))/2`, with outputs
    in (-1, 1) instead of (0, 1).

    Examples
    --------
    >>> print(tanh(np.array([-1000.0, 0.0, 1.0])).round(4))
    [-1.      0.      0.7616]
    """
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_prime(z):
    r"""Derivative of tanh, :math:`1 - \tanh^2 z` (largest, 1, at ``z = 0``)."""
    t = np.tanh(np.asarray(z, dtype=np.float64))
    return 1.0 - t * t


def relu(z):
    r"""The rectified linear unit :math:`\max(0, z)` (chap3, chap6).

    Examples
    --------
    >>> print(relu(np.array([-2.0, 0.0, 3.0])))
    [0. 0. 3.]
    """
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


def relu_prime(z):
    """Derivative of the ReLU: 1 for ``z > 0``, else 0 (we take 0 at ``z = 0``)."""
    return (np.asarray(z, dtype=np.float64) > 0).astype(np.float64)


def softmax(z):
    r"""Softmax over each column: :math:`a_j = e^{z_j} / \sum_k e^{z_k}` (chap3).

    Subtracting the column's maximum first changes nothing mathematically
    (the factor :math:`e^{-\max z}` cancels) but keeps ``np.exp`` from
    overflowing: every exponent is then at most 0.

    Parameters
    ----------
    z : ndarray of shape (n,) or (n, batch)
        Weighted inputs of the output layer, one example per column.

    Returns
    -------
    ndarray of the same shape; every column is positive and sums to 1.

    Examples
    --------
    >>> print(softmax(np.array([2.5, -1.0, 3.2, 0.5])).round(4))
    [0.3145 0.0095 0.6334 0.0426]
    >>> print(softmax(np.array([1000.0, 1000.0])))
    [0.5 0.5]
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


#: Hidden-layer activations by name, and their derivatives (sklearn style).
ACTIVATIONS = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu}
DERIVATIVES = {"sigmoid": sigmoid_prime, "tanh": tanh_prime, "relu": relu_prime}
