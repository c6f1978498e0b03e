"""Figures for chap6: structure diagrams, learned filters, feature maps, digits.

The ``draw_*`` functions draw the architecture of a convolutional network
(local receptive fields, feature maps, max-pooling, the whole network); the
``plot_*`` functions show what a trained one holds or does. Every function
returns a Matplotlib figure drawn on white (so it reads in the site's dark
mode too) and imports Matplotlib inside, so importing ``nndl_core`` never
needs it.
"""

import numpy as np

__all__ = [
    "draw_convnet",
    "draw_feature_map_layer",
    "draw_max_pooling",
    "draw_receptive_field",
    "plot_digits",
    "plot_feature_maps",
    "plot_filters",
    "plot_progression",
]


def _grid(n, columns):
    import matplotlib.pyplot as plt

    rows = int(np.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.1 * rows))
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def plot_filters(w, columns=10):
    """Show first-layer filters ``w`` (f, 1, k, k); darker = larger weight."""
    fig, axes = _grid(len(w), columns)
    for ax, f in zip(axes, w, strict=False):
        ax.imshow(f[0], cmap="Greys", interpolation="nearest")
    fig.tight_layout()
    return fig


def plot_feature_maps(image, maps, columns=10):
    """An input digit (28 x 28) followed by its feature maps (f, h, w)."""
    fig, axes = _grid(len(maps) + 1, columns)
    axes[0].imshow(image.reshape(28, 28), cmap="Greys")
    axes[0].set_title("input", fontsize=8)
    for ax, fmap in zip(axes[1:], maps, strict=False):
        ax.imshow(fmap, cmap="viridis", interpolation="nearest")
    fig.tight_layout()
    return fig


def plot_digits(images, top_right=None, bottom_right=None, columns=8):
    """Digits (n, 784) with optional labels in the top and bottom right corners."""
    fig, axes = _grid(len(images), columns)
    for i, (ax, image) in enumerate(zip(axes, images, strict=False)):
        ax.imshow(np.asarray(image).reshape(28, 28), cmap="Greys", vmin=0, vmax=1)
        if top_right is not None:
            ax.text(27, 3, str(top_right[i]), color="tab:blue", ha="right", fontsize=9)
        if bottom_right is not None:
            ax.text(
                27, 26, str(bottom_right[i]), color="tab:red", ha="right", fontsize=9
            )
    fig.tight_layout()
    return fig


