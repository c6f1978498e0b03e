"""Figure helpers for chapter 2 (backpropagation).

Used in chap2: the notation :math:`w^l_{jk}`, :math:`b^l_j`, :math:`a^l_j`; the
cost as a function of the output activations; the "demon" who nudges one
weighted input; :math:`\\partial C/\\partial w = a_{in} \\delta_{out}`; a weight
change spreading through the network; one path and its rate factors; and the
timing plot of finite differences against backprop.

Every function returns a :class:`matplotlib.figure.Figure` drawn on a white
background; matplotlib is imported inside the functions. Layers and neurons
are numbered from 1, as in the book's equations.
"""

import numpy as np

from .plotting import ACCENT, FAINT, INK, NEURON_FACE, SECOND

__all__ = [
    "plot_ain_dout",
    "plot_cost_of_outputs",
    "plot_demon",
    "plot_finite_diff_timings",
    "plot_path",
    "plot_perturbation",
    "plot_weight_notation",
]

LAYER_GAP = 2.4
NEURON_GAP = 1.0
RADIUS = 0.22


def _figure(ncols=1, figsize=(5, 3), nrows=1):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize, facecolor="white", squeeze=False
    )
    for ax in axes.ravel():
        ax.set_aspect("equal")
        ax.set_axis_off()
    return fig, list(axes.ravel())


def _positions(sizes):
    """``{(layer, neuron): (x, y)}`` with layers and neurons counted from 1."""
    return {
        (l + 1, j + 1): (
            l * LAYER_GAP,
            NEURON_GAP * ((n - 1) / 2 - j),
        )  # centred columns
        for l, n in enumerate(sizes)  # noqa: E741 (the book's l)
        for j in range(n)
    }


def _draw_layers(
    ax, sizes, *, edges=None, neurons=None, layer_names=None, names_below=False
):
    """Draw a fully connected network; return neuron positions.

    ``edges`` maps ``(layer, j, k)`` (the edge from neuron ``k`` of layer
    ``layer - 1`` to neuron ``j`` of ``layer``) to a colour; ``neurons`` maps
    ``(layer, j)`` to a face colour. Everything else is drawn faintly.
    """
    from matplotlib.patches import Circle

    edges, neurons = edges or {}, neurons or {}
    pos = _positions(sizes)
    for l in range(2, len(sizes) + 1):  # noqa: E741
        for j in range(1, sizes[l - 1] + 1):
            for k in range(1, sizes[l - 2] + 1):
                colour = edges.get((l, j, k))
                (x0, y0), (x1, y1) = pos[(l - 1, k)], pos[(l, j)]
                ax.plot(
                    [x0 + RADIUS, x1 - RADIUS],
                    [y0, y1],
                    color=colour or FAINT,
                    lw=2.2 if colour else 0.8,
                    zorder=2 if colour else 1,
                )
    for (l, j), (x, y) in pos.items():  # noqa: E741
        face = neurons.get((l, j), NEURON_FACE)
        ax.add_patch(
            Circle((x, y), RADIUS, facecolor=face, edgecolor=INK, lw=1.2, zorder=3)
        )
    if layer_names:
        ys = [y for _, y in pos.values()]
        y, va = (min(ys) - 0.6, "top") if names_below else (max(ys) + 0.7, "bottom")
        for l, name in enumerate(layer_names):  # noqa: E741
            ax.text(l * LAYER_GAP, y, name, ha="center", va=va, fontsize=10, color=INK)
    return pos


def _frame(ax, pos, pad=0.6, right=0.0, left=0.0, top=0.9, bottom=0.0):
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - pad - left, max(xs) + pad + right)
    ax.set_ylim(min(ys) - pad - bottom, max(ys) + pad + top)


