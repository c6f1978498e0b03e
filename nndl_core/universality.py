r"""Universality (chapter 4): networks whose weights are written down, not learned.

Chapter 4 shows that one hidden layer of sigmoid neurons can approximate any
continuous function. The proof is a construction, and this module is that
construction: every function returns the *weights* of a network, and one
function, :func:`evaluate`, runs any of them. The pages, the tests and the
interactive figures (``book/_static/widgets/universality.js``, a line-by-line
port checked against shared test vectors) all use the same formulas.

The pieces, smallest first:

* a **step neuron** :math:`\sigma(w(x - s))`: with a large weight ``w`` it is
  (almost) a step from 0 to 1 at :math:`x = s = -b/w`;
* a **bump** of height ``h`` on ``[s1, s2]``: two step neurons with output
  weights ``+h`` and ``-h``;
* a **tower** in ``m`` dimensions: ``2m`` step neurons feeding a sigmoid with
  weights ``±h`` and bias :math:`(-m + 1/2)h`;
* **approximations** of a function by ``N`` bumps (1-D) or ``N x N`` towers
  (2-D), with the chapter's two refinements: the :math:`\sigma^{-1}` trick for
  a sigmoid output neuron, and ``M`` shifted copies, each approximating
  :math:`\sigma^{-1}\circ f / M`, to repair the windows where steps fail.

Conventions: weights are ``(n_out, n_in)`` and biases ``(n_out, 1)`` as in
:class:`nndl_core.network.Network`; inputs are rows ``(n_samples, n_in)``.
Used in chap4.
"""

from dataclasses import dataclass

import numpy as np

from .activations import sigmoid

__all__ = [
    "ACTIVATIONS",
    "STEP_WEIGHT",
    "TOWER_WEIGHT",
    "Net",
    "approximate_1d",
    "approximate_2d",
    "bump_net",
    "bumps_net",
    "design_error",
    "design_solution",
    "evaluate",
    "goal_function",
    "goal_function_2d",
    "grid_towers_net",
    "logit",
    "parallel_sum",
    "relu",
    "relu_interpolant",
    "shifted_edges",
    "sigmoid_like",
    "single_neuron",
    "step_layer",
    "step_net",
    "sup_error",
    "tower_net",
    "weighted_steps_net",
]

STEP_WEIGHT = 1000.0
"""The book's first-layer weight for a step neuron (so ``b = -1000 s``)."""

TOWER_WEIGHT = 100.0
"""Default weight ``h`` of a tower neuron; its bias is ``-3h/2`` in 2-D.

The book only asks for "large" ``h`` (its picture uses ``h = 10``). A grid of
``N x N`` towers needs more: a point on the plateau of about ``2N`` towers
collects ``2N`` leaks of :math:`\\sigma(-h/2)` each, so ``h = 100`` (leak
``2e-22``) keeps that sum negligible.
"""

DESIGN_EDGES = np.linspace(0.0, 1.0, 6)
"""The book's design challenge: 5 bumps with steps at 0, 0.2, ..., 1.0."""


def goal_function(x):
    r"""The chapter's goal function, the book's eq. (113).

    :math:`f(x) = 0.2 + 0.4x^2 + 0.3x\sin 15x + 0.05\cos 50x` on [0, 1].

    (The recap later in the book drops the factor
    ``x`` in the sine term; the book's figures use it, and so do we).

    Examples
    --------
    >>> print(f"{goal_function(0.0):.2f} {goal_function(1.0):.4f}")
    0.25 0.8433
    """
    x = np.asarray(x, dtype=np.float64)
    return 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def goal_function_2d(points):
    r"""A smooth hill on the unit square, used for the 2-D constructions.

    :math:`f(x, y) = 0.25 + 0.45\,e^{-8[(x - 0.35)^2 + (y - 0.6)^2]} + 0.2xy`,
    with values in (0.25, 0.75), so the sigmoid output trick applies.

    Parameters
    ----------
    points : ndarray of shape (n, 2)

    Returns
    -------
    ndarray of shape (n,)
    """
    x, y = np.asarray(points, dtype=np.float64).T
    r2 = (x - 0.35) ** 2 + (y - 0.6) ** 2
    return 0.25 + 0.45 * np.exp(-8 * r2) + 0.2 * x * y


