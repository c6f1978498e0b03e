"""Figure helpers shared by the pages.

Used in chap1 (digits, network diagrams, the sigmoid, gradient descent on a
bowl, learning curves) and later chapters. Every function builds and returns
a :class:`matplotlib.figure.Figure`; pages display it. Matplotlib is imported
inside the functions, so importing ``nndl_core`` never needs it (install
``nndl-core[plot]``). Figures are drawn on a white background so that they
read in the site's light and dark modes.
"""

import numpy as np

__all__ = [
    "digit_mosaic",
    "draw_layers",
    "draw_network",
    "plot_accuracy_curves",
    "plot_descent_bowl",
    "plot_feature_quarters",
    "plot_step_and_sigmoid",
    "show_digits",
]

INK = "#1f2933"  # text and outlines
ACCENT = "#c2410c"  # highlighted edges and the book's numbers
NEURON_FACE = "#f5f7fa"
EDGE = "#9aa5b1"  # unhighlighted connections and guide lines
SECOND = "#1d4ed8"  # a second curve or highlight beside ACCENT
FAINT = "#c7ccd1"  # ghosted neurons and background guides
_CENTRED = dict(ha="center", va="center", color=INK)  # text in a node
_PATH = dict(color=ACCENT, marker="o", markersize=4, lw=1.5)  # descent steps


def _new_axes(ax, figsize):
    """Return ``(fig, ax)``: the figure of ``ax``, or a new figure with one axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, facecolor="white")
    return fig, ax


def _as_square(image):
    """A flat image of 784 pixels (or any square number) as a 2-D array."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return image
    side = int(round(np.sqrt(image.size)))
    if side * side != image.size:
        raise ValueError(f"an image of {image.size} pixels is not square")
    return image.reshape(side, side)  # rows of the picture, top row first


def show_digits(images, titles=None, *, ncols=None, scale=1.1):
    """Draw digits side by side, one axes per digit, in rows of ``ncols``.

    Parameters
    ----------
    images : array_like of shape (n, 784) or (n, 28, 28)
        Pixel intensities, 0 = white background, 1 = black ink.
    titles : sequence of str, optional
        One title per digit (for example its label).
    ncols : int, optional
        Digits per row; all in one row by default.
    scale : float
        Inches per digit.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(images)`` axes with one image each (spare axes of the last row are
        removed).
    """
    import matplotlib.pyplot as plt

    images = [_as_square(image) for image in images]
    n = len(images)
    ncols = n if ncols is None else ncols
    nrows = -(-n // ncols)  # ceiling division
    lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles else 0
    height = scale * nrows * (1.0 + 0.22 * lines)  # room for each row's titles
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(scale * ncols, height), facecolor="white", squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        if i >= n:
            fig.delaxes(ax)
            continue
        ax.imshow(images[i], cmap="gray_r", vmin=0.0, vmax=1.0)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i], fontsize=9, color=INK)
    fig.tight_layout()
    return fig


def digit_mosaic(images, nrows=10, ncols=10, *, scale=0.45, ax=None):
    """Tile ``nrows * ncols`` digits into a single picture, row by row.

    Parameters
    ----------
    images : array_like of shape (n, 784), n >= nrows * ncols
    nrows, ncols : int
    scale : float
        Inches per digit.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes holding one image.
    """
    tiles = np.stack([_as_square(image) for image in images[: nrows * ncols]])
    if len(tiles) < nrows * ncols:
        raise ValueError(f"need {nrows * ncols} images, got {len(tiles)}")
    side = tiles.shape[1]
    # (nrows*ncols, s, s) -> (nrows, s, ncols, s) -> one (nrows*s, ncols*s) picture
    mosaic = tiles.reshape(nrows, ncols, side, side).transpose(0, 2, 1, 3)
    mosaic = mosaic.reshape(nrows * side, ncols * side)
    fig, ax = _new_axes(ax, (scale * ncols, scale * nrows))
    ax.imshow(mosaic, cmap="gray_r", vmin=0.0, vmax=1.0)
    ax.set_axis_off()
    return fig


