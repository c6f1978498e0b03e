"""Figures for chap3: curves per epoch, per step or per training-set size.

Every function imports matplotlib inside (Agg backend in builds) and returns
the Figure, drawn on a white background so that it reads in the site's light
and dark modes. Diagrams (a neuron, dropout) use the palette of
:mod:`nndl_core.plotting`.
"""

import numpy as np

__all__ = [
    "draw_dropout",
    "draw_neuron",
    "plot_cost_and_accuracy",
    "plot_curves",
    "plot_monitors",
    "plot_more_data",
    "plot_neuron",
    "plot_polynomial_models",
    "plot_sigmoid_starts",
    "plot_softmax_states",
    "plot_training_and_test_accuracy",
]


def plot_curves(
    series, *, xlabel, ylabel, title=None, logx=False, ax=None, percent=False
):
    """Line plot of several named curves.

    Parameters
    ----------
    series : dict
        ``label -> (x, y)``; a label starting with "book" is drawn dashed.
    xlabel, ylabel, title : str
    logx : bool
        Logarithmic x axis (training-set sizes).
    percent : bool
        Multiply y by 100 (accuracies given as fractions).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    for label, (x, y) in series.items():
        y = [100 * v for v in y] if percent else list(y)
        style = "--" if label.startswith("book") else "-"
        marker = "o" if len(x) < 15 else None
        ax.plot(list(x), y, style, marker=marker, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.figure.tight_layout()
    return ax.figure


def plot_neuron(runs, keys, *, title):
    """Output and cost of the single neuron per step, for ``keys`` of ``runs``."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    for key in keys:
        left.plot(runs[key]["output"], label=key)
        right.plot(runs[key]["cost"], label=key)
    left.set(xlabel="step", ylabel="output a", ylim=(0, 1))
    right.set(xlabel="step", ylabel="cost")
    left.legend(fontsize=8)
    fig.suptitle(title)
    for a in (left, right):
        a.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _ghost_palette():
    """Colours of a deleted (dropped-out) neuron: a faint, dashed outline."""
    from .plotting import EDGE

    return dict(facecolor="white", edgecolor=EDGE, linestyle="--", alpha=0.9)


