"""Convolution, max-pooling and the convolutional-pooling layer (readable NumPy).

Used in chap6. These functions are the reference the page displays; the
Numba kernels in ``nndl_core.kernels.conv`` are tested equal to them.

Array conventions
-----------------
Images and feature maps are ``(m, c, h, w)``: ``m`` examples, ``c`` maps
(channels), ``h`` rows and ``w`` columns. Filters are ``(f, c, k, k)``: ``f``
output maps, each looking at all ``c`` input maps through a ``k x k`` window.
This is PyTorch's layout, and network3's ``filter_shape``.

Two facts about the book's network3 that we keep:

* the convolution is *valid* (no padding, stride 1), so a 28x28 image and
  5x5 filters give 24x24 maps, and max-pooling takes non-overlapping
  ``pool x pool`` windows, ignoring leftover rows and columns at the border;
* the activation is applied after pooling. That is the same as pooling the
  activations, because sigmoid, tanh and ReLU never decrease, and it is
  cheaper (a quarter of the values).

One fact we change: network3 used Theano's ``conv2d``, a true convolution
that flips the filter. We compute the cross-correlation of eq. (125) as the
book writes it, :math:`z_{j,k} = b + \\sum_{l,m} w_{l,m}\\, a_{j+l,k+m}`.
The two learn the same networks; only pictures of learned filters appear
rotated by 180 degrees.
"""

import functools
import sys

import numpy as np

from .layers import ACTIVATIONS, activation_prime_from_output
from .validation import check_whole

__all__ = [
    "ConvPoolLayer",
    "conv2d_backward",
    "conv2d_forward",
    "conv_pool_backward",
    "conv_pool_forward",
    "maxpool_backward",
    "maxpool_forward",
]


