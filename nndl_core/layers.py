"""Fully connected and softmax layers in the spirit of the book's network3.

Used in chap6, where networks are stacks of layers: :class:`ConvPoolLayer`
(in :mod:`nndl_core.conv`), :class:`FullyConnectedLayer` and
:class:`SoftmaxLayer`, trained by :class:`nndl_core.convnet.Network3`.

Each layer follows PyTorch's split: a thin class holds the parameters, and
its ``forward`` is one line calling a pure function of this module that a
reader can study (and a test can check) on its own. With
``backend="numba"`` the same call runs the function of the same name in
``nndl_core.kernels.layers``, tested equal to this one.

Conventions (as in ``network.py``): weights are ``(n_out, n_in)`` and inside
these layers examples are *columns*, so ``z = w @ a + b`` reads like eq.
(25). network3 stored the transpose, ``(n_in, n_out)``.

Dropout is network3's variant, stated once here: in training, each *input*
of a layer is kept with probability ``1 - p_drop`` (multiplied by a 0/1 mask
the caller draws) and nothing is rescaled; at evaluation time every input is
used and ``w @ a`` is scaled by ``1 - p_drop`` instead.
"""

import functools
import sys

import numpy as np

from .validation import check_whole

__all__ = [
    "ACTIVATIONS",
    "FullyConnectedLayer",
    "SoftmaxLayer",
    "activation_prime_from_output",
    "fully_connected_backward",
    "fully_connected_forward",
    "log_likelihood",
    "relu",
    "softmax",
    "softmax_backward",
    "softmax_forward",
]


def _sigmoid(z):
    """Stable sigmoid that keeps ``z``'s dtype (float32 on the fast path)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def relu(z):
    """The rectified linear unit, :math:`\\max(0, z)`."""
    return np.maximum(z, 0)


ACTIVATIONS = {
    "sigmoid": _sigmoid,
    "relu": relu,
    "tanh": np.tanh,
    "linear": lambda z: z,
}


def activation_prime_from_output(activation, a):
    """The derivative of ``activation`` at ``z``, written with ``a = activation(z)``.

    sigmoid: :math:`a(1-a)`; tanh: :math:`1 - a^2`; ReLU: 1 where
    :math:`a > 0`, else 0; linear: 1. Using the output means the layers need
    not store ``z``.
    """
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "tanh":
        return 1 - a * a
    if activation == "relu":
        return (a > 0).astype(a.dtype)
    if activation == "linear":
        return np.ones_like(a)
    raise ValueError(f"unknown activation {activation!r}")


def softmax(z):
    """Column-wise softmax, with the column maximum subtracted (stable)."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def log_likelihood(a, labels):
    """Log-likelihood cost summed over the batch, :math:`-\\sum_x \\ln a^L_{y(x)}`.

    ``a`` has shape (n_out, m); ``labels`` (m,). Divide by ``m`` for
    network3's mini-batch mean.
    """
    tiny = np.finfo(a.dtype).tiny  # a probability that underflowed to 0
    return float(-np.sum(np.log(np.maximum(a[labels, np.arange(len(labels))], tiny))))


def _masked(x, mask):
    return x if mask is None else x * mask


def fully_connected_forward(x, w, b, activation, p_drop=0.0, mask=None):
    r"""A dense layer, with network3's dropout on its input.

    Training (``mask`` given): :math:`a = \mathrm{act}(w (x \odot
    \mathrm{mask}) + b)`. Evaluation (``mask`` None):
    :math:`a = \mathrm{act}((1 - p_{drop})\, w x + b)`.

    Parameters
    ----------
    x : ndarray of shape (n_in, m)
    w : ndarray of shape (n_out, n_in)
    b : ndarray of shape (n_out, 1)
    activation : str
    p_drop : float
        Probability that an input is dropped in training.
    mask : ndarray of shape (n_in, m), optional
        0/1 keep-mask drawn by the caller; None at evaluation time.

    Returns
    -------
    a : ndarray of shape (n_out, m)
    cache : tuple ``(x_used, a, mask)``

    Examples
    --------
    >>> w, b = np.array([[1.0, -1.0]]), np.zeros((1, 1))
    >>> a, _ = fully_connected_forward(np.array([[2.0], [1.0]]), w, b, "relu")
    >>> a
    array([[1.]])
    """
    x_used = _masked(x, mask)
    wx = w @ x_used if mask is not None or p_drop == 0 else (1 - p_drop) * (w @ x)
    a = ACTIVATIONS[activation](wx + b)
    return a, (x_used, a, mask)