def plot_progression(labels, ours, book, full=None):
    """Test accuracy of each step: ours (and a full-profile run) beside the book's."""
    import matplotlib.pyplot as plt

    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    ax.plot(x, 100 * np.asarray(book, dtype=float), "o-", label="the book (full runs)")
    ax.plot(x, 100 * np.asarray(ours, dtype=float), "s-", label="ours, this build")
    if full is not None and any(v is not None for v in full):
        values = [np.nan if v is None else 100 * v for v in full]
        ax.plot(x, values, "^", label="ours, full profile (cached)")
    ax.set_xticks(x, labels, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --- structure diagrams: neurons as the cells of square grids, to scale ------------
#
# One unit of length is one neuron, so a 24 x 24 feature map is drawn a little
# smaller than the 28 x 28 input and a pooled 12 x 12 map half as tall. Every
# diagram has one axes; each grid is one Rectangle plus a LineCollection.

_GAP = 14  # horizontal space between two layers, in neurons


def _new_diagram(width, height, ax, scale=0.07):
    """``(fig, ax)``: equal aspect, no axes, a white figure (readable in dark mode)."""
    from .plotting import _new_axes

    fig, ax = _new_axes(ax, (scale * width, scale * height))
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def _draw_grid(ax, x, y, n, *, label=None):
    """An ``n x n`` grid of neurons with its lower-left corner at ``(x, y)``."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Rectangle

    from .plotting import EDGE, INK, NEURON_FACE

    ax.add_patch(
        Rectangle((x, y), n, n, facecolor=NEURON_FACE, edgecolor=INK, lw=0.9, zorder=1)
    )
    ticks = np.arange(1, n)
    lines = [[(x + t, y), (x + t, y + n)] for t in ticks]
    lines += [[(x, y + t), (x + n, y + t)] for t in ticks]
    ax.add_collection(LineCollection(lines, colors=EDGE, linewidths=0.25, zorder=1))
    if label:
        ax.text(x + n / 2, y - 1.5, label, ha="center", va="top", fontsize=8, color=INK)


def _cells(x, y, n, row, col, size):
    """Corners (x0, y0, x1, y1) of the ``size x size`` block at ``(row, col)``.

    Rows count from the top of the grid, as in an image.
    """
    top = y + n
    return x + col, top - row - size, x + col + size, top - row


def _highlight(ax, corners):
    """Fill the block ``corners`` in the accent colour."""
    from matplotlib.patches import Rectangle

    from .plotting import ACCENT

    x0, y0, x1, y1 = corners
    ax.add_patch(
        Rectangle(
            (x0, y0), x1 - x0, y1 - y0, facecolor=ACCENT, alpha=0.45,
            edgecolor=ACCENT, lw=1.2, zorder=2,
        )
    )  # fmt: skip


def _beam(ax, source, target):
    """A translucent band from block ``source``'s right side to ``target``'s left."""
    from matplotlib.patches import Polygon

    from .plotting import ACCENT

    sx0, sy0, sx1, sy1 = source
    tx0, ty0, tx1, ty1 = target
    corners = [(sx1, sy1), (tx0, ty1), (tx0, ty0), (sx1, sy0)]
    ax.add_patch(Polygon(corners, closed=True, facecolor=ACCENT, alpha=0.15, lw=0))
    for (ax0, ay0), (ax1, ay1) in ((corners[0], corners[1]), (corners[3], corners[2])):
        ax.plot([ax0, ax1], [ay0, ay1], color=ACCENT, lw=0.8, zorder=2)


def draw_receptive_field(positions=((0, 0),), *, size=28, field=5, hidden=True):
    """The input as a ``size x size`` grid, one local receptive field highlighted.

    With ``hidden``, each field is joined to the neuron of the first hidden
    layer that looks at it (a ``(size - field + 1)``-square grid); one row
    per entry of ``positions``, so ``((0, 0), (0, 1))`` shows the field at
    the top left and then slid one pixel to the right.

    Parameters
    ----------
    positions : sequence of (row, column)
        Top-left input pixel of each field, counted from the top left.
    size, field : int
        Side of the input image and of the field (28 and 5 in the book).
    hidden : bool
        Draw the hidden layer and the connection.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per position, each with one highlighted Rectangle per grid.
    """
    import matplotlib.pyplot as plt

    n_hidden = size - field + 1
    width = size + (_GAP + n_hidden if hidden else 0) + 2
    fig, axes = plt.subplots(
        len(positions), 1, figsize=(0.085 * width, 0.085 * (size + 6) * len(positions)),
        facecolor="white", squeeze=False,
    )  # fmt: skip
    for ax, (row, col) in zip(axes[:, 0], positions, strict=True):
        if not (0 <= row <= size - field and 0 <= col <= size - field):
            raise ValueError(
                f"position {(row, col)} puts the {field}x{field} field outside "
                f"the {size}x{size} image: use 0 .. {size - field}"
            )
        ax.set_aspect("equal")
        ax.set_axis_off()
        _draw_grid(ax, 0, 0, size, label=f"input neurons ({size} × {size})")
        source = _cells(0, 0, size, row, col, field)
        _highlight(ax, source)
        if hidden:
            x, y = size + _GAP, (size - n_hidden) / 2
            label = f"first hidden layer ({n_hidden} × {n_hidden})"
            _draw_grid(ax, x, y, n_hidden, label=label)
            target = _cells(x, y, n_hidden, row, col, 1)
            _highlight(ax, target)
            _beam(ax, source, target)
        ax.set_xlim(-1, width - 1)
        ax.set_ylim(-6, size + 1)
    fig.tight_layout()
    return fig


def _map_column(n_maps, side, height):
    """Lower-left y of ``n_maps`` grids of ``side``, centred in ``height``."""
    gap = 0.25 * side
    total = n_maps * side + (n_maps - 1) * gap
    bottom = (height - total) / 2
    return [bottom + (n_maps - 1 - i) * (side + gap) for i in range(n_maps)]


def _draw_stack(ax, x, ys, side, row, col, size, label):
    """Grids of ``side`` at ``x`` and each y of ``ys``; block (row, col) highlighted.

    Returns the corners of each highlighted block.
    """
    from .plotting import INK

    blocks = []
    for y in ys:
        _draw_grid(ax, x, y, side)
        blocks.append(_cells(x, y, side, row, col, size))
        _highlight(ax, blocks[-1])
    ax.text(
        x + side / 2, min(ys) - 1.5, label, ha="center", va="top", fontsize=8, color=INK
    )
    return blocks


def _draw_outputs(ax, x, n_outputs, height, label):
    """A column of ``n_outputs`` neurons centred in ``height``; their centres."""
    from matplotlib.patches import Circle

    from .plotting import INK, NEURON_FACE

    gap = min(4.0, height / n_outputs)
    centres = [
        (x, height / 2 + (k - (n_outputs - 1) / 2) * gap) for k in range(n_outputs)
    ]
    for cx, cy in centres:
        ax.add_patch(
            Circle((cx, cy), 0.35 * gap, facecolor=NEURON_FACE, edgecolor=INK, zorder=3)
        )
    low = min(cy for _, cy in centres) - 0.35 * gap
    ax.text(x, low - 1.5, label, ha="center", va="top", fontsize=8, color=INK)
    return centres


def _dense(ax, sources, targets):
    """A thin line from every point of ``sources`` to every point of ``targets``."""
    from matplotlib.collections import LineCollection

    from .plotting import EDGE

    lines = [[source, target] for source in sources for target in targets]
    ax.add_collection(LineCollection(lines, colors=EDGE, linewidths=0.4, zorder=0))


def draw_feature_map_layer(n_maps=3, *, size=28, field=5, position=(0, 0)):
    """The input and ``n_maps`` feature maps, each fed by the same receptive field.

    Every map has its own shared weights and bias, so the same 5 x 5 field
    feeds one neuron of each map.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: one grid per layer and map.
    """
    side = size - field + 1
    height = n_maps * side + (n_maps - 1) * 0.25 * side
    fig, ax = _new_diagram(size + _GAP + side + 2, height + 8, None)
    y_in = (height - size) / 2
    row, col = position
    _draw_grid(ax, 0, y_in, size, label=f"input neurons ({size} × {size})")
    source = _cells(0, y_in, size, row, col, field)
    _highlight(ax, source)
    label = f"{n_maps} feature maps ({n_maps} × {side} × {side})"
    ys = _map_column(n_maps, side, height)
    for target in _draw_stack(ax, size + _GAP, ys, side, row, col, 1, label):
        _beam(ax, source, target)
    ax.set_xlim(-1, size + _GAP + side + 1)
    ax.set_ylim(-7, height + 1)
    return fig


def draw_max_pooling(*, side=24, pool=2, position=(0, 0)):
    """One feature map and its max-pooled map: each ``pool x pool`` block -> one neuron.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with the two grids and the highlighted block and neuron.
    """
    pooled = side // pool
    fig, ax = _new_diagram(side + _GAP + pooled + 2, side + 8, None)
    row, col = position
    _draw_grid(ax, 0, 0, side, label=f"hidden neurons ({side} × {side})")
    source = _cells(0, 0, side, pool * row, pool * col, pool)
    _highlight(ax, source)
    x, y = side + _GAP, (side - pooled) / 2
    _draw_grid(ax, x, y, pooled, label=f"max-pooling ({pooled} × {pooled})")
    target = _cells(x, y, pooled, row, col, 1)
    _highlight(ax, target)
    _beam(ax, source, target)
    ax.set_xlim(-1, side + _GAP + pooled + 1)
    ax.set_ylim(-7, side + 1)
    return fig


def draw_convnet(
    n_maps=3, *, shown_maps=None, n_hidden=None, n_outputs=10, size=28, field=5,
    pool=2, outputs=True,
):  # fmt: skip
    """A convolutional network: input, conv maps, pooled maps, [dense], outputs.

    Parameters
    ----------
    n_maps : int
        Feature maps of the convolutional layer (the labels say this many).
    shown_maps : int, optional
        How many of them to draw (default all); the rest are an ellipsis.
    n_hidden : int, optional
        A fully connected layer of this many neurons before the outputs
        (drawn as 8 neurons and an ellipsis).
    n_outputs : int
        Output neurons (10 digits).
    size, field, pool : int
        Input side, receptive-field side, pooling side (28, 5, 2).
    outputs : bool
        False stops after the pooling layer (the conv-pool pair on its own).

    Returns
    -------
    matplotlib.figure.Figure
        One axes; a grid per map, a circle per drawn neuron.
    """
    from .plotting import INK

    shown = min(n_maps, shown_maps or n_maps)
    side, small = size - field + 1, (size - field + 1) // pool
    height = shown * side + (shown - 1) * 0.25 * side
    x_maps = size + _GAP
    x_pool = x_maps + side + _GAP
    width = x_pool + small + 2
    if outputs:
        width += _GAP + 4 + (_GAP + 4 if n_hidden else 0)
    fig, ax = _new_diagram(width, height + 9, None, scale=0.055)
    y_in = (height - size) / 2
    _draw_grid(ax, 0, y_in, size, label=f"{size} × {size} input neurons")
    source = _cells(0, y_in, size, 0, 0, field)
    _highlight(ax, source)
    ys = _map_column(shown, side, height)
    label = f"{n_maps} × {side} × {side} neurons"
    maps = _draw_stack(ax, x_maps, ys, side, 0, 0, pool, label)
    y_small = [y + (side - small) / 2 for y in ys]
    label = f"{n_maps} × {small} × {small} neurons"
    pooled = _draw_stack(ax, x_pool, y_small, small, 0, 0, 1, label)
    for y, block, target in zip(ys, maps, pooled, strict=True):
        _beam(ax, source, _cells(x_maps, y, side, 0, 0, 1))
        _beam(ax, block, target)
    if shown < n_maps:
        below = min(ys) - 6
        ax.text(x_maps + side / 2, below, "⋮", ha="center", fontsize=12, color=INK)
    if outputs:
        x = x_pool + small + _GAP + 2
        sources = [(x_pool + small, y + small / 2) for y in y_small]
        if n_hidden:
            label = f"{n_hidden} neurons"
            centres = _draw_outputs(ax, x, min(n_hidden, 8), height, label)
            _dense(ax, sources, centres)
            sources, x = centres, x + _GAP + 4
        centres = _draw_outputs(ax, x, n_outputs, height, f"{n_outputs} outputs")
        _dense(ax, sources, centres)
    ax.set_xlim(-1, width)
    ax.set_ylim(-8, height + 1)
    return fig