def logit(y):
    r"""The inverse sigmoid :math:`\sigma^{-1}(y) = \ln(y / (1 - y))` for ``0 < y < 1``.

    Raises
    ------
    ValueError
        If some ``y`` lies outside the open interval (0, 1), where
        :math:`\sigma^{-1}` is undefined: a sigmoid output neuron cannot
        produce such a value, so use ``output="linear"`` instead.

    Examples
    --------
    >>> print(f"{logit(0.5):.1f} {logit(sigmoid(2.0)):.6f}")
    0.0 2.000000
    """
    y = np.asarray(y, dtype=np.float64)
    if np.any((y <= 0.0) | (y >= 1.0)):
        raise ValueError(
            "logit needs values strictly between 0 and 1; a sigmoid output "
            "neuron cannot reach the others (use output='linear')"
        )
    return np.log(y) - np.log1p(-y)


def relu(z):
    """Rectified linear unit ``max(0, z)``, elementwise (the book's eq. (112))."""
    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)


def sigmoid_like(z):
    r"""The chapter's non-sigmoid activation.

    :math:`s(z) = \sigma(z) + 0.2\sin(10z)e^{-|z|}`.

    It wiggles, but its limits at :math:`\mp\infty` are 0 and 1, which is all
    the step construction needs.
    """
    z = np.asarray(z, dtype=np.float64)
    return sigmoid(z) + 0.2 * np.sin(10 * z) * np.exp(-np.abs(z))


def _linear(z):
    return np.asarray(z, dtype=np.float64)


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "linear": _linear,
    "relu": relu,
    "sigmoid_like": sigmoid_like,
}
"""Activation functions by name, as :class:`Net` stores them."""


@dataclass(frozen=True, eq=False)
class Net:
    """The plain weights of a feedforward network.

    Attributes
    ----------
    weights : tuple of ndarray
        ``weights[l]`` has shape ``(n_out, n_in)`` (the book's :math:`w^{l+2}`).
    biases : tuple of ndarray
        ``biases[l]`` has shape ``(n_out, 1)``.
    activations : tuple of str
        ``activations[l]`` names the function of layer ``l`` (a key of
        :data:`ACTIVATIONS`); a ``"linear"`` last layer outputs ``z`` itself.
    """

    weights: tuple
    biases: tuple
    activations: tuple

    @property
    def n_inputs(self):
        """Number of inputs (columns of the first weight matrix)."""
        return self.weights[0].shape[1]

    @property
    def n_outputs(self):
        """Number of output neurons."""
        return self.weights[-1].shape[0]

    @property
    def n_hidden(self):
        """Neurons per hidden layer, as a tuple."""
        return tuple(w.shape[0] for w in self.weights[:-1])

    def to_dict(self):
        """JSON-ready lists (what the browser widgets exchange with the tests)."""
        return {
            "weights": [w.tolist() for w in self.weights],
            "biases": [b.ravel().tolist() for b in self.biases],
            "activations": list(self.activations),
        }


def _layer(w, b, n_out=None):
    w = np.atleast_2d(np.asarray(w, dtype=np.float64))
    b = np.asarray(b, dtype=np.float64).reshape(-1, 1)  # (n_out, 1)
    if b.shape[0] == 1 and w.shape[0] > 1:
        b = np.repeat(b, w.shape[0], axis=0)
    return w, b


def evaluate(net, x, chunk_size=2048):
    r"""Feed inputs forward: :math:`a^{l} = \phi_l(w^l a^{l-1} + b^l)` layer by layer.

    Parameters
    ----------
    net : Net
    x : ndarray of shape (n_samples,) or (n_samples, n_in)
        One input per row; a 1-D array is read as ``n_in = 1``.
    chunk_size : int
        Inputs are pushed through in chunks to bound memory.

    Returns
    -------
    ndarray of shape (n_samples,) if the net has one output, else (n_samples, n_out)

    Examples
    --------
    >>> net = step_net(0.4)
    >>> print(evaluate(net, [0.3, 0.5]).round(6))
    [0. 1.]
    """
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(-1, 1) if x.ndim == 1 else x  # (n_samples, n_in)
    if x.shape[1] != net.n_inputs:
        raise ValueError(f"net has {net.n_inputs} inputs, x has {x.shape[1]}")
    out = np.empty((x.shape[0], net.n_outputs))
    for start in range(0, x.shape[0], chunk_size):
        a = x[start : start + chunk_size].T  # examples as columns
        for w, b, name in zip(net.weights, net.biases, net.activations, strict=True):
            a = ACTIVATIONS[name](w @ a + b)
        out[start : start + chunk_size] = a.T
    return out[:, 0] if net.n_outputs == 1 else out


