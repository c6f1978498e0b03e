"""Regularization for chapter 3: L2 and L1 penalties, dropout, momentum steps.

Used in chap3 (through :func:`nndl_core.trainer.train`). Each function is the
readable reference for one idea, and the NumPy backend runs it. The numba
backend runs the same ideas compiled (``nndl_core.kernels.dense``), and
its tests hold it to these functions: the same L2 and L1 steps, the same
momentum update, and dropout with the very masks :func:`dropout_backprop`
would draw from the same generator.
"""

import numpy as np

from .activations import DERIVATIVES

__all__ = [
    "PENALTIES",
    "dropout_backprop",
    "penalty",
    "penalty_gradient",
    "sgd_step",
]

PENALTIES = ("l2", "l1")


def penalty(weights, lmbda, n, kind="l2"):
    r"""The regularization term added to the cost (biases are not regularized).

    ``"l2"``: :math:`\frac{\lambda}{2n}\sum_w w^2` (the book's eq. 87);
    ``"l1"``: :math:`\frac{\lambda}{n}\sum_w |w|` (eq. 95).

    Examples
    --------
    >>> w = [np.array([[1.0, -2.0]])]
    >>> print(f"{penalty(w, 1.0, 10, 'l2'):.2f} {penalty(w, 1.0, 10, 'l1'):.2f}")
    0.25 0.30
    """
    if kind == "l2":
        return lmbda / (2 * n) * sum(float(np.sum(w * w)) for w in weights)
    if kind == "l1":
        return lmbda / n * sum(float(np.sum(np.abs(w))) for w in weights)
    raise ValueError(f"regularization must be one of {PENALTIES}, got {kind!r}")


def penalty_gradient(w, lmbda, n, kind="l2"):
    r"""Gradient of :func:`penalty` with respect to one weight matrix.

    ``"l2"``: :math:`(\lambda/n) w` (eq. 88); ``"l1"``:
    :math:`(\lambda/n)\,\mathrm{sgn}(w)` with :math:`\mathrm{sgn}(0) = 0` (eq. 96).
    """
    if kind == "l2":
        return (lmbda / n) * w
    if kind == "l1":
        return (lmbda / n) * np.sign(w)
    raise ValueError(f"regularization must be one of {PENALTIES}, got {kind!r}")


def dropout_backprop(net, x, y, p, rng):
    """:meth:`~nndl_core.network.Network.backprop` with hidden neurons dropped.

    Each hidden neuron is dropped with probability ``p``, with *one* mask
    per mini-batch as in the book's description (the same neurons are
    deleted for every example of the mini-batch). We use **inverted
    dropout**: the kept neurons' outputs are multiplied by ``1/(1 - p)``
    during training, so that each hidden output keeps its expected value
    and the trained network is used as it is at test time. (Nielsen's
    variant instead trains unscaled and halves the outgoing weights at test
    time when ``p = 1/2``; the two give the same expected weighted inputs.)

    Returns the summed gradients ``nabla_b, nabla_w``, like ``backprop``.
    """
    activation, activations, zs, masks = x, [x], [], []
    last = len(net.weights) - 1
    for l, (b, w) in enumerate(zip(net.biases, net.weights)):  # noqa: E741
        z = w @ activation + b
        zs.append(z)
        activation = net.activate(l, z)
        if l < last:  # a hidden layer: drop some neurons
            mask = (rng.random((w.shape[0], 1)) >= p) / (1.0 - p)
            activation = activation * mask
            masks.append(mask)
        activations.append(activation)
    delta = net.cost.delta(zs[-1], activations[-1], y)
    act_prime = DERIVATIVES[net.activation]
    nabla_b, nabla_w = [None] * len(net.biases), [None] * len(net.weights)
    for l in range(last, -1, -1):  # noqa: E741
        if l < last:  # BP2 through the same dropped network
            delta = (net.weights[l + 1].T @ delta) * act_prime(zs[l]) * masks[l]
        nabla_b[l] = delta.sum(axis=1, keepdims=True)
        nabla_w[l] = delta @ activations[l].T
    return nabla_b, nabla_w


def sgd_step(net, x, y, eta, options, velocities, rng):
    r"""One mini-batch step with regularization, dropout and momentum.

    With :math:`g` the mini-batch average gradient of the cost plus the
    penalty gradient, momentum-based gradient descent (the book's eqs.
    107-108) is

    .. math:: v \to \mu v - \eta g, \qquad w \to w + v,

    and ``mu = 0`` gives plain SGD (eq. 93 for L2, eq. 97 for L1). Biases
    are neither regularized nor dropped.

    Parameters
    ----------
    net : Network
    x, y : ndarray
        Inputs and one-hot outputs, one example per column.
    eta : float
    options : dict
        ``lmbda``, ``n`` (training-set size), ``regularization``,
        ``dropout`` (drop probability) and ``mu`` (momentum coefficient).
    velocities : (list, list)
        Velocities for weights and biases, updated in place.
    rng : numpy.random.Generator
        Draws the dropout masks.
    """
    if options["dropout"] > 0:
        nabla_b, nabla_w = dropout_backprop(net, x, y, options["dropout"], rng)
    else:
        nabla_b, nabla_w = net.backprop(x, y)
    m, mu = x.shape[1], options["mu"]
    v_w, v_b = velocities
    for l, w in enumerate(net.weights):  # noqa: E741
        reg = penalty_gradient(
            w, options["lmbda"], options["n"], options["regularization"]
        )
        v_w[l] = mu * v_w[l] - eta * (nabla_w[l] / m + reg)
        v_b[l] = mu * v_b[l] - eta * (nabla_b[l] / m)
        net.weights[l] = w + v_w[l]
        net.biases[l] = net.biases[l] + v_b[l]