def plot_weight_notation():
    """The notation :math:`w^l_{jk}` (left) and :math:`b^l_j`, :math:`a^l_j` (right).

    A [3, 4, 2] network. Left: the weight :math:`w^3_{24}` on the connection
    from the 4th neuron of layer 2 to the 2nd neuron of layer 3. Right: the
    bias :math:`b^2_3` and activation :math:`a^2_3` of the 3rd neuron in layer 2,
    and the activation :math:`a^3_1` of the 1st neuron in layer 3.
    """
    sizes = (3, 4, 2)
    names = ["layer 1", "layer 2", "layer 3"]
    fig, (left, right) = _figure(2, figsize=(9.5, 3.6))
    pos = _draw_layers(left, sizes, edges={(3, 2, 4): ACCENT}, layer_names=names)
    (x0, y0), (x1, y1) = pos[(2, 4)], pos[(3, 2)]
    left.annotate(
        r"$w^3_{24}$",
        xy=((x0 + x1) / 2, (y0 + y1) / 2),
        xytext=(x1 + 0.4, y0 - 0.6),
        fontsize=15,
        color=ACCENT,
        ha="left",
        va="center",
        arrowprops=dict(arrowstyle="->", color=ACCENT, lw=1.2),
    )
    left.text(
        x1 + 0.4,
        y0 - 1.2,
        "from neuron 4 in layer 2\nto neuron 2 in layer 3",
        fontsize=9,
        color=INK,
        ha="left",
        va="center",
    )
    _frame(left, pos, right=2.6, bottom=1.0)
    pos = _draw_layers(
        right, sizes, neurons={(2, 3): "#fde7d9", (3, 1): "#dbe4ff"}, layer_names=names
    )
    x, y = pos[(2, 3)]
    right.annotate(
        r"$b^2_3,\ a^2_3$",
        xy=(x, y - RADIUS),
        xytext=(x - 0.9, y - 1.3),
        fontsize=14,
        color=ACCENT,
        ha="center",
        va="center",
        arrowprops=dict(arrowstyle="->", color=ACCENT, lw=1.2),
    )
    x, y = pos[(3, 1)]
    right.annotate(
        r"$a^3_1$",
        xy=(x + RADIUS, y),
        xytext=(x + 1.0, y + 0.4),
        fontsize=14,
        color=SECOND,
        ha="left",
        va="center",
        arrowprops=dict(arrowstyle="->", color=SECOND, lw=1.2),
    )
    _frame(right, pos, right=1.8, bottom=1.0)
    fig.tight_layout()
    return fig


def plot_cost_of_outputs():
    """The cost :math:`C` sees the network only through the output activations."""
    from matplotlib.patches import FancyBboxPatch

    fig, (ax,) = _figure(1, figsize=(6.4, 3.0))
    pos = _draw_layers(ax, (4, 3), layer_names=["layer L - 1", "output layer L"])
    box_x, box_y = 2 * LAYER_GAP + 0.3, 0.0
    ax.add_patch(
        FancyBboxPatch(
            (box_x - 0.55, box_y - 0.4),
            1.4,
            0.8,
            boxstyle="round,pad=0.1",
            facecolor="#fde7d9",
            edgecolor=ACCENT,
            lw=1.4,
        )
    )
    ax.text(
        box_x + 0.15,
        box_y,
        r"$C(a^L)$",
        ha="center",
        va="center",
        fontsize=14,
        color=INK,
    )
    for j in (1, 2, 3):
        x, y = pos[(2, j)]
        ax.text(
            x - 0.05,
            y + 0.36,
            rf"$a^L_{j}$",
            ha="center",
            va="bottom",
            fontsize=11,
            color=SECOND,
        )
        ax.annotate(
            "",
            xy=(box_x - 0.62, box_y + 0.15 * (2 - j)),
            xytext=(x + RADIUS, y),
            arrowprops=dict(arrowstyle="->", color=INK, lw=1.1),
        )
    ax.text(
        box_x + 0.15,
        box_y - 0.75,
        "y is fixed",
        ha="center",
        va="top",
        fontsize=9,
        color=INK,
        style="italic",
    )
    _frame(ax, pos, right=3.4)
    fig.tight_layout()
    return fig


def plot_demon():
    """A demon at neuron :math:`j` of layer :math:`l` adds :math:`\\Delta z^l_j`."""
    sizes = (3, 4, 4, 2)
    fig, (ax,) = _figure(1, figsize=(7.2, 3.6))
    pos = _draw_layers(
        ax,
        sizes,
        neurons={(3, 2): "#fde7d9"},
        edges={(4, j, 2): ACCENT for j in (1, 2)},
        layer_names=["", "", "layer l", "layer L"],
        names_below=True,
    )
    x, y = pos[(3, 2)]
    ax.plot([x - 0.05], [y + 0.52], marker="*", markersize=16, color=ACCENT, zorder=4)
    ax.text(
        x - 0.05,
        y + 1.42,
        "demon:\n" + r"$z^l_j \to z^l_j + \Delta z^l_j$",
        ha="center",
        va="bottom",
        fontsize=10,
        color=ACCENT,
    )
    xo = pos[(4, 1)][0]
    ax.text(
        xo + 0.6,
        0.0,
        r"$\Delta C \approx \dfrac{\partial C}{\partial z^l_j}\,\Delta z^l_j$",
        ha="left",
        va="center",
        fontsize=13,
        color=INK,
    )
    _frame(ax, pos, right=2.8, top=1.8, bottom=0.8)
    fig.tight_layout()
    return fig