def plot_feature_quarters(image, *, scale=1.6):
    """A digit cut into quarters: the top-left quarter, the other three, the whole.

    This is the picture behind the "feature detector" intuition: a hidden
    neuron might respond to one part of a digit, and the output neuron for a
    digit combines such parts. The cut goes through the centre of the
    digit's ink (its bounding box), not of the image, since MNIST digits are
    centred by their centre of mass and sit off-centre in their box.

    Parameters
    ----------
    image : array_like of shape (784,) or (28, 28)
    scale : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes with one image each, titled, with dotted lines along the cut.
    """
    import matplotlib.pyplot as plt

    picture = _as_square(image)
    rows, cols = np.nonzero(picture > 0)
    if rows.size:  # centre of the ink's bounding box
        row, col = (
            (rows.min() + rows.max() + 1) // 2,
            (cols.min() + cols.max() + 1) // 2,
        )
    else:
        row = col = picture.shape[0] // 2
    top_left = np.zeros_like(picture)
    top_left[:row, :col] = picture[:row, :col]
    others = picture - top_left
    fig, axes = plt.subplots(1, 3, figsize=(3 * scale, 1.25 * scale), facecolor="white")
    panels = [
        (top_left, "top-left quarter"),
        (others, "the other three"),
        (picture, "the whole digit"),
    ]
    for ax, (data, title) in zip(axes, panels):
        ax.imshow(data, cmap="gray_r", vmin=0.0, vmax=1.0)
        ax.axhline(row - 0.5, color=EDGE, lw=0.8, ls=":")  # the cut
        ax.axvline(col - 0.5, color=EDGE, lw=0.8, ls=":")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=9, color=INK)
    fig.tight_layout()
    return fig


