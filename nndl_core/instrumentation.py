r"""Measuring how fast each layer learns, and the chain-of-neurons analysis.

Used in chap5 ("Why are deep neural networks hard to train?").

The *speed of learning* of hidden layer :math:`l` is the length of the
gradient of the cost with respect to its biases, :math:`\|\delta^l\|`, where
by BP3 (chap2, eq. ch2-bp3) :math:`\partial C/\partial b^l_j = \delta^l_j`.
Everything here is computed from what ``backprop`` already returns (the
summed ``nabla_b`` and ``nabla_w``): the network is never patched, and
:meth:`~nndl_core.network.Network.SGD` computes nothing extra unless a
:class:`SpeedTracker` is passed as its ``callback``.

The second half holds the chapter's small analytic helpers: the gradient
of a chain of single neurons as a product of factors :math:`w_j\sigma'(z_j)`
(the original's eq. (122)), and the range of inputs on which one factor
:math:`|w\sigma'(wa+b)|` is at least 1 (the chapter's first problem).
"""

from dataclasses import dataclass, field

import numpy as np

from .activations import sigmoid, sigmoid_prime
from .training import one_hot
from .validation import check_dataset

__all__ = [
    "SIGMOID_PRIME_MAX",
    "GradientNorms",
    "SpeedTracker",
    "chain_factors",
    "chain_forward",
    "chain_gradient",
    "dataset_gradient",
    "dataset_gradient_norms",
    "gradient_norms",
    "minibatch_gradient_norms",
    "unstable_interval",
    "unstable_width",
]

#: The largest value of :math:`\sigma'(z) = \sigma(z)(1-\sigma(z))`, at z = 0.
SIGMOID_PRIME_MAX = 0.25


@dataclass
class GradientNorms:
    """Per-layer gradient lengths of a network, one entry per weight layer.

    Attributes
    ----------
    bias : list of float
        :math:`\\|\\delta^l\\|`, the length of the (averaged) bias gradient of
        each layer, output layer last.
    weight : list of float
        The Frobenius norm of the (averaged) weight gradient of each layer.
    """

    bias: list
    weight: list

    @property
    def hidden(self):
        """The bias-gradient lengths of the hidden layers only (the book's plots)."""
        return self.bias[:-1]


def _backprop(net, x, y):
    """``backprop`` on the network's own backend (the kernel on the Numba path)."""
    if net.backend == "numba":
        from .kernels import dense  # compiled on first use

        return dense.backprop(net, x, y)
    return net.backprop(x, y)


def gradient_norms(nabla_b, nabla_w, m=1):
    """Layer-by-layer norms of a gradient returned by ``backprop``.

    Parameters
    ----------
    nabla_b, nabla_w : lists of ndarray
        Shaped like a network's biases and weights, summed over ``m`` examples.
    m : int
        Number of examples summed; the norms are of the average gradient.

    Returns
    -------
    GradientNorms

    Examples
    --------
    >>> norms = gradient_norms([np.array([[3.0], [4.0]])], [np.ones((2, 2))], m=2)
    >>> norms.bias, norms.weight
    ([2.5], [1.0])
    """
    return GradientNorms(
        bias=[float(np.linalg.norm(nb)) / m for nb in nabla_b],
        weight=[float(np.linalg.norm(nw)) / m for nw in nabla_w],
    )


def minibatch_gradient_norms(net, x, y):
    """Per-layer norms of the average gradient over one mini-batch.

    Parameters
    ----------
    net : Network
    x : ndarray of shape (n_in, m)
        Inputs, one example per column.
    y : ndarray of shape (n_out, m)
        Desired outputs.

    Returns
    -------
    GradientNorms
        ``bias[l]`` is :math:`\\|\\frac1m\\sum_x \\delta^l_x\\|`.
    """
    nabla_b, nabla_w = _backprop(net, x, y)
    return gradient_norms(nabla_b, nabla_w, x.shape[1])


