"""Figures for chap3's second half: starting weights, descent steps, other neurons.

Used in chap3: the hidden neuron with 1,000 inputs whose weighted input
:math:`z` the weight initialization section studies, the distribution of
that :math:`z`, gradient descent stepping into a valley or overshooting it,
momentum building up speed down a slope, and the shapes of the tanh and
rectified linear neurons.

Every function returns a :class:`matplotlib.figure.Figure` drawn on a white
background (so it reads in the site's light and dark modes); matplotlib is
imported inside the functions. The descent pictures are computed, not drawn
by hand: :func:`descent_path` runs the momentum rule (the book's eqs.
107-108) on a one-variable cost, and the figures plot its steps.
"""

import numpy as np

from .plotting import ACCENT, INK, NEURON_FACE, SECOND
from .plotting import EDGE as FAINT

__all__ = [
    "descent_path",
    "plot_activation",
    "plot_init_network",
    "plot_momentum",
    "plot_overshoot",
    "plot_weighted_input",
]


def _axes(figsize, ncols=1):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=figsize, facecolor="white")
    return fig, np.atleast_1d(axes)


def plot_init_network(n_inputs=1_000, n_drawn=10):
    """One hidden neuron fed by ``n_inputs`` inputs, half of them 1 and half 0.

    ``n_drawn`` input neurons are drawn (an ellipsis stands for the rest);
    the upper half are filled (input 1), the lower half empty (input 0).

    Returns
    -------
    matplotlib.figure.Figure
        One axes without axis lines: ``n_drawn + 1`` circles and
        ``n_drawn`` connections.
    """
    from matplotlib.patches import Circle

    if n_drawn < 2 or n_drawn % 2:
        raise ValueError(f"n_drawn must be an even number >= 2, got {n_drawn}")
    fig, (ax,) = _axes((5.2, 3.6))
    radius, gap = 0.16, 0.42
    ys = [
        gap * (n_drawn / 2 - j) + (0.25 if j < n_drawn // 2 else -0.25)
        for j in range(n_drawn)
    ]  # a gap in the middle for the ellipsis
    hidden = (3.2, 0.0)
    for j, y in enumerate(ys):
        on = j < n_drawn // 2
        ax.plot([radius, hidden[0] - 0.3], [y, hidden[1]], color=FAINT, lw=0.8)
        ax.add_patch(
            Circle(
                (0, y),
                radius,
                facecolor=INK if on else NEURON_FACE,
                edgecolor=INK,
                lw=1.2,
                zorder=3,
            )
        )
    ax.add_patch(
        Circle(hidden, 0.3, facecolor=NEURON_FACE, edgecolor=INK, lw=1.5, zorder=3)
    )
    ax.text(0, 0, "⋮", ha="center", va="center", fontsize=14, color=INK)
    half = n_inputs // 2
    ax.text(
        -0.35,
        np.mean(ys[: n_drawn // 2]),
        f"{half:,} inputs\n$x_j = 1$",
        ha="right",
        va="center",
        color=INK,
        fontsize=10,
    )
    ax.text(
        -0.35,
        np.mean(ys[n_drawn // 2 :]),
        f"{n_inputs - half:,} inputs\n$x_j = 0$",
        ha="right",
        va="center",
        color=INK,
        fontsize=10,
    )
    ax.text(
        hidden[0],
        -0.5,
        r"$z = \sum_j w_j x_j + b$",
        ha="center",
        va="top",
        color=INK,
        fontsize=10,
    )
    ax.annotate(
        "",
        (hidden[0] + 0.9, 0),
        (hidden[0] + 0.3, 0),
        arrowprops=dict(arrowstyle="->", color=INK),
    )
    ax.set_xlim(-2.0, hidden[0] + 1.1)
    ax.set_ylim(min(ys) - 0.4, max(ys) + 0.4)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.tight_layout()
    return fig


def plot_weighted_input(sd, *, samples=None, z_max=30.0, y_max=None, label=None):
    r"""The normal density of :math:`z` with standard deviation ``sd``.

    Parameters
    ----------
    sd : float
        Standard deviation of :math:`z` (mean 0).
    samples : array_like, optional
        Values of :math:`z` drawn from real initialized networks, shown as a
        histogram behind the curve.
    z_max : float
        The axis runs from ``-z_max`` to ``z_max``.
    y_max : float, optional
        Top of the y axis (default: a little above the curve's peak).
    label : str, optional
        Legend text of the curve.

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose first line is the density on ``[-z_max, z_max]``.
    """
    if not sd > 0:
        raise ValueError(f"sd must be positive, got {sd}")
    fig, (ax,) = _axes((6.4, 2.8))
    z = np.linspace(-z_max, z_max, 1201)
    density = np.exp(-0.5 * (z / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
    ax.plot(
        z, density, color=SECOND, lw=2, label=label or f"normal density, sd = {sd:.3g}"
    )
    if samples is not None:
        samples = np.asarray(samples, dtype=np.float64)
        inside = samples[np.abs(samples) <= z_max]
        ax.hist(
            inside,
            bins=np.linspace(-z_max, z_max, 121),
            color=FAINT,
            weights=np.full(inside.size, 1 / (samples.size * z_max / 60)),
            label=f"{samples.size:,} neurons sampled",
        )
    ax.set_xlim(-z_max, z_max)
    ax.set_ylim(0, y_max or 1.15 * density.max())
    ax.set_xlabel("weighted input z")
    ax.set_ylabel("density")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def descent_path(grad, w0, eta, mu=0.0, steps=10):
    r"""Positions of gradient descent with momentum on a one-variable cost.

    The book's eqs. (107)-(108): :math:`v \to \mu v - \eta\, C'(w)`, then
    :math:`w \to w + v`, from :math:`v = 0`; ``mu = 0`` is plain gradient
    descent.

    Parameters
    ----------
    grad : callable
        :math:`C'(w)`.
    w0, eta, mu : float
    steps : int

    Returns
    -------
    ndarray of shape (steps + 1,)
        :math:`w` before the first step and after each step.

    Examples
    --------
    >>> descent_path(lambda w: 2 * w, 1.0, 0.25, steps=3).tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    w, v, path = float(w0), 0.0, [float(w0)]
    for _ in range(steps):
        v = mu * v - eta * grad(w)
        w = w + v
        path.append(w)
    return np.array(path)


def _valley(ax, cost, path, w_range, colour):
    """Draw ``cost`` over ``w_range`` and the steps of ``path`` on it."""
    w = np.linspace(*w_range, 400)
    ax.plot(w, cost(w), color=INK, lw=1.5)
    c = cost(path)
    for k in range(len(path) - 1):
        ax.annotate(
            "",
            (path[k + 1], c[k + 1]),
            (path[k], c[k]),
            arrowprops=dict(arrowstyle="->", color=colour, lw=1.3),
        )
    ax.plot(path, c, "o", color=colour, ms=5, zorder=3)
    ax.set_xlabel("w")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def plot_overshoot(eta_small=0.15, eta_large=1.05, steps=6):
    r"""Gradient descent on the valley :math:`C(w) = w^2`, with a small and a large η.

    Each step is :math:`w \to w - 2\eta w = (1 - 2\eta) w`: for
    :math:`\eta < 1/2` the steps go steadily down one side; for
    :math:`\eta > 1` every step jumps across the minimum to a higher point
    on the other side, and descent climbs out of the valley.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (small η left, large η right), each with the valley and
        ``steps + 1`` points.
    """
    fig, (left, right) = _axes((8, 3), ncols=2)
    for ax, eta, colour, w0 in (
        (left, eta_small, SECOND, -1.0),
        (right, eta_large, ACCENT, -0.5),
    ):
        path = descent_path(lambda w: 2 * w, w0, eta, steps=steps)
        reach = max(1.05, 1.1 * np.abs(path).max())
        _valley(ax, np.square, path, (-reach, reach), colour)
        ax.set_title(
            f"eta = {eta}: "
            + (
                "steps down into the valley"
                if eta < 0.5
                else "overshoots and climbs out"
            ),
            fontsize=10,
        )
        ax.set_ylabel("cost C")
    fig.tight_layout()
    return fig


def plot_momentum(eta=0.12, mu=0.8, steps=8):
    r"""A ball rolling down a slope: plain gradient descent against momentum.

    The cost :math:`C(w) = \ln\cosh w` is a straight slope far from its
    minimum at 0 (gradient :math:`\tanh w \approx 1`). Plain descent moves
    a fixed :math:`\eta` per step; with momentum the velocity builds up
    towards :math:`\eta/(1-\mu)` and the steps grow.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (plain descent left, momentum right), each with the slope
        and ``steps + 1`` points.
    """
    fig, (left, right) = _axes((8, 3), ncols=2)
    cost = lambda w: np.log(np.cosh(w))  # noqa: E731
    for ax, m, colour in ((left, 0.0, SECOND), (right, mu, ACCENT)):
        path = descent_path(np.tanh, -5.0, eta, mu=m, steps=steps)
        _valley(ax, cost, path, (-5.3, 1.0), colour)
        ax.set_title(
            "plain gradient descent" if m == 0 else f"momentum, mu = {m}", fontsize=10
        )
        ax.set_ylabel("cost C")
    fig.tight_layout()
    return fig


def plot_activation(name, z_max=5.0, compare_sigmoid=False):
    """The shape of one activation function of :mod:`nndl_core.activations`.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu"}
    z_max : float
        The curve is drawn on ``[-z_max, z_max]``.
    compare_sigmoid : bool
        Also draw the sigmoid, dashed.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; its first line is the activation.
    """
    from .activations import ACTIVATIONS, sigmoid

    if name not in ACTIVATIONS:
        raise ValueError(f"name must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    fig, (ax,) = _axes((5.2, 3))
    z = np.linspace(-z_max, z_max, 401)
    ax.plot(z, ACTIVATIONS[name](z), color=SECOND, lw=2, label=name)
    if compare_sigmoid:
        ax.plot(z, sigmoid(z), "--", color=FAINT, lw=1.5, label="sigmoid")
        ax.legend(fontsize=8)
    ax.axhline(0, color=INK, lw=0.6)
    ax.axvline(0, color=INK, lw=0.6)
    ax.set_xlabel("z")
    ax.set_title(f"{name} function", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