def conv2d_forward(x, w, b):
    r"""Valid cross-correlation of a batch of images with a bank of filters.

    .. math:: z_{n,f,i,j} = b_f + \sum_{c} \sum_{l=0}^{k-1} \sum_{m=0}^{k-1}
              w_{f,c,l,m}\, x_{n,c,i+l,j+m}

    (chap6, the book's eq. (125) summed over input maps.)

    Parameters
    ----------
    x : ndarray of shape (m, c, h, w)
        Input maps.
    w : ndarray of shape (f, c, k, k)
        Filters (shared weights).
    b : ndarray of shape (f,)
        One shared bias per output map.

    Returns
    -------
    z : ndarray of shape (m, f, h - k + 1, w - k + 1)

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> conv2d_forward(x, w, np.zeros(1))[0, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    n_out_h, n_out_w = x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1
    z = np.zeros((x.shape[0], w.shape[0], n_out_h, n_out_w), dtype=x.dtype)
    for l in range(w.shape[2]):  # noqa: E741 (the book's l)
        for m in range(w.shape[3]):
            # every output sees input pixel (i + l, j + m) through weight w[:, :, l, m]
            window = x[:, :, l : l + n_out_h, m : m + n_out_w]  # (m, c, h', w')
            z += np.einsum("ncij,fc->nfij", window, w[:, :, l, m])
    return z + b[:, None, None]


def conv2d_backward(x, w, delta):
    r"""Gradients of :func:`conv2d_forward` from :math:`\delta = \partial C/\partial z`.

    Each shared weight is used at every position of its map, so its
    gradient sums over all of them:

    .. math:: \frac{\partial C}{\partial w_{f,c,l,m}} =
              \sum_{n,i,j} \delta_{n,f,i,j}\, x_{n,c,i+l,j+m},\qquad
              \frac{\partial C}{\partial b_f} = \sum_{n,i,j} \delta_{n,f,i,j},

    and each input pixel reaches every output whose window covers it:

    .. math:: \frac{\partial C}{\partial x_{n,c,i+l,j+m}} \mathrel{+}=
              \delta_{n,f,i,j}\, w_{f,c,l,m}.

    Parameters
    ----------
    x : ndarray of shape (m, c, h, w)
    w : ndarray of shape (f, c, k, k)
    delta : ndarray of shape (m, f, h - k + 1, w - k + 1)

    Returns
    -------
    nabla_x : ndarray of shape (m, c, h, w)
    nabla_w : ndarray of shape (f, c, k, k)
        Summed over the batch, as ``Network.backprop`` sums.
    nabla_b : ndarray of shape (f,)
    """
    n_out_h, n_out_w = delta.shape[2], delta.shape[3]
    nabla_x = np.zeros_like(x)
    nabla_w = np.zeros_like(w)
    for l in range(w.shape[2]):  # noqa: E741 (the book's l)
        for m in range(w.shape[3]):
            window = x[:, :, l : l + n_out_h, m : m + n_out_w]
            nabla_w[:, :, l, m] = np.einsum("nfij,ncij->fc", delta, window)
            nabla_x[:, :, l : l + n_out_h, m : m + n_out_w] += np.einsum(
                "nfij,fc->ncij", delta, w[:, :, l, m]
            )
    return nabla_x, nabla_w, delta.sum(axis=(0, 2, 3))


def _windows(z, pool):
    """View ``z`` (m, c, h, w) as (m, c, h//pool, w//pool, pool*pool) windows."""
    n, c, h, w = z.shape
    rows, cols = h // pool, w // pool
    cropped = z[:, :, : rows * pool, : cols * pool]  # the border is ignored
    blocks = cropped.reshape(n, c, rows, pool, cols, pool).transpose(0, 1, 2, 4, 3, 5)
    return blocks.reshape(n, c, rows, cols, pool * pool)


def maxpool_forward(z, pool):
    """Non-overlapping max-pooling over ``pool x pool`` windows.

    Parameters
    ----------
    z : ndarray of shape (m, c, h, w)
    pool : int

    Returns
    -------
    pooled : ndarray of shape (m, c, h // pool, w // pool)
    switches : ndarray of int64, same shape
        Where each maximum was, as a row-major index ``0 .. pool**2 - 1``
        into its window (the first one, if several are equal). Backprop
        sends the gradient there and nowhere else.

    Examples
    --------
    >>> z = np.array([[1.0, 3.0], [2.0, 0.0]]).reshape(1, 1, 2, 2)
    >>> pooled, switches = maxpool_forward(z, 2)
    >>> float(pooled[0, 0, 0, 0]), int(switches[0, 0, 0, 0])
    (3.0, 1)
    """
    windows = _windows(z, pool)
    switches = windows.argmax(axis=-1)
    pooled = np.take_along_axis(windows, switches[..., None], axis=-1)[..., 0]
    return pooled, switches


def maxpool_backward(delta_pooled, switches, pool, shape):
    r"""Route each pooled gradient back to the input that won its window.

    The maximum of a window depends on its winner only (locally, with slope
    1), so :math:`\partial C/\partial z` equals the pooled gradient at the
    winner and 0 at the other ``pool**2 - 1`` positions.

    Parameters
    ----------
    delta_pooled : ndarray of shape (m, c, h // pool, w // pool)
    switches : ndarray, same shape, from :func:`maxpool_forward`
    pool : int
    shape : tuple
        ``(m, c, h, w)``, the shape of the pooled input.

    Returns
    -------
    ndarray of shape ``shape``
    """
    n, c, rows, cols = delta_pooled.shape
    windows = np.zeros((n, c, rows, cols, pool * pool), dtype=delta_pooled.dtype)
    np.put_along_axis(windows, switches[..., None], delta_pooled[..., None], axis=-1)
    blocks = windows.reshape(n, c, rows, cols, pool, pool).transpose(0, 1, 2, 4, 3, 5)
    delta = np.zeros(shape, dtype=delta_pooled.dtype)
    delta[:, :, : rows * pool, : cols * pool] = blocks.reshape(
        n, c, rows * pool, cols * pool
    )
    return delta


def conv_pool_forward(x, w, b, activation, pool):
    """Convolution, max-pooling, activation: one network3 ``ConvPoolLayer``.

    Returns
    -------
    a : ndarray of shape (m, f, h', w')
        The layer's output, ``activation(maxpool(conv2d(x, w, b)))``.
    cache : tuple
        ``(x, a, switches)``, what :func:`conv_pool_backward` needs.
    """
    z = conv2d_forward(x, w, b)
    pooled, switches = maxpool_forward(z, pool)
    a = ACTIVATIONS[activation](pooled)
    return a, (x, a, switches)


def conv_pool_backward(delta_a, cache, w, activation, pool, need_input_grad=True):
    """Backprop through :func:`conv_pool_forward`.

    Parameters
    ----------
    delta_a : ndarray of shape (m, f, h', w')
        :math:`\\partial C/\\partial a` for the layer's output.
    cache : tuple
        From :func:`conv_pool_forward`.
    need_input_grad : bool
        False for a first layer, whose input gradient nobody uses.

    Returns
    -------
    nabla_x : ndarray of shape (m, c, h, w), or None
    nabla_w : ndarray of shape (f, c, k, k)
    nabla_b : ndarray of shape (f,)
    """
    x, a, switches = cache
    delta_pooled = delta_a * activation_prime_from_output(activation, a)
    shape = (
        x.shape[0],
        w.shape[0],
        x.shape[2] - w.shape[2] + 1,
        x.shape[3] - w.shape[3] + 1,
    )
    delta = maxpool_backward(delta_pooled, switches, pool, shape)
    nabla_x, nabla_w, nabla_b = conv2d_backward(x, w, delta)
    return (nabla_x if need_input_grad else None), nabla_w, nabla_b


class ConvPoolLayer:
    """A convolutional layer followed by max-pooling (network3's ``ConvPoolLayer``).

    .. math:: a = \\mathrm{act}\\big(\\mathrm{maxpool}(w \\star x + b)\\big)

    Parameters
    ----------
    filter_shape
        ``(f, c, k, k)``: ``f`` feature maps, each with a
        ``k x k`` local receptive field over ``c`` input maps.
    image_shape
        ``(c, h, w)`` of one input.
    pool
        side of the square max-pooling window (2 in the book).
    activation
        ``"sigmoid"``, ``"relu"``, ``"tanh"`` or ``"linear"``.
    init
        ``"n_out"`` reproduces network3, which draws the weights from
        N(0, 1/n_out) with ``n_out = f * k * k / pool**2`` (chapter 3
        argues for 1/n_in); ``"n_in"`` is the fix, N(0, 1/(c * k * k)).

    Notes
    -----
    Shape: input ``(m, c, h, w)``; output ``(m, f, (h-k+1)//pool, (w-k+1)//pool)``.

    Attributes
    ----------
    w
        ndarray of shape ``filter_shape``, the shared weights.
    b
        ndarray of shape ``(f,)``, the shared biases, from N(0, 1).

    Examples
    --------
    >>> layer = ConvPoolLayer((20, 1, 5, 5), (1, 28, 28))
    >>> layer.initialize(np.random.default_rng(0))
    >>> layer.output_shape, layer.n_params
    ((20, 12, 12), 520)
    """

    kind = "images"

    def __init__(
        self, filter_shape, image_shape, pool=2, activation="sigmoid", init="n_out"
    ):
        self.filter_shape = _whole_shape(filter_shape, 4, "filter_shape")
        self.image_shape = _whole_shape(image_shape, 3, "image_shape")
        f, c, k, k2 = self.filter_shape
        if c != self.image_shape[0] or k != k2:
            raise ValueError(
                f"filter_shape {filter_shape} must be "
                f"(maps, {self.image_shape[0]}, k, k)"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}")
        if init not in ("n_out", "n_in"):
            raise ValueError(f"init must be 'n_out' or 'n_in', got {init!r}")
        self.pool = check_whole(pool, "pool")
        self.activation, self.init = activation, init
        h, w = self.image_shape[1] - k + 1, self.image_shape[2] - k + 1
        if h < self.pool or w < self.pool:
            raise ValueError(
                f"{k}x{k} filters on {self.image_shape[1:]} images leave "
                f"{h}x{w} maps, too small for {self.pool}x{self.pool} pooling"
            )
        self.output_shape = (f, h // self.pool, w // self.pool)
        self.w = self.b = None

    @property
    def n_params(self):
        """Number of weights and biases: ``f * (c * k * k + 1)``."""
        f, c, k, _ = self.filter_shape
        return f * (c * k * k + 1)

    def initialize(self, rng):
        """Draw the weights and biases from ``rng`` (see ``init``)."""
        f, c, k, _ = self.filter_shape
        fan = f * k * k / self.pool**2 if self.init == "n_out" else c * k * k
        self.w = rng.normal(0.0, np.sqrt(1.0 / fan), self.filter_shape)
        self.b = rng.normal(0.0, 1.0, f)

    def params(self):
        """``{"w": w, "b": b}``; L2 regularization decays ``w`` only."""
        return {"w": self.w, "b": self.b}

    def forward(self, x, backend="numpy", mask=None):
        """``(a, cache)`` for input ``x`` of shape (m, c, h, w) (no dropout here)."""
        return _ops(backend).conv_pool_forward(
            x, self.w, self.b, self.activation, self.pool
        )

    def backward(self, delta_a, cache, backend="numpy", need_input_grad=True):
        """``(nabla_x, {"w": nabla_w, "b": nabla_b})`` summed over the batch."""
        nabla_x, nabla_w, nabla_b = _ops(backend).conv_pool_backward(
            delta_a, cache, self.w, self.activation, self.pool, need_input_grad
        )
        return nabla_x, {"w": nabla_w, "b": nabla_b}


@functools.cache
def _ops(backend):
    """The module whose ``conv_pool_forward``/``backward`` run (this one or kernels)."""
    if backend == "numpy":
        return sys.modules[__name__]
    if backend == "numba":
        from .kernels import conv  # imported on first use: compiling takes time

        return conv
    raise ValueError(f"backend must be 'numpy' or 'numba', got {backend!r}")


def _whole_shape(shape, length, name):
    """``shape`` as a tuple of ``length`` whole numbers >= 1 (no silent int(2.7))."""
    if np.ndim(shape) != 1 or len(shape) != length:
        raise ValueError(f"{name} must hold {length} sizes, got {shape!r}")
    return tuple(check_whole(s, f"{name}[{i}]") for i, s in enumerate(shape))