def single_neuron(w, b, activation="sigmoid"):
    r"""One hidden neuron :math:`\phi(w \cdot x + b)` feeding a linear output.

    ``w`` is a number (one input) or a sequence (one weight per input).
    """
    return Net(
        (np.atleast_2d(np.asarray(w, dtype=np.float64)), np.array([[1.0]])),
        (np.array([[float(b)]]), np.zeros((1, 1))),
        (activation, "linear"),
    )


def step_layer(positions, axes=None, n_in=1, step_weight=STEP_WEIGHT):
    r"""A hidden layer of step neurons :math:`\sigma(w(x_{a_j} - s_j))`.

    Parameters
    ----------
    positions : array_like of shape (n_steps,)
        Step positions :math:`s_j`; the bias is :math:`b_j = -w s_j`, so
        :math:`s_j = -b_j / w`.
    axes : array_like of shape (n_steps,), optional
        Which input each neuron looks at (default: input 0).
    n_in : int
        Number of inputs.
    step_weight : float
        The weight :math:`w`; sigma climbs from 0.02 to 0.98 over about :math:`8/w`.

    Returns
    -------
    w : ndarray of shape (n_steps, n_in)
    b : ndarray of shape (n_steps, 1)
    """
    positions = np.asarray(positions, dtype=np.float64).ravel()
    axes = np.zeros(positions.size, int) if axes is None else np.asarray(axes, int)
    w = np.zeros((positions.size, n_in))
    w[np.arange(positions.size), axes] = step_weight
    return w, (-step_weight * positions).reshape(-1, 1)


def weighted_steps_net(
    positions,
    weights,
    *,
    axes=None,
    n_in=1,
    step_weight=STEP_WEIGHT,
    output_bias=0.0,
    output="linear",
):
    r"""One hidden layer of step neurons and an output :math:`\phi(\sum_j v_j a_j + c)`.

    Parameters
    ----------
    positions, axes, n_in, step_weight
        As in :func:`step_layer`.
    weights : array_like of shape (n_steps,) or (n_out, n_steps)
        Output weights :math:`v_j`.
    output_bias : float or array_like of shape (n_out,)
        The output bias :math:`c`.
    output : {"linear", "sigmoid"}
        The output activation :math:`\phi`.

    Returns
    -------
    Net
    """
    w_hidden, b_hidden = step_layer(positions, axes, n_in, step_weight)
    w_out, b_out = _layer(weights, output_bias)
    return Net((w_hidden, w_out), (b_hidden, b_out), ("sigmoid", output))


def step_net(s, step_weight=STEP_WEIGHT):
    """A single step at ``s``: :math:`\\sigma(w(x - s))`, output weight 1."""
    return weighted_steps_net([s], [1.0], step_weight=step_weight)


def bumps_net(intervals, heights, *, step_weight=STEP_WEIGHT, output="linear"):
    r"""Bumps :math:`\sum_k h_k [\sigma(w(x - s_k)) - \sigma(w(x - t_k))]`.

    Each bump is a pair of step neurons with output weights :math:`+h_k` and
    :math:`-h_k`: the first switches on at :math:`s_k`, the second cancels it
    at :math:`t_k`.

    Parameters
    ----------
    intervals : array_like of shape (n_bumps, 2)
        The pairs :math:`(s_k, t_k)`.
    heights : array_like of shape (n_bumps,) or (n_out, n_bumps)
    step_weight : float
    output : {"linear", "sigmoid"}

    Returns
    -------
    Net with ``2 * n_bumps`` hidden neurons (ordered s_1, t_1, s_2, t_2, ...)
    """
    intervals = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    heights = np.atleast_2d(np.asarray(heights, dtype=np.float64))  # (n_out, n_bumps)
    signed = np.stack([heights, -heights], axis=-1).reshape(heights.shape[0], -1)
    return weighted_steps_net(
        intervals.ravel(), signed, step_weight=step_weight, output=output
    )


def bump_net(s1, s2, h, step_weight=STEP_WEIGHT):
    """One bump of height ``h`` on ``[s1, s2]`` (see :func:`bumps_net`)."""
    return bumps_net([[s1, s2]], [h], step_weight=step_weight)