def draw_dropout(sizes=(4, 6, 6, 2), *, p_drop=0.5, seed=0):
    """A network before and after dropout deletes hidden neurons.

    Left: the full network. Right: the same network with a fraction
    ``p_drop`` of each hidden layer's neurons deleted for one mini-batch.
    The deleted neurons stay in the picture as dashed ghosts, without
    connections; the input and output layers are never touched.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first; at least one hidden layer.
    p_drop : float
        Probability that a hidden neuron is deleted; the drawing deletes
        ``round(p_drop * n)`` of the ``n`` neurons of each hidden layer.
    seed : int
        Chooses which neurons are deleted.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes. Each has one circle patch per neuron; the left one a line
        per connection of the full network, the right one a line per
        connection between surviving neurons. Ghost circles have a dashed
        outline.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    from .plotting import EDGE, INK, NEURON_FACE

    sizes = [int(n) for n in sizes]
    if len(sizes) < 3 or min(sizes) < 1:
        raise ValueError(f"sizes needs a hidden layer and positive sizes, got {sizes}")
    if not 0.0 <= p_drop < 1.0:
        raise ValueError(f"p_drop is a probability below 1, got {p_drop}")
    rng = np.random.default_rng(seed)
    dropped = [set()] + [
        set(rng.choice(n, size=round(p_drop * n), replace=False).tolist())
        for n in sizes[1:-1]
    ] + [set()]  # fmt: skip
    positions = [
        [(1.6 * l, 0.7 * ((n - 1) / 2 - j)) for j in range(n)]
        for l, n in enumerate(sizes)  # noqa: E741 (the book's l)
    ]
    height = 0.45 * max(sizes) + 0.9
    fig, axes = plt.subplots(
        1, 2, figsize=(2 * (1.0 * len(sizes) + 0.6), height), facecolor="white"
    )
    for ax, thinned in zip(axes, (False, True)):
        for l in range(len(sizes) - 1):  # noqa: E741
            for k, (x0, y0) in enumerate(positions[l]):
                for j, (x1, y1) in enumerate(positions[l + 1]):
                    if thinned and (k in dropped[l] or j in dropped[l + 1]):
                        continue
                    ax.plot([x0, x1], [y0, y1], color=EDGE, lw=0.7, zorder=1)
        for l, column in enumerate(positions):  # noqa: E741
            for j, (x, y) in enumerate(column):
                style = (
                    _ghost_palette()
                    if thinned and j in dropped[l]
                    else dict(facecolor=NEURON_FACE, edgecolor=INK)
                )
                ax.add_patch(Circle((x, y), 0.2, zorder=3, **style))
        ax.set_title(
            "after deleting half the hidden neurons" if thinned else "full network",
            fontsize=10,
            color=INK,
        )
        ax.set_aspect("equal")
        ax.set_axis_off()
        low = min(y for column in positions for _, y in column)
        ax.set_xlim(-0.5, 1.6 * (len(sizes) - 1) + 0.5)
        ax.set_ylim(low - 0.4, -low + 0.4)
    fig.tight_layout()
    return fig


def draw_neuron(inputs=("x_1", "x_2", "x_3"), *, output="a = \\sigma(z)"):
    """One sigmoid neuron: its inputs, a weight on each, its bias and its output.

    Parameters
    ----------
    inputs : sequence of str
        TeX for each input (without dollars), top first; a value such as
        ``"1"`` draws the one-input neuron of the slowdown example.
    output : str
        TeX for the output, written right of the neuron.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (drawn by :func:`nndl_core.plotting.draw_network`): one
        arrow per input and one for the output, the weights ``w`` (or
        ``w_j``) on the input arrows and ``b`` in the neuron.
    """
    from .plotting import draw_network

    n = len(inputs)
    if n < 1:
        raise ValueError("a neuron needs at least one input")
    nodes = {"neuron": (2.2, 0.0, "$b$"), "out": (4.3, 0.0, f"${output}$", "text")}
    edges = []
    for j, label in enumerate(inputs):
        name = f"x{j}"
        nodes[name] = (0.0, 0.9 * ((n - 1) / 2 - j), f"${label}$", "text")
        weight = "$w$" if n == 1 else f"$w_{j + 1}$"
        edges.append((name, "neuron", weight))
    edges.append(("neuron", "out"))
    return draw_network(nodes, edges, figsize=(4.6, 0.6 + 0.75 * max(n, 1.5)))


def plot_sigmoid_starts(starts):
    """The sigmoid with the neuron's starting points marked on it.

    Parameters
    ----------
    starts : mapping of str to float
        ``label -> z``: the weighted input ``z = w x + b`` of each start.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the curve :math:`\\sigma(z)` (the first line), then one
        marker line per start at :math:`(z, \\sigma(z))`, and a dotted tangent
        through each start whose slope is :math:`\\sigma'(z)`.
    """
    import matplotlib.pyplot as plt

    from .activations import sigmoid, sigmoid_prime
    from .plotting import ACCENT, EDGE, INK

    z = np.linspace(-6.0, 6.0, 401)
    fig, ax = plt.subplots(figsize=(6.0, 3.0), facecolor="white")
    ax.plot(z, sigmoid(z), color=INK, label=r"$\sigma(z)$")
    for (label, z0), colour in zip(starts.items(), (ACCENT, "#2563eb", "#15803d")):
        a0, slope = float(sigmoid(z0)), float(sigmoid_prime(z0))
        ax.plot([z0], [a0], "o", color=colour, label=f"{label}: a = {a0:.2f}")
        near = np.linspace(z0 - 1.2, z0 + 1.2, 2)
        ax.plot(near, a0 + slope * (near - z0), ":", color=colour, lw=1.5)
        ax.annotate(
            f"slope {slope:.3f}", (z0, a0), xytext=(z0 - 2.6, a0 + 0.08),
            fontsize=8, color=colour,
        )  # fmt: skip
    ax.axhline(1.0, color=EDGE, lw=0.6)
    ax.set(xlabel="z", ylabel="output a", ylim=(-0.05, 1.15))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_monitors(history, *, zoom_from=None):
    """The four curves a run monitors: training and test cost and accuracy.

    Parameters
    ----------
    history : mapping
        A ``History`` as a dict, with the lists ``training_cost``,
        ``evaluation_accuracy``, ``evaluation_cost`` and
        ``training_accuracy`` (one entry per epoch, accuracies as fractions).
    zoom_from : int, optional
        Draw the training cost and the test accuracy from this epoch on (the
        late epochs, where overfitting shows); the other two panels always
        start at epoch 0.

    Returns
    -------
    matplotlib.figure.Figure
        Four axes in the order training cost, test accuracy, test cost,
        training accuracy, each with one line (x: epoch, counted from 0).
    """
    import matplotlib.pyplot as plt

    from .plotting import INK

    panels = [
        ("training_cost", "training cost", True),
        ("evaluation_accuracy", "test accuracy (%)", True),
        ("evaluation_cost", "test cost", False),
        ("training_accuracy", "training accuracy (%)", False),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), facecolor="white")
    for ax, (key, label, zoomed) in zip(axes.ravel(), panels):
        values = np.asarray(history[key], dtype=float)
        if "accuracy" in key:
            values = 100 * values
        start = zoom_from if zoomed and zoom_from else 0
        epochs = np.arange(len(values))
        ax.plot(epochs[start:], values[start:], color=INK)
        ax.set(xlabel="epoch", title=label)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_polynomial_models(xs, ys, *, degree=None, slope=2.0):
    """Ten points, the polynomial through all of them, and a straight line.

    Parameters
    ----------
    xs, ys : array_like of shape (n,)
        The data points.
    degree : int, optional
        Degree of the fitted polynomial; ``n - 1`` (an exact fit) by default.
    slope : float
        The line drawn in the last panel is ``y = slope * x``.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes sharing their scales: the points alone; the points and the
        polynomial; the points and the line. Each axes' first line holds the
        points.
    """
    import matplotlib.pyplot as plt

    from .plotting import ACCENT, INK

    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    degree = len(xs) - 1 if degree is None else degree
    poly = np.polynomial.Polynomial.fit(xs, ys, degree)
    grid = np.linspace(xs.min() - 0.1, xs.max() + 0.1, 400)
    fig, axes = plt.subplots(
        1, 3, figsize=(10, 3.0), sharex=True, sharey=True, facecolor="white"
    )
    curves = [None, (poly(grid), f"degree-{degree} polynomial"), (slope * grid, None)]
    for ax, curve in zip(axes, curves):
        ax.plot(xs, ys, "o", color=INK, markersize=4)
        if curve is not None:
            values, label = curve
            label = label or f"y = {slope:g}x"
            ax.plot(grid, values, color=ACCENT, lw=1.5)
            ax.set_title(label, fontsize=10)
        else:
            ax.set_title("the data", fontsize=10)
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("y")
    low, high = ys.min(), ys.max()
    axes[0].set_ylim(low - 0.3 * (high - low), high + 0.3 * (high - low))
    fig.tight_layout()
    return fig


def plot_more_data(sizes, accuracies, *, book=None):
    """Accuracy against training-set size, on a linear and on a log axis.

    Parameters
    ----------
    sizes : sequence of int
        Training-set sizes.
    accuracies : sequence of float
        Accuracy (a fraction) of the network trained on each size.
    book : tuple, optional
        ``(sizes, accuracies)`` of the book's run, drawn dashed.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes with the same curves (ours first, then the book's); the
        second has a logarithmic x axis.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), facecolor="white")
    series = {"network (ours)": (sizes, accuracies)}
    if book is not None:
        series["book: network"] = book
    for ax, logx in zip(axes, (False, True)):
        plot_curves(
            series,
            xlabel="training images" + (" (log scale)" if logx else ""),
            ylabel="validation accuracy (%)",
            logx=logx,
            percent=True,
            ax=ax,
        )
    fig.tight_layout()
    return fig