def plot_ain_dout():
    """One weight and the two neurons it joins (BP4 in short form).

    The drawing shows :math:`\\partial C/\\partial w = a_{in}\\delta_{out}`.
    """
    from matplotlib.patches import Circle

    fig, (ax,) = _figure(1, figsize=(5.2, 2.0))
    for x, face in ((0.0, "#dbe4ff"), (3.0, "#fde7d9")):
        ax.add_patch(
            Circle((x, 0), 0.32, facecolor=face, edgecolor=INK, lw=1.2, zorder=3)
        )
    ax.annotate(
        "",
        xy=(2.66, 0),
        xytext=(0.34, 0),
        arrowprops=dict(arrowstyle="->", color=INK, lw=1.6),
    )
    ax.text(1.5, 0.16, "$w$", ha="center", va="bottom", fontsize=14, color=INK)
    ax.text(
        0.0,
        -0.55,
        r"$a_{\mathrm{in}}$",
        ha="center",
        va="top",
        fontsize=14,
        color=SECOND,
    )
    ax.text(
        3.0,
        -0.55,
        r"$\delta_{\mathrm{out}}$",
        ha="center",
        va="top",
        fontsize=14,
        color=ACCENT,
    )
    ax.text(
        1.5,
        -1.35,
        r"$\dfrac{\partial C}{\partial w} = a_{\mathrm{in}}\,\delta_{\mathrm{out}}$",
        ha="center",
        va="top",
        fontsize=14,
        color=INK,
    )
    ax.set_xlim(-0.8, 3.8)
    ax.set_ylim(-2.4, 0.7)
    fig.tight_layout()
    return fig


def plot_perturbation():
    """Four stages of a weight change :math:`\\Delta w^l_{jk}` travelling to the cost.

    (a) the weight changes; (b) so does the activation :math:`a^l_j` of the
    neuron it feeds; (c) then every activation in layer :math:`l+1`; (d) and so
    on up to the output layer, and with it the cost :math:`C`.
    """
    sizes = (3, 4, 4, 3)
    titles = [
        r"(a) $\Delta w^l_{jk}$",
        r"(b) $\Delta a^l_j$",
        r"(c) $\Delta a^{l+1}$",
        r"(d) $\Delta a^L$ and $\Delta C$",
    ]
    fig, axes = _figure(2, figsize=(8.4, 5.6), nrows=2)
    touched = {(2, 2, 3): ACCENT}
    for stage, (ax, title) in enumerate(zip(axes, titles)):
        edges, neurons = dict(touched), {}
        if stage >= 1:
            neurons[(2, 2)] = "#fde7d9"
        if stage >= 2:
            edges.update({(3, q, 2): ACCENT for q in range(1, 5)})
            neurons.update({(3, q): "#fde7d9" for q in range(1, 5)})
        if stage >= 3:
            edges.update({(4, m, q): ACCENT for m in range(1, 4) for q in range(1, 5)})
            neurons.update({(4, m): "#fde7d9" for m in range(1, 4)})
        pos = _draw_layers(
            ax,
            sizes,
            edges=edges,
            neurons=neurons,
            layer_names=["$l-1$", "$l$", "$l+1$", "$L$"],
            names_below=True,
        )
        if stage >= 3:
            ax.text(
                pos[(4, 2)][0] + 0.9,
                0.0,
                r"$C$",
                fontsize=16,
                color=ACCENT,
                va="center",
            )
            for m in range(1, 4):
                x, y = pos[(4, m)]
                ax.annotate(
                    "",
                    xy=(x + 0.85, 0.0),
                    xytext=(x + RADIUS, y),
                    arrowprops=dict(arrowstyle="->", color=ACCENT, lw=1.0),
                )
        ax.set_title(title, fontsize=11, color=INK)
        _frame(ax, pos, right=1.2, top=0.3, bottom=0.7)
    fig.tight_layout()
    return fig