def tower_net(intervals, tower_weight=TOWER_WEIGHT, step_weight=STEP_WEIGHT):
    r"""A tower of height about 1 on a box in ``m`` dimensions, with one hidden layer.

    Input :math:`i` gets a bump on :math:`[s_i, t_i]` with weights :math:`\pm h`.
    Inside the box all ``m`` bumps are on and the output neuron sees
    :math:`mh`; anywhere else at most :math:`(m-1)h`. The bias
    :math:`(-m + 1/2)h` sits halfway, so with a large ``h`` the sigmoid output
    is :math:`\sigma(h/2) \approx 1` inside and :math:`\le \sigma(-h/2)
    \approx 0` outside (for ``m = 2`` the bias is the book's :math:`-3h/2`).

    Parameters
    ----------
    intervals : array_like of shape (m, 2)
        ``[s_i, t_i]`` for each input.
    tower_weight : float
        The weight ``h``.
    step_weight : float

    Returns
    -------
    Net with ``2m`` hidden neurons and a sigmoid output
    """
    intervals = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    m = intervals.shape[0]
    return weighted_steps_net(
        intervals.ravel(),
        np.tile([tower_weight, -tower_weight], m),
        axes=np.repeat(np.arange(m), 2),
        n_in=m,
        step_weight=step_weight,
        output_bias=(-m + 0.5) * tower_weight,
        output="sigmoid",
    )


def grid_towers_net(
    edges, heights, *, tower_weight=TOWER_WEIGHT, step_weight=STEP_WEIGHT
):
    r"""Towers on every cell of a 2-D grid, summed with weights: two hidden layers.

    Layer 1 holds one step neuron per x-edge and per y-edge (shared by the
    towers that use it). Layer 2 holds one tower neuron per cell ``(i, j)``:
    :math:`\sigma(h[a^x_i - a^x_{i+1} + a^y_j - a^y_{j+1}] - 3h/2)`. The linear
    output is :math:`\sum_{ij} H_{ij} \cdot \mathrm{tower}_{ij}`.

    Parameters
    ----------
    edges : pair of array_like, shapes (n_x + 1,) and (n_y + 1,)
        Increasing x-edges and y-edges of the cells.
    heights : array_like of shape (n_x, n_y) or (n_out, n_x, n_y)
    tower_weight, step_weight : float

    Returns
    -------
    Net with layers (n_x + n_y + 2) -> (n_x n_y) -> n_out, linear output
    """
    x_edges, y_edges = (np.asarray(e, dtype=np.float64) for e in edges)
    nx, ny = x_edges.size - 1, y_edges.size - 1
    w1, b1 = step_layer(
        np.concatenate([x_edges, y_edges]),
        np.repeat([0, 1], [nx + 1, ny + 1]),
        n_in=2,
        step_weight=step_weight,
    )
    i, j = (
        idx.ravel() for idx in np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    )
    cell = np.arange(nx * ny)
    w2 = np.zeros((nx * ny, nx + ny + 2))
    w2[cell, i], w2[cell, i + 1] = tower_weight, -tower_weight
    w2[cell, nx + 1 + j], w2[cell, nx + 2 + j] = tower_weight, -tower_weight
    b2 = np.full((nx * ny, 1), -1.5 * tower_weight)
    h = np.asarray(heights, dtype=np.float64).reshape(-1, nx * ny)  # (n_out, cells)
    return Net(
        (w1, w2, h),
        (b1, b2, np.zeros((h.shape[0], 1))),
        ("sigmoid", "sigmoid", "linear"),
    )