def plot_softmax_states(states):
    """Bars of the softmax outputs for several settings of the weighted inputs.

    Parameters
    ----------
    states : sequence of array_like
        Each one vector of weighted inputs :math:`z^L_1, \\dots, z^L_m`.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per state, titled with its ``z``, holding one bar per output
        (height :math:`a^L_j`, the softmax of eq. (78) in the original) with
        its value written above it.
    """
    import matplotlib.pyplot as plt

    from .activations import softmax
    from .plotting import INK

    fig, axes = plt.subplots(
        1, len(states), figsize=(2.5 * len(states), 2.4), sharey=True,
        facecolor="white", squeeze=False,
    )  # fmt: skip
    for ax, z in zip(axes[0], states):
        a = softmax(np.asarray(z, dtype=float))
        positions = np.arange(1, len(a) + 1)
        ax.bar(positions, a, color="#2563eb")
        for j, value in zip(positions, a):
            ax.text(j, value + 0.02, f"{value:.3f}", ha="center", fontsize=8, color=INK)
        ax.set_title("z = " + ", ".join(f"{v:g}" for v in z), fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_xticks(positions)
    fig.tight_layout()
    return fig


def plot_cost_and_accuracy(histories):
    """Training cost and test accuracy per epoch of several runs, side by side.

    Parameters
    ----------
    histories : mapping of str to mapping
        ``label -> history``; each history (a ``History`` as a dict) holds the
        lists ``training_cost`` and ``evaluation_accuracy`` (a fraction).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, training cost then test accuracy (%), each with one line
        per run in the order given (x: epoch, counted from 0).
    """
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), facecolor="white")
    for label, history in histories.items():
        epochs = range(len(history["evaluation_accuracy"]))
        plot_curves(
            {label: (epochs, history["training_cost"])},
            xlabel="epoch",
            ylabel="training cost",
            ax=left,
        )
        plot_curves(
            {label: (epochs, history["evaluation_accuracy"])},
            xlabel="epoch",
            ylabel="test accuracy (%)",
            percent=True,
            ax=right,
        )
    fig.tight_layout()
    return fig


def plot_training_and_test_accuracy(histories):
    """Accuracy on the training and on the test images per epoch, one panel a run.

    Parameters
    ----------
    histories : mapping of str to mapping
        ``title -> history``; each history holds the lists
        ``training_accuracy`` and ``evaluation_accuracy`` (fractions).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per run, titled, sharing the y axis, each with two lines:
        training accuracy then test accuracy (%), against epoch counted from 1.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(histories), figsize=(5 * len(histories), 3.6), sharey=True,
        facecolor="white", squeeze=False,
    )  # fmt: skip
    for ax, (title, history) in zip(axes[0], histories.items()):
        epochs = range(1, len(history["evaluation_accuracy"]) + 1)
        plot_curves(
            {
                "training images": (epochs, history["training_accuracy"]),
                "test images": (epochs, history["evaluation_accuracy"]),
            },
            xlabel="epoch",
            ylabel="accuracy (%)",
            percent=True,
            title=title,
            ax=ax,
        )
    fig.tight_layout()
    return fig
