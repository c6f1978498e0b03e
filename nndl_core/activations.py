"""Activation functions and their derivatives.

Used in chap1 (the sigmoid neuron) and chap2 (sigma' in BP1 and BP2). Every
function is elementwise and accepts an ndarray of any shape.
"""

import numpy as np

__all__ = ["sigmoid", "sigmoid_prime"]


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