def dataset_gradient(net, data, batch_size=1000):
    """The gradient of the cost averaged over a whole data set.

    Computed in chunks of ``batch_size`` columns so memory stays small. The
    L2 term is not included: it does not touch biases, and the book's
    measurements leave it out.

    Parameters
    ----------
    net : Network
    data : Dataset or (images, labels)
        Images of shape (n, n_in), integer labels of shape (n,).
    batch_size : int

    Returns
    -------
    nabla_b, nabla_w : lists of ndarray
        Shaped like ``net.biases`` and ``net.weights``, averaged over ``n``.
    """
    images, labels = check_dataset(data, net.sizes[0], net.sizes[-1], "data")
    n = len(labels)
    nabla_b = [np.zeros_like(b) for b in net.biases]
    nabla_w = [np.zeros_like(w) for w in net.weights]
    for start in range(0, n, batch_size):
        x = images[start : start + batch_size].T  # rows -> columns
        y = one_hot(labels[start : start + batch_size], net.sizes[-1])
        chunk_b, chunk_w = _backprop(net, x, y)
        nabla_b = [acc + nb for acc, nb in zip(nabla_b, chunk_b)]
        nabla_w = [acc + nw for acc, nw in zip(nabla_w, chunk_w)]
    return [nb / n for nb in nabla_b], [nw / n for nw in nabla_w]


def dataset_gradient_norms(net, data, batch_size=1000):
    """:func:`gradient_norms` of :func:`dataset_gradient`: the speed of each layer."""
    return gradient_norms(*dataset_gradient(net, data, batch_size))


@dataclass
class SpeedTracker:
    """A ``callback`` for ``SGD`` that records each layer's speed of learning.

    Pass it as ``net.SGD(..., callback=tracker)``; after every epoch it
    measures :func:`dataset_gradient_norms` of ``net`` on ``data`` and appends
    them to its lists. With ``record_initial=True`` (the default) it also
    measures the untrained network when it is created, so entry ``k`` of each
    list is the state after ``k`` epochs. Training without a tracker computes
    none of this.

    Parameters
    ----------
    net : Network
        The network being trained (the tracker reads its current parameters).
    data : Dataset or (images, labels)
        Where the gradient is averaged (the book: the 1,000 training images).
    record_initial : bool
    then : callable, optional
        Another ``callback(epoch, history)`` to call afterwards (progress).

    Attributes
    ----------
    epochs : list of int
        Epochs completed at each record (0 for the initial one).
    bias_norms, weight_norms : list of list of float
        One row per record, one column per weight layer (output last).
    """

    net: object
    data: object
    record_initial: bool = True
    then: object = None
    epochs: list = field(default_factory=list)
    bias_norms: list = field(default_factory=list)
    weight_norms: list = field(default_factory=list)

    def __post_init__(self):
        if self.record_initial:
            self._record(0)

    def __call__(self, epoch, history):
        self._record(epoch + 1)
        if self.then is not None:
            self.then(epoch, history)

    def _record(self, epochs_done):
        norms = dataset_gradient_norms(self.net, self.data)
        self.epochs.append(epochs_done)
        self.bias_norms.append(norms.bias)
        self.weight_norms.append(norms.weight)

    def hidden(self):
        """ndarray of shape (n_records, n_hidden): the hidden layers' speeds."""
        return np.array(self.bias_norms)[:, :-1]


# --- the chain of single neurons ------------------------------------------------


def chain_forward(weights, biases, a0):
    """Feed ``a0`` through a chain of single sigmoid neurons.

    Parameters
    ----------
    weights, biases : sequence of float
        :math:`w_1 \\ldots w_L` and :math:`b_1 \\ldots b_L`; neuron ``j`` computes
        :math:`a_j = \\sigma(w_j a_{j-1} + b_j)`.
    a0 : float
        The input.

    Returns
    -------
    zs, activations : ndarray of shape (L,)
    """
    zs, activations, a = [], [], float(a0)
    for w, b in zip(weights, biases):
        z = w * a + b
        a = float(sigmoid(np.float64(z)))
        zs.append(z)
        activations.append(a)
    return np.array(zs), np.array(activations)


