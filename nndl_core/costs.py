"""Cost functions with the book's ``fn`` / ``delta`` interface.

Used in chap1 (quadratic cost, eq. 6), chap2 (the output error of BP1) and
chap3 (cross-entropy, log-likelihood).
A cost is a class of static methods, so both the class and an instance work.
"""

import numpy as np

from .activations import sigmoid_prime

__all__ = ["COSTS", "CrossEntropyCost", "LogLikelihoodCost", "QuadraticCost"]


class QuadraticCost:
    r"""The quadratic (mean squared error) cost :math:`C_x = \tfrac12\|y - a^L\|^2`."""

    name = "quadratic"

    @staticmethod
    def fn(a, y):
        r"""Total cost of a batch, :math:`\sum_x \tfrac12 \|y(x) - a^L(x)\|^2`.

        Parameters
        ----------
        a, y : ndarray of shape (n_out, batch)
            Output activations and desired outputs, one example per column.

        Returns
        -------
        float
            The cost summed over the columns (divide by ``n`` for eq. 6).

        Examples
        --------
        >>> a = np.array([[0.5], [0.25]]); y = np.array([[1.0], [0.0]])
        >>> print(QuadraticCost.fn(a, y))
        0.15625
        """
        return 0.5 * float(np.sum((a - y) ** 2))

    @staticmethod
    def delta(z, a, y):
        r"""Output error :math:`\delta^L = (a^L - y) \odot \sigma'(z^L)` (BP1, eq. 30).

        Parameters
        ----------
        z, a, y : ndarray of shape (n_out, batch)
            Weighted inputs, activations and desired outputs of the output layer.
        """
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    r"""The cross-entropy cost :math:`C_x = -\sum_j [y_j \ln a_j + (1-y_j)\ln(1-a_j)]`.

    Used in chap3 and chap5. Paired with sigmoid output neurons, its output
    error has no :math:`\sigma'(z)` factor, so saturated outputs still learn.
    """

    name = "cross_entropy"

    #: Activations are clipped to ``[EPS, 1 - EPS]`` inside the logarithms, so
    #: a saturated output costs at most ``-ln(EPS)`` (about 36.8) instead of
    #: ``inf``; the book used ``np.nan_to_num`` for the same purpose.
    EPS = 1e-16

    @staticmethod
    def fn(a, y):
        """Total cost of a batch: the sum over outputs and columns.

        Parameters
        ----------
        a, y : ndarray of shape (n_out, batch)

        Examples
        --------
        >>> a = np.array([[0.5], [0.25]]); y = np.array([[1.0], [0.0]])
        >>> print(f"{CrossEntropyCost.fn(a, y):.6f}")
        0.980829
        """
        a = np.clip(a, CrossEntropyCost.EPS, 1.0 - CrossEntropyCost.EPS)
        return float(-np.sum(y * np.log(a) + (1.0 - y) * np.log1p(-a)))

    @staticmethod
    def delta(z, a, y):
        r"""Output error :math:`\delta^L = a^L - y` (the :math:`\sigma'` cancels).

        ``z`` is unused; it is accepted so every cost has the same interface.
        """
        return a - y


class LogLikelihoodCost:
    r"""The log-likelihood cost :math:`C_x = -\ln a^L_y` for a softmax output layer.

    Used in chap3 and chap6. ``y`` is one-hot, so :math:`-\sum_j y_j \ln a^L_j`
    picks out the output of the correct class. A network with this cost uses
    :func:`~nndl_core.activations.softmax` in its output layer
    (``output_activation``), and then the output error is :math:`a^L - y`
    (the book's eq. 84), exactly as for sigmoid outputs with cross-entropy.
    """

    name = "log_likelihood"
    output_activation = "softmax"

    #: Outputs are clipped below at ``EPS`` inside the logarithm (as in
    #: :class:`CrossEntropyCost`), so a hopeless output costs about 36.8.
    EPS = 1e-16

    @staticmethod
    def fn(a, y):
        """Total cost of a batch, :math:`-\\sum_x \\ln a^L_{y(x)}`.

        Parameters
        ----------
        a, y : ndarray of shape (n_out, batch)
            Softmax outputs and one-hot desired outputs.

        Examples
        --------
        >>> a = np.array([[0.5], [0.25], [0.25]]); y = np.array([[0.0], [1.0], [0.0]])
        >>> print(f"{LogLikelihoodCost.fn(a, y):.6f}")
        1.386294
        """
        a = np.clip(a, LogLikelihoodCost.EPS, 1.0)
        return float(-np.sum(y * np.log(a)))

    @staticmethod
    def delta(z, a, y):
        r"""Output error :math:`\delta^L = a^L - y` (eq. 84; ``z`` unused)."""
        return a - y


#: Every cost by its ``name`` (used to save and load networks).
COSTS = {c.name: c for c in (QuadraticCost, CrossEntropyCost, LogLikelihoodCost)}