def fully_connected_backward(delta_a, cache, w, activation, need_input_grad=True):
    r"""BP2-BP4 for a dense layer, summed over the batch's columns.

    :math:`\delta = \partial C/\partial a \odot \mathrm{act}'(z)`;
    :math:`\nabla w = \delta\, x^T`, :math:`\nabla b = \sum_x \delta`,
    :math:`\partial C/\partial x = (w^T \delta) \odot \mathrm{mask}`.

    Returns
    -------
    nabla_x : ndarray of shape (n_in, m), or None
        None when ``need_input_grad`` is False (a first layer).
    grads : dict with ``"w"`` (n_out, n_in) and ``"b"`` (n_out, 1)
    """
    x_used, a, mask = cache
    delta = delta_a * activation_prime_from_output(activation, a)
    return _backward_dense(delta, x_used, w, mask, need_input_grad)


def _backward_dense(delta, x_used, w, mask, need_input_grad):
    nabla_w = delta @ x_used.T  # BP4, summed over the batch
    nabla_b = delta.sum(axis=1, keepdims=True)  # BP3
    if not need_input_grad:
        return None, {"w": nabla_w, "b": nabla_b}
    nabla_x = _masked(w.T @ delta, mask)  # BP2 before act' (the layer below has it)
    return nabla_x, {"w": nabla_w, "b": nabla_b}


def softmax_forward(x, w, b, p_drop=0.0, mask=None):
    """A softmax output layer (eq. 78), with the same dropout as the dense layer.

    Returns ``(a, cache)`` with ``a`` of shape (n_out, m), columns summing to 1.
    """
    x_used = _masked(x, mask)
    wx = w @ x_used if mask is not None or p_drop == 0 else (1 - p_drop) * (w @ x)
    a = softmax(wx + b)
    return a, (x_used, a, mask)


def softmax_backward(labels, cache, w, need_input_grad=True):
    r"""Backprop from the log-likelihood cost: :math:`\delta^L = a^L - y` (eq. 84).

    Parameters
    ----------
    labels : ndarray of int, shape (m,)
    cache : from :func:`softmax_forward`
    w : ndarray of shape (n_out, n_in)

    Returns
    -------
    nabla_x : ndarray of shape (n_in, m), or None (``need_input_grad`` False)
    grads : dict with ``"w"`` and ``"b"``, summed over the batch
    """
    x_used, a, mask = cache
    delta = a.copy()
    delta[labels, np.arange(len(labels))] -= 1  # a - y with y one-hot
    return _backward_dense(delta, x_used, w, mask, need_input_grad)


def _dense_init(rng, n_in, n_out, init):
    if init not in ("n_out", "n_in"):
        raise ValueError(f"init must be 'n_out' or 'n_in', got {init!r}")
    fan = n_out if init == "n_out" else n_in
    return rng.normal(0.0, np.sqrt(1.0 / fan), (n_out, n_in)), rng.normal(
        0.0, 1.0, (n_out, 1)
    )


