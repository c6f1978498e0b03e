"""Backpropagation one training example at a time: the book's original loop.

Used in chap2. The book's ``network.py`` computes a mini-batch's gradient by
running backprop on each example separately and adding up the results. Our
:class:`~nndl_core.network.Network` instead pushes the whole mini-batch through
as one matrix (chapter 2's "fully matrix-based" problem). This module keeps
the loop form, so that the page can show it, the tests can check it equals the
matrix form, and the experiment ``ch2.matrix_speedup`` can time one against
the other.

The equations are those of chapter 2: BP1 (see chap2, eq. ch2-bp1) for the
output error, BP2 (eq. ch2-bp2) to carry it back one layer, and BP3, BP4
(eqs. ch2-bp3, ch2-bp4) to turn errors into gradients.
"""

import numpy as np

from .activations import sigmoid, sigmoid_prime

__all__ = ["backprop_per_example", "update_mini_batch_per_example"]


def backprop_per_example(net, x, y):
    r"""Gradient of the cost :math:`C_x` of a single training example.

    Feedforward keeping every :math:`z^l` and :math:`a^l`, then

    * BP1 (chap2, eq. ch2-bp1): :math:`\delta^L = \nabla_a C_x \odot \sigma'(z^L)`,
      computed by ``net.cost.delta``;
    * BP2 (eq. ch2-bp2):
      :math:`\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)`;
    * BP3 (eq. ch2-bp3): :math:`\partial C_x / \partial b^l = \delta^l`;
    * BP4 (eq. ch2-bp4): :math:`\partial C_x / \partial w^l = \delta^l (a^{l-1})^T`.

    Parameters
    ----------
    net : Network
        Supplies ``weights``, ``biases`` and ``cost``.
    x : ndarray of shape (n_in,) or (n_in, 1)
        One input.
    y : ndarray of shape (n_out,) or (n_out, 1)
        Its desired output.

    Returns
    -------
    nabla_b, nabla_w : lists of ndarray
        Shaped like ``net.biases`` and ``net.weights``.

    Examples
    --------
    >>> from nndl_core.network import Network
    >>> net = Network([2, 3, 1], seed=0)
    >>> x, y = np.array([0.5, -1.0]), np.array([1.0])
    >>> nabla_b, nabla_w = backprop_per_example(net, x, y)
    >>> [g.shape for g in nabla_w], [g.shape for g in nabla_b]
    ([(3, 2), (1, 3)], [(3, 1), (1, 1)])
    """
    activation = _column(x, net.sizes[0], "x")  # a^1 = x, as an (n_in, 1) column
    y = _column(y, net.sizes[-1], "y")
    activations, zs = [activation], []
    for b, w in zip(net.biases, net.weights):  # feedforward, keeping z^l and a^l
        z = w @ activation + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    nabla_b = [None] * len(net.biases)
    nabla_w = [None] * len(net.weights)
    delta = net.cost.delta(zs[-1], activations[-1], y)  # BP1
    last = len(net.weights) - 1
    for l in range(last, -1, -1):  # noqa: E741 (the book's l); weights[l] is w^{l+2}
        if l < last:
            delta = (net.weights[l + 1].T @ delta) * sigmoid_prime(zs[l])  # BP2
        nabla_b[l] = delta  # BP3
        nabla_w[l] = delta @ activations[l].T  # BP4: a column times a row
    return nabla_b, nabla_w


def update_mini_batch_per_example(net, x, y, eta):
    r"""One gradient-descent step on a mini-batch, looping over its examples.

    The book's ``update_mini_batch``: add up :func:`backprop_per_example` over
    the columns of ``x``, then step
    :math:`w^l \to w^l - \frac{\eta}{m} \sum_x \delta^{x,l} (a^{x,l-1})^T` and
    :math:`b^l \to b^l - \frac{\eta}{m} \sum_x \delta^{x,l}` (eqs. 20-21). It
    changes ``net`` exactly as :meth:`~nndl_core.network.Network.update_mini_batch`
    does, up to rounding, only more slowly.

    Parameters
    ----------
    net : Network
    x : ndarray of shape (n_in, m)
        Inputs, one example per column.
    y : ndarray of shape (n_out, m)
        Desired outputs.
    eta : float
        Learning rate.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"x and y must be matrices with one example per column, "
            f"got shapes {x.shape} and {y.shape}"
        )
    nabla_b = [np.zeros_like(b) for b in net.biases]
    nabla_w = [np.zeros_like(w) for w in net.weights]
    for i in range(x.shape[1]):  # the loop that the matrix form removes
        delta_nabla_b, delta_nabla_w = backprop_per_example(net, x[:, i], y[:, i])
        for nb, dnb in zip(nabla_b, delta_nabla_b):
            nb += dnb
        for nw, dnw in zip(nabla_w, delta_nabla_w):
            nw += dnw
    step = eta / x.shape[1]
    net.weights = [w - step * nw for w, nw in zip(net.weights, nabla_w)]
    net.biases = [b - step * nb for b, nb in zip(net.biases, nabla_b)]


def _column(v, n, name):
    """``v`` as an (n, 1) float64 column; ValueError naming ``name`` otherwise."""
    v = np.asarray(v, dtype=np.float64)
    if v.shape not in ((n,), (n, 1)):
        raise ValueError(
            f"{name} must have shape ({n},) or ({n}, 1) for one example, got {v.shape}"
        )
    return v.reshape(n, 1)