def plot_step_and_sigmoid(z_max=5.0):
    """The step function of a perceptron beside the sigmoid :math:`\\sigma(z)`.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, each with one curve, titled "step function" and "sigmoid
        function", both with the x label ``z``.
    """
    import matplotlib.pyplot as plt

    from .activations import sigmoid

    z = np.linspace(-z_max, z_max, 401)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 2.8), facecolor="white")
    left.step(z, (z > 0).astype(float), where="post", color=INK)
    left.set_title("step function")
    right.plot(z, sigmoid(z), color=INK)
    right.set_title("sigmoid function")
    for ax in (left, right):
        ax.set_xlabel("z")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def draw_network(nodes, edges, *, highlight=(), ax=None, figsize=(6, 3), radius=0.28):
    """Draw a small network (or a circuit of gates) from positions and links.

    Parameters
    ----------
    nodes : mapping of str to tuple
        ``name -> (x, y, label)`` or ``name -> (x, y, label, kind)`` where
        ``kind`` is ``"neuron"`` (a circle, the default), ``"text"`` (the
        label alone: inputs and outputs) or ``"box"`` (a rounded box, for a
        question or a gate).
    edges : sequence of tuple
        ``(source, target)`` or ``(source, target, label)``; a labelled edge
        carries its label (a weight, say) near its middle.
    highlight : collection of tuple
        ``(source, target)`` pairs drawn in the accent colour.
    ax : matplotlib.axes.Axes, optional
    figsize : tuple of float
    radius : float
        Circle radius in data units (the axes use equal scaling).

    Returns
    -------
    matplotlib.figure.Figure
        One axes, with one arrow per edge and one text per non-empty label.
    """
    from matplotlib.patches import Circle, FancyArrowPatch

    fig, ax = _new_axes(ax, figsize)
    ax.set_aspect("equal")
    ax.set_axis_off()
    shapes = {}
    for name, spec in nodes.items():
        x, y, label, kind = (*spec, "neuron")[:4]
        if kind == "neuron":
            shapes[name] = Circle((x, y), radius, facecolor=NEURON_FACE, edgecolor=INK)
            ax.add_patch(shapes[name])
            ax.text(x, y, label, fontsize=10, **_CENTRED)
        else:
            box = (
                dict(boxstyle="round,pad=0.35", facecolor=NEURON_FACE, edgecolor=INK)
                if kind == "box"
                else dict(boxstyle="round,pad=0.2", facecolor="none", edgecolor="none")
            )
            shapes[name] = ax.text(x, y, label, fontsize=10, bbox=box, **_CENTRED)
    for edge in edges:
        source, target, label = (*edge, None)[:3]
        (x0, y0), (x1, y1) = nodes[source][:2], nodes[target][:2]
        colour = ACCENT if (source, target) in highlight else INK
        arrow = FancyArrowPatch(
            (x0, y0), (x1, y1), patchA=_patch(shapes[source]),
            patchB=_patch(shapes[target]), arrowstyle="-|>", mutation_scale=10,
            color=colour, lw=1.0, shrinkA=2, shrinkB=2,
            zorder=4,  # drawn after the texts, whose boxes clip it
        )  # fmt: skip
        ax.add_patch(arrow)
        if label:
            x, y = 0.55 * x0 + 0.45 * x1, 0.55 * y0 + 0.45 * y1 + 0.12
            ax.text(x, y, label, ha="center", va="bottom", fontsize=9, color=colour)
    xs = [spec[0] for spec in nodes.values()]
    ys = [spec[1] for spec in nodes.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    return fig


def _patch(shape):
    """The patch an arrow should stop at: a circle, or a text's bounding box."""
    return shape if hasattr(shape, "contains_point") else shape.get_bbox_patch()


def draw_layers(
    sizes, *, layer_names=None, max_shown=8, highlight=None, edge_label=None,
    output_label=None, ax=None, figsize=None,
):  # fmt: skip
    """Draw a fully connected feedforward network, one column per layer.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first. A layer with more than ``max_shown``
        neurons is drawn with ``max_shown`` of them and a vertical ellipsis.
    layer_names : sequence of str, optional
        A caption under each column ("input layer", "784 inputs", ...).
    highlight : tuple of int, optional
        ``(l, j, k)``: draw the edge from neuron ``k`` of layer ``l`` to neuron
        ``j`` of layer ``l + 1`` in the accent colour, labelled ``edge_label``.
    output_label : str, optional
        Draw an arrow out of every output neuron, and this text after the
        last one (for example "output").
    ax : matplotlib.axes.Axes, optional
    figsize : tuple of float, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes; one line per drawn edge, one circle patch per drawn neuron.
    """
    from matplotlib.patches import Circle

    shown = [min(n, max_shown) for n in sizes]
    width = 2.4 * (len(sizes) - 1) + (3.6 if output_label is not None else 1.6)
    height = 0.75 * max(shown) + (1.7 if layer_names else 1.0)
    figsize = figsize or (0.6 * width + 0.6, 0.6 * height)  # about 0.6 inch per unit
    fig, ax = _new_axes(ax, figsize)
    ax.set_aspect("equal")
    ax.set_axis_off()
    gap, radius = 0.75, 0.22
    positions = []
    for l, (n, m) in enumerate(zip(sizes, shown)):  # noqa: E741 (book's l)
        ys = (np.arange(m) - (m - 1) / 2)[::-1] * gap
        if n > m:  # leave a gap for the ellipsis above the last neuron
            ys[-1] -= 0.5 * gap
            ax.text(2.4 * l, ys[-1] + 0.75 * gap, "⋮", fontsize=13, **_CENTRED)
        positions.append([(2.4 * l, y) for y in ys])
    for l in range(len(sizes) - 1):  # noqa: E741
        for k, (x0, y0) in enumerate(positions[l]):
            for j, (x1, y1) in enumerate(positions[l + 1]):
                hot = highlight == (l, j, k)
                style = (
                    dict(color=ACCENT, lw=2.0, zorder=2)
                    if hot
                    else dict(color=EDGE, lw=0.6, zorder=1)
                )
                ax.plot([x0, x1], [y0, y1], **style)
                if hot and edge_label:
                    x, y = (x0 + x1) / 2, (y0 + y1) / 2 + 0.15
                    above_edge = dict(ha="center", va="bottom", color=ACCENT)
                    ax.text(x, y, edge_label, fontsize=10, **above_edge)
    for column in positions:
        for x, y in column:
            ax.add_patch(
                Circle((x, y), radius, facecolor=NEURON_FACE, edgecolor=INK, zorder=3)
            )
    if output_label is not None:
        for x, y in positions[-1]:
            arrow = dict(arrowstyle="-|>", color=INK, lw=1.0)
            ax.annotate("", xy=(x + 1.0, y), xytext=(x + radius, y), arrowprops=arrow)
        x, y = positions[-1][-1]
        ax.text(
            x + 1.1, y, output_label, ha="left", va="center", fontsize=10, color=INK
        )
    low = min(y for column in positions for _, y in column)
    for l, name in enumerate(layer_names or []):  # noqa: E741
        ax.text(2.4 * l, low - 0.6, name, ha="center", va="top", fontsize=9, color=INK)
    right = 2.4 * (len(sizes) - 1) + (2.6 if output_label is not None else 0.6)
    ax.set_xlim(-1.0, right)
    ax.set_ylim(low - (1.2 if layer_names else 0.5), -low + 0.5)
    return fig


def plot_descent_bowl(path, *, extent=2.2):
    """The bowl :math:`C(v_1, v_2) = v_1^2 + v_2^2` with a gradient-descent path.

    Parameters
    ----------
    path : array_like of shape (steps, 2)
        Successive positions :math:`v` of gradient descent, starting point first.
    extent : float
        The surface is drawn for :math:`|v_1|, |v_2| \\le` ``extent``.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the 3-D surface with the path on it, and the same path seen
        from above over the contour lines of :math:`C`. Each holds one line
        (the path, with markers).
    """
    import matplotlib.pyplot as plt

    path = np.asarray(path, dtype=np.float64)
    grid = np.linspace(-extent, extent, 61)
    v1, v2 = np.meshgrid(grid, grid)
    cost = v1**2 + v2**2
    fig = plt.figure(figsize=(9, 4), facecolor="white")
    bowl = fig.add_subplot(1, 2, 1, projection="3d", computed_zorder=False)
    surface = dict(cmap="Blues", alpha=0.5, linewidth=0, rstride=2, cstride=2)
    bowl.plot_surface(v1, v2, cost, zorder=1, **surface)
    lifted = path[:, 0] ** 2 + path[:, 1] ** 2 + 0.05  # a hair above the surface
    bowl.plot(path[:, 0], path[:, 1], lifted, zorder=10, **_PATH)
    bowl.set_xlabel("$v_1$")
    bowl.set_ylabel("$v_2$")
    bowl.set_zlabel("$C$")
    bowl.view_init(elev=30, azim=-60)
    above = fig.add_subplot(1, 2, 2)
    levels = np.arange(0.5, 2 * extent**2, 1.0)
    contours = above.contour(v1, v2, cost, levels=levels, cmap="Blues", linewidths=0.8)
    above.clabel(contours, fontsize=7, fmt="%.1f")
    above.plot(path[:, 0], path[:, 1], label="gradient-descent steps", **_PATH)
    above.set_aspect("equal")
    above.set_xlabel("$v_1$")
    above.set_ylabel("$v_2$")
    above.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_accuracy_curves(
    curves, *, book_points=None, book_label="the book", ax=None, ylim=None,
    title=None, figsize=(7, 3.6),
):  # fmt: skip
    """Accuracy after each epoch, one line per run, with the book's numbers as markers.

    Epochs are numbered from 0, as in the book's transcripts ("Epoch 0" is the
    score after the first pass over the training data).

    Parameters
    ----------
    curves : mapping of str to sequence of float
        ``label -> accuracy after each epoch`` (fractions in [0, 1]).
    book_points : mapping of int to float, optional
        ``epoch -> accuracy`` the book prints; drawn as markers, no line.
    ax : matplotlib.axes.Axes, optional
    ylim : tuple of float, optional
        Limits of the accuracy axis, in percent.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One line per curve (plus one marker line for the book), y axis in percent.
    """
    from matplotlib.ticker import MaxNLocator

    fig, ax = _new_axes(ax, figsize)
    for label, accuracy in curves.items():
        accuracy = 100 * np.asarray(accuracy, dtype=np.float64)
        ax.plot(np.arange(len(accuracy)), accuracy, lw=1.3, label=label)
    if book_points:
        epochs = sorted(book_points)
        percent = [100 * book_points[e] for e in epochs]
        book_style = dict(ls="none", marker="D", color=ACCENT, markersize=6, zorder=5)
        ax.plot(epochs, percent, label=book_label, **book_style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