class FullyConnectedLayer:
    """A dense layer of ``n_out`` neurons (network3's ``FullyConnectedLayer``).

    .. math:: a = \\mathrm{act}(w\\,(x \\odot \\mathrm{mask}) + b)

    Parameters
    ----------
    n_in, n_out
        numbers of inputs and neurons.
    activation
        ``"sigmoid"``, ``"relu"``, ``"tanh"`` or ``"linear"``.
    p_drop
        probability that each *input* is dropped in training.
    init
        ``"n_out"`` reproduces network3's N(0, 1/n_out) weights (chapter 3
        argues for 1/n_in; the book's chapter 6 notes the slip, added in
        November 2016); ``"n_in"`` is the fix, N(0, 1/n_in). Biases are
        N(0, 1) either way.

    Notes
    -----
    Shape: input ``(n_in, m)``; output ``(n_out, m)``.

    Attributes
    ----------
    w
        ndarray of shape (n_out, n_in).
    b
        ndarray of shape (n_out, 1).

    Examples
    --------
    >>> layer = FullyConnectedLayer(640, 100, "relu")
    >>> layer.initialize(np.random.default_rng(0))
    >>> layer.w.shape, layer.n_params
    ((100, 640), 64100)
    """

    kind = "columns"

    def __init__(self, n_in, n_out, activation="sigmoid", p_drop=0.0, init="n_out"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}")
        if not 0.0 <= p_drop < 1.0:
            raise ValueError(f"p_drop must be in [0, 1), got {p_drop}")
        self.n_in, self.n_out = check_whole(n_in, "n_in"), check_whole(n_out, "n_out")
        self.activation, self.p_drop, self.init = activation, float(p_drop), init
        self.output_shape = (self.n_out,)
        self.w = self.b = None

    @property
    def n_params(self):
        """Number of weights and biases."""
        return self.n_out * (self.n_in + 1)

    def initialize(self, rng):
        """Draw the weights and biases from ``rng`` (see ``init``)."""
        self.w, self.b = _dense_init(rng, self.n_in, self.n_out, self.init)

    def params(self):
        """``{"w": w, "b": b}``; L2 regularization decays ``w`` only."""
        return {"w": self.w, "b": self.b}

    def forward(self, x, backend="numpy", mask=None):
        """``(a, cache)``; ``mask`` is the dropout keep-mask (None: evaluation)."""
        return _ops(backend).fully_connected_forward(
            x, self.w, self.b, self.activation, self.p_drop, mask
        )

    def backward(self, delta_a, cache, backend="numpy", need_input_grad=True):
        """``(nabla_x, {"w": nabla_w, "b": nabla_b})`` summed over the batch."""
        return _ops(backend).fully_connected_backward(
            delta_a, cache, self.w, self.activation, need_input_grad
        )


class SoftmaxLayer:
    """A softmax output layer, log-likelihood cost (network3's ``SoftmaxLayer``).

    Parameters
    ----------
    n_in, n_out
        numbers of inputs and output classes.
    p_drop
        probability that each input is dropped in training.

    Notes
    -----
    Shape: input ``(n_in, m)``; output ``(n_out, m)``, each column a
    probability distribution over the classes.

    Attributes
    ----------
    w
        ndarray of shape (n_out, n_in), initialised to zero as in network3.
    b
        ndarray of shape (n_out, 1), zero.

    Examples
    --------
    >>> layer = SoftmaxLayer(100, 10)
    >>> layer.initialize(np.random.default_rng(0))
    >>> a, _ = layer.forward(np.ones((100, 2)))
    >>> a[:, 0].round(2)
    array([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    """

    kind = "columns"
    activation = "softmax"

    def __init__(self, n_in, n_out, p_drop=0.0):
        if not 0.0 <= p_drop < 1.0:
            raise ValueError(f"p_drop must be in [0, 1), got {p_drop}")
        self.n_in, self.n_out = check_whole(n_in, "n_in"), check_whole(n_out, "n_out")
        self.p_drop = float(p_drop)
        self.output_shape = (self.n_out,)
        self.w = self.b = None

    @property
    def n_params(self):
        """Number of weights and biases."""
        return self.n_out * (self.n_in + 1)

    def initialize(self, rng):
        """Zero weights and biases, as network3 starts its softmax layer."""
        self.w = np.zeros((self.n_out, self.n_in))
        self.b = np.zeros((self.n_out, 1))

    def params(self):
        """``{"w": w, "b": b}``."""
        return {"w": self.w, "b": self.b}

    def forward(self, x, backend="numpy", mask=None):
        """``(a, cache)``: class probabilities, one column per example."""
        return _ops(backend).softmax_forward(x, self.w, self.b, self.p_drop, mask)

    def backward(self, labels, cache, backend="numpy", need_input_grad=True):
        """Gradients of the summed log-likelihood for integer ``labels``."""
        return _ops(backend).softmax_backward(labels, cache, self.w, need_input_grad)


@functools.cache
def _ops(backend):
    """The module whose dense forward/backward functions run (this one or kernels).

    ``"numba"`` runs the products in :mod:`nndl_core.kernels.layers` on one
    core. Not for speed alone: OpenBLAS hands a product as small as
    (100 x 2880) @ (2880 x 10) to two threads, and on a busy two-core
    machine their hand-offs made such a product 40 times slower than on one
    thread (a chapter-6 network with one conv layer trained 5 to 10 times
    slower per mini-batch than one with two).
    """
    if backend == "numpy":
        return sys.modules[__name__]
    if backend == "numba":
        from .kernels import layers  # imported on first use: compiling takes time

        return layers
    raise ValueError(f"backend must be 'numpy' or 'numba', got {backend!r}")