def _block_diag(blocks):
    rows = sum(b.shape[0] for b in blocks)
    out = np.zeros((rows, sum(b.shape[1] for b in blocks)))
    r = c = 0
    for b in blocks:
        out[r : r + b.shape[0], c : c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def parallel_sum(nets, output="linear"):
    r"""One network computing :math:`\phi(\sum_m \mathrm{net}_m(x))`.

    The nets must share their inputs, depth and number of outputs, and have
    linear outputs (their weighted sums are what we add). The hidden layers
    are placed side by side; the first layers read the same inputs.

    Parameters
    ----------
    nets : sequence of Net
    output : {"linear", "sigmoid"}
        The activation :math:`\phi` applied to the sum.

    Returns
    -------
    Net
    """
    first = np.concatenate([n.weights[0] for n in nets], axis=0)
    inner = [
        _block_diag([n.weights[l] for n in nets])
        for l in range(1, len(nets[0].weights) - 1)
    ]
    last = np.concatenate([n.weights[-1] for n in nets], axis=1)
    biases = [
        np.concatenate([n.biases[l] for n in nets])
        for l in range(len(nets[0].biases) - 1)
    ]
    out_bias = sum(n.biases[-1] for n in nets)
    activations = nets[0].activations[:-1] + (output,)
    return Net((first, *inner, last), (*biases, out_bias), activations)


def shifted_edges(a, b, n_bins, shift=0.0):
    r"""Bin edges for one copy of an ``n_bins``-bump approximation on ``[a, b]``.

    The interior edges are :math:`a + (k + \text{shift})\Delta` with
    :math:`\Delta = (b - a)/n_{bins}`, kept when strictly inside ``(a, b)``;
    the outer edges sit half a bin outside the interval, at
    :math:`a - \Delta/2` and :math:`b + \Delta/2`, so that no imperfect step
    lies on the interval's ends (there a step neuron is only half on).

    Parameters
    ----------
    a, b : float
    n_bins : int
    shift : float in [0, 1)
        Offset of the interior edges, as a fraction of a bin.

    Returns
    -------
    ndarray of shape (n_bins + 1,) if shift == 0, else (n_bins + 2,)

    Examples
    --------
    >>> print(shifted_edges(0.0, 1.0, 4))
    [-0.125  0.25   0.5    0.75   1.125]
    >>> print(shifted_edges(0.0, 1.0, 4, shift=0.5))
    [-0.125  0.125  0.375  0.625  0.875  1.125]
    """
    width = (b - a) / n_bins
    first = 1 if shift == 0 else 0
    interior = a + (np.arange(first, n_bins) + shift) * width
    return np.concatenate([[a - width / 2], interior, [b + width / 2]])


def _target(f, output):
    """What the hidden layer must produce: f, or logit(f) for a sigmoid output."""
    if output == "sigmoid":
        return lambda x: logit(f(x))
    if output == "linear":
        return f
    raise ValueError(f"output must be 'sigmoid' or 'linear', not {output!r}")


def approximate_1d(
    f,
    n_bumps,
    *,
    interval=(0.0, 1.0),
    step_weight=STEP_WEIGHT,
    n_shifts=1,
    output="sigmoid",
):
    r"""Weights of a one-hidden-layer net approximating ``f`` on an interval by bumps.

    Copy :math:`m = 0, \dots, M-1` cuts the interval into ``n_bumps`` bins
    (:func:`shifted_edges` with shift :math:`m/M`) and puts on each bin a bump
    whose height is :math:`g/M` at the bin's midpoint, where :math:`g = f`
    (linear output) or :math:`g = \sigma^{-1}\circ f` (sigmoid output, the
    chapter's inverted-function trick). The copies are added in one hidden
    layer: a point in a failure window of one copy is, for narrow windows, in
    no other copy's, so the failure costs at most :math:`\max|g|/M`.

    Parameters
    ----------
    f : callable
        Maps an ndarray of shape (n,) to shape (n,) or (n, n_out).
        With ``output="sigmoid"`` its values must lie in (0, 1).
    n_bumps : int
        Bumps per copy, ``N``.
    interval : (float, float)
    step_weight : float
        First-layer weight of every step neuron.
    n_shifts : int
        Number of shifted copies ``M`` (1: the plain construction).
    output : {"sigmoid", "linear"}

    Returns
    -------
    Net with one hidden layer of :math:`2(NM + M - 1)` sigmoid neurons

    Examples
    --------
    >>> net = approximate_1d(goal_function, 50, step_weight=5000.0)
    >>> x = np.linspace(0, 1, 1001)
    >>> print(f"{np.abs(evaluate(net, x) - goal_function(x)).max():.3f}")
    0.062
    """
    a, b = interval
    target = _target(f, output)
    copies = []
    for m in range(n_shifts):
        edges = shifted_edges(a, b, n_bumps, m / n_shifts)
        mids = np.clip((edges[:-1] + edges[1:]) / 2, a, b)
        heights = np.asarray(target(mids), dtype=np.float64) / n_shifts  # (bins[, out])
        pairs = np.column_stack([edges[:-1], edges[1:]])
        copies.append(bumps_net(pairs, heights.T, step_weight=step_weight))
    return parallel_sum(copies, output)


def approximate_2d(
    f,
    n_towers,
    *,
    square=((0.0, 1.0), (0.0, 1.0)),
    step_weight=STEP_WEIGHT,
    tower_weight=TOWER_WEIGHT,
    n_shifts=1,
    output="sigmoid",
):
    r"""Weights of a net approximating ``f(x, y)`` by ``n_towers x n_towers`` towers.

    The 2-D analogue of :func:`approximate_1d`, built as the book builds it:
    step neurons, then one tower neuron per cell (:func:`grid_towers_net`),
    then an output neuron adding the towers with heights :math:`g/M`. Copies
    are shifted diagonally by :math:`m/M` of a cell. Where four cells meet,
    all four towers are off (each sees only half of its x- and y-bumps); the
    shifted copies keep that loss below :math:`\max|g|/M`.

    Parameters
    ----------
    f : callable
        Maps an ndarray of shape (n, 2) to shape (n,) or (n, n_out).
    n_towers : int
        Towers per side, ``N``.
    square : ((float, float), (float, float))
        The x- and y-intervals.
    step_weight, tower_weight : float
    n_shifts : int
        Number of shifted copies ``M``.
    output : {"sigmoid", "linear"}

    Returns
    -------
    Net with two hidden layers
    """
    target = _target(f, output)
    copies = []
    for m in range(n_shifts):
        edges = [shifted_edges(lo, hi, n_towers, m / n_shifts) for lo, hi in square]
        mids = [
            np.clip((e[:-1] + e[1:]) / 2, lo, hi) for e, (lo, hi) in zip(edges, square)
        ]
        mx, my = np.meshgrid(*mids, indexing="ij")  # (n_x, n_y)
        values = np.asarray(target(np.column_stack([mx.ravel(), my.ravel()])))
        heights = values.reshape(mx.shape[0], mx.shape[1], -1) / n_shifts
        copies.append(
            grid_towers_net(
                edges,
                np.moveaxis(heights, -1, 0),
                tower_weight=tower_weight,
                step_weight=step_weight,
            )
        )
    return parallel_sum(copies, output)


def sup_error(net, f, x):
    r"""Sup-norm error :math:`\max_i |\mathrm{net}(x_i) - f(x_i)|` on a grid x."""
    return float(np.max(np.abs(evaluate(net, x) - np.asarray(f(x)))))


def _design_samples():
    x = np.arange(100) / 100  # x = 0, 0.01, ..., 0.99, as the book's widget
    return x, np.arange(100) // 20  # bin of each x: steps at 0, 0.2, ..., 1


def design_error(heights, f=goal_function):
    r"""The design challenge's score, the "average deviation".

    :math:`\frac{1}{100}\sum_x |\sigma^{-1}(f(x)) - h_{\text{bin}(x)}|`

    Sums over :math:`x = 0, 0.01, \dots, 0.99`; ``h`` are the 5 bump
    heights on [0, 0.2], ..., [0.8, 1] (the book's widget; it asks for 0.40
    or less). The steps count as exact here, as in the book's widget.

    Examples
    --------
    >>> print(f"{design_error(np.zeros(5)):.4f}")
    1.0553
    """
    x, bins = _design_samples()
    return float(np.mean(np.abs(logit(f(x)) - np.asarray(heights)[bins])))


def design_solution(f=goal_function):
    """The heights minimising :func:`design_error`: each bin's median of logit(f).

    A median minimises a sum of absolute deviations, so no 5 heights score
    better. Returns an ndarray of shape (5,).
    """
    x, bins = _design_samples()
    target = logit(f(x))
    return np.array([np.median(target[bins == k]) for k in range(5)])


def relu_interpolant(f, n_pieces, interval=(0.0, 1.0)):
    r"""One hidden layer of ReLUs realising the piecewise-linear interpolant of ``f``.

    With knots :math:`x_k = a + k\Delta` and slopes :math:`m_k` of the pieces,
    :math:`g(x) = f(a) + \sum_k (m_k - m_{k-1})\,\mathrm{relu}(x - x_k)`
    (:math:`m_{-1} = 0`): each ReLU bends the line by the change of slope.
    On ``[a, b]`` the error is at most :math:`\Delta^2 \max|f''| / 8`.

    Returns
    -------
    Net with ``n_pieces`` ReLU hidden neurons and a linear output
    """
    a, b = interval
    knots = np.linspace(a, b, n_pieces + 1)
    values = np.asarray(f(knots), dtype=np.float64)
    slopes = np.diff(values) / np.diff(knots)
    bends = np.diff(np.concatenate([[0.0], slopes]))
    return Net(
        (np.ones((n_pieces, 1)), bends.reshape(1, -1)),
        (-knots[:-1].reshape(-1, 1), np.array([[values[0]]])),
        ("relu", "linear"),
    )