def chain_factors(weights, biases, a0):
    r"""The factors :math:`w_j\sigma'(z_{j-1})` that link neighbouring biases.

    ``factors[j]`` is :math:`\partial C/\partial b_j \,/\, \partial C/\partial
    b_{j+1} = \sigma'(z_j)\, w_{j+1}` (0-based ``j``), so the gradient of the
    first bias is that of the last times the product of all the factors.

    Returns
    -------
    ndarray of shape (L - 1,)
    """
    zs, _ = chain_forward(weights, biases, a0)
    return sigmoid_prime(zs[:-1]) * np.asarray(weights[1:], dtype=np.float64)


def chain_gradient(weights, biases, a0, dC_da_last=1.0):
    r"""Gradient of the cost with respect to every bias of a chain of neurons.

    By the chain rule (the original's eq. (122)),

    .. math::

        \frac{\partial C}{\partial b_j} = \sigma'(z_j)\,
        \prod_{k=j+1}^{L} w_k \sigma'(z_k)\; \frac{\partial C}{\partial a_L},

    so moving one neuron back multiplies the gradient by :math:`w\sigma'(z)`.

    Parameters
    ----------
    weights, biases : sequence of float
    a0 : float
    dC_da_last : float
        :math:`\partial C/\partial a_L`.

    Returns
    -------
    ndarray of shape (L,)
        :math:`\partial C/\partial b_1, \ldots, \partial C/\partial b_L`.

    Examples
    --------
    >>> g = chain_gradient([1.0, 1.0], [0.0, 0.0], 0.0)
    >>> print(f"{g[1]:.4f} {g[0]:.4f}")
    0.2350 0.0588
    """
    zs, _ = chain_forward(weights, biases, a0)
    gradient = np.empty(len(zs))
    gradient[-1] = sigmoid_prime(zs[-1]) * dC_da_last
    for j in range(len(zs) - 2, -1, -1):  # one step back: times w_{j+1} sigma'(z_j)
        gradient[j] = sigmoid_prime(zs[j]) * weights[j + 1] * gradient[j + 1]
    return gradient


# --- the chapter's problem: where can one factor reach 1? -----------------------


def unstable_interval(w, b=0.0):
    r"""The inputs ``a`` with :math:`|w\,\sigma'(wa+b)| \ge 1`, as ``(low, high)``.

    :math:`\sigma'(z) = s(1-s)` with :math:`s = \sigma(z)`, so the condition is
    :math:`s(1-s) \ge 1/|w|`: ``s`` lies between the roots
    :math:`s_\pm = (1 \pm \sqrt{1 - 4/|w|})/2`, which needs :math:`|w| \ge 4`.
    Then :math:`z = wa + b` lies in
    :math:`[-\ln(s_+/s_-), \ln(s_+/s_-)]`, and ``a`` in the image of that
    interval under :math:`a = (z - b)/w`.

    Returns
    -------
    (float, float) or None
        None when :math:`|w| < 4` (no input qualifies).

    Examples
    --------
    >>> low, high = unstable_interval(8.0)
    >>> print(f"{low:.4f} {high:.4f}")
    -0.2203 0.2203
    """
    w = float(w)
    if abs(w) < 4.0:
        return None
    root = np.sqrt(1.0 - 4.0 / abs(w))
    half = np.log((1.0 + root) / (1.0 - root))  # ln(s+/s-), half the z-range
    ends = sorted(((-half - b) / w, (half - b) / w))
    return float(ends[0]), float(ends[1])


def unstable_width(w):
    r"""Width of :func:`unstable_interval`, the original's eq. (123).

    .. math::

        \frac{2}{|w|}\ln\!\Bigl(\frac{|w|\,(1 + \sqrt{1 - 4/|w|})}{2} - 1\Bigr)

    (0 for :math:`|w| < 4`). It does not depend on ``b``.

    Parameters
    ----------
    w : float or ndarray

    Returns
    -------
    float or ndarray
    """
    w = np.abs(np.asarray(w, dtype=np.float64))
    safe = np.maximum(w, 4.0)  # the formula is defined from |w| = 4 on
    width = 2.0 / safe * np.log(safe * (1.0 + np.sqrt(1.0 - 4.0 / safe)) / 2.0 - 1.0)
    width = np.where(w >= 4.0, width, 0.0)
    return float(width) if width.ndim == 0 else width