def plot_path():
    """One path from :math:`w^l_{jk}` to the cost, each step with its rate factor."""
    sizes = (3, 4, 4, 3)
    fig, (ax,) = _figure(1, figsize=(9.6, 4.2))
    path = [(1, 3), (2, 2), (3, 4), (4, 1)]  # k in l-1, j in l, q in l+1, m in L
    edges = {(b[0], b[1], a[1]): ACCENT for a, b in zip(path, path[1:])}
    pos = _draw_layers(
        ax,
        sizes,
        edges=edges,
        neurons={p: "#fde7d9" for p in path[1:]},
        layer_names=["layer l - 1", "layer l", "layer l + 1", "layer L"],
    )
    labels = [
        r"$\dfrac{\partial a^l_j}{\partial w^l_{jk}}$",
        r"$\dfrac{\partial a^{l+1}_q}{\partial a^l_j}$",
        r"$\dfrac{\partial a^L_m}{\partial a^{l+1}_q}$",
    ]
    offsets = [(-0.1, -0.75), (0.0, -0.85), (0.0, 0.95)]
    for (a, b), label, (dx, dy) in zip(zip(path, path[1:]), labels, offsets):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.text(
            (x0 + x1) / 2 + dx,
            (y0 + y1) / 2 + dy,
            label,
            ha="center",
            va="center",
            fontsize=12,
            color=ACCENT,
            bbox=dict(facecolor="white", edgecolor="none", pad=1.0),
            zorder=5,
        )
    for name, (layer, neuron) in zip("kjqm", path):
        x, y = pos[(layer, neuron)]
        ax.text(
            x,
            y,
            f"${name}$",
            ha="center",
            va="center",
            fontsize=10,
            color=INK,
            zorder=4,
        )
    x, y = pos[path[-1]]
    ax.annotate(
        "",
        xy=(x + 1.35, y),
        xytext=(x + RADIUS, y),
        arrowprops=dict(arrowstyle="->", color=ACCENT, lw=1.6),
    )
    ax.text(x + 1.45, y, "$C$", fontsize=16, color=ACCENT, va="center")
    ax.text(
        x + 0.75,
        y + 0.55,
        r"$\dfrac{\partial C}{\partial a^L_m}$",
        ha="center",
        va="bottom",
        fontsize=12,
        color=ACCENT,
    )
    _frame(ax, pos, right=2.0, top=1.1)
    fig.tight_layout()
    return fig


def plot_finite_diff_timings(rows):
    """Log-log timings of finite differences and backprop, and their ratio.

    Parameters
    ----------
    rows : list of dict
        The ``rows`` of the ``ch2.finite_diff_vs_backprop`` experiment: each
        with ``n_params``, ``t_forward``, ``t_backprop``, ``t_finite_diff`` and
        ``speedup``.

    Returns
    -------
    matplotlib.figure.Figure
        Left: seconds per gradient against the number of parameters. Right: the
        ratio finite differences / backprop, with a line proportional to the
        number of parameters for comparison.
    """
    import matplotlib.pyplot as plt

    n = np.array([r["n_params"] for r in rows], dtype=float)
    t_fd = np.array([r["t_finite_diff"] for r in rows])
    t_bp = np.array([r["t_backprop"] for r in rows])
    t_fw = np.array([r["t_forward"] for r in rows])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), facecolor="white")
    left.loglog(n, t_fd, "o-", color=ACCENT, label="finite differences, eq. (46)")
    left.loglog(n, t_bp, "s-", color=SECOND, label="backprop")
    left.loglog(n, t_fw, "^--", color=INK, label="one forward pass", alpha=0.7)
    left.set_xlabel("number of weights and biases")
    left.set_ylabel("seconds per gradient")
    left.legend(frameon=False, fontsize=9)
    ratio = t_fd / t_bp
    right.loglog(n, ratio, "o-", color=ACCENT, label="measured ratio")
    right.loglog(
        n, ratio[-1] * n / n[-1], ":", color=INK, label="proportional to the count"
    )
    right.set_xlabel("number of weights and biases")
    right.set_ylabel("finite differences / backprop")
    right.legend(frameon=False, fontsize=9)
    for ax in (left, right):
        ax.grid(True, which="major", color="#e5e7eb", lw=0.8)
        ax.set_facecolor("white")
    fig.tight_layout()
    return fig
