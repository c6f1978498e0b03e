"""The ImageNet network of Krizhevsky, Sutskever and Hinton (2012): data, diagram.

Used in chap6 ("Recent progress in image recognition"). The network is written
down once, as a table of layers (:data:`KSH_LAYERS`, from section 3.5 and
figure 2 of the KSH paper); the feature-map sizes, the parameter count and the
diagram are all computed from that table, so the numbers the page quotes and
the picture it shows cannot disagree.

The paper gives the input as 224 x 224 pixels, but the sizes it reports for
the first layer's maps (55 x 55, from 11 x 11 fields at stride 4) need a
227-pixel input: (227 - 11) / 4 + 1 = 55. :data:`INPUT_SIDE` is therefore 227,
which amounts to a 224-pixel image with a little padding.

Every plotting function returns a :class:`matplotlib.figure.Figure` drawn on
a white background; matplotlib is imported inside the functions.
"""

from dataclasses import dataclass

import numpy as np

from .plotting import ACCENT, INK, SECOND

__all__ = [
    "INPUT_SIDE",
    "KSH_LAYERS",
    "Layer",
    "count_parameters",
    "feature_map_sides",
    "plot_ksh_architecture",
]

GPU_FACES = ("#dbeafe", "#ffedd5")  # GPU 1 (blue), GPU 2 (orange)
GPU_EDGES = (SECOND, ACCENT)

POOL_SIZE, POOL_STRIDE = 3, 2  # KSH's overlapping max-pooling

#: Side of the input image in pixels: the paper's 224 plus the padding its map
#: sizes imply.
INPUT_SIDE = 227


@dataclass(frozen=True)
class Layer:
    """One layer of a two-GPU network, as the KSH paper describes it.

    Parameters
    ----------
    name : str
        A short name (``"conv1"``, ``"fc6"``).
    kind : {"input", "conv", "fc", "softmax"}
        What the layer computes.
    maps : int
        Feature maps (convolutional layers), neurons (dense layers) or
        colour channels (the input), summed over both GPUs.
    kernel, stride, padding : int
        Side of the local receptive field, its step, and the zeros added on
        each border (convolutional layers only).
    pool : bool
        Whether a 3 x 3 max-pooling with stride 2 follows the layer.
    in_maps : int
        Input maps each filter sees. Where the GPUs do not exchange data this
        is only the half of the previous layer that lives on the same GPU.
    cross_gpu : bool
        Whether the layer reads the previous layer's outputs on both GPUs.
    """

    name: str
    kind: str
    maps: int
    kernel: int = 0
    stride: int = 1
    padding: int = 0
    pool: bool = False
    in_maps: int = 0
    cross_gpu: bool = False


KSH_LAYERS = (
    Layer("input", "input", 3),
    Layer("conv1", "conv", 96, kernel=11, stride=4, pool=True, in_maps=3),
    Layer("conv2", "conv", 256, kernel=5, padding=2, pool=True, in_maps=48),
    Layer("conv3", "conv", 384, kernel=3, padding=1, in_maps=256, cross_gpu=True),
    Layer("conv4", "conv", 384, kernel=3, padding=1, in_maps=192),
    Layer("conv5", "conv", 256, kernel=3, padding=1, pool=True, in_maps=192),
    Layer("fc6", "fc", 4096, cross_gpu=True),
    Layer("fc7", "fc", 4096, cross_gpu=True),
    Layer("fc8", "softmax", 1000, cross_gpu=True),
)
"""The KSH network: five convolutional layers, two dense layers, a softmax."""


def _slide(side, field, stride, padding, what):
    """Positions of a ``field``-wide window moved by ``stride`` along ``side``."""
    span = side + 2 * padding - field
    if span < 0 or span % stride:
        raise ValueError(
            f"{what}: a {field}-pixel window at stride {stride} does not tile "
            f"{side} pixels (padding {padding}); choose an input side for which "
            f"(side + 2 * padding - {field}) is a multiple of {stride}, such as 227"
        )
    return span // stride + 1


def feature_map_sides(layers=KSH_LAYERS, input_side=INPUT_SIDE):
    """Side of each layer's maps, before and after its pooling.

    For a convolution, ``side_out = (side_in + 2 padding - kernel) / stride + 1``;
    for the 3 x 3, stride-2 pooling, ``(side - 3) / 2 + 1``. Dense layers
    have side 1.

    Parameters
    ----------
    layers : sequence of Layer
        The network, input first.
    input_side : int
        Side of the square input image in pixels.

    Returns
    -------
    list of (int, int)
        ``(side after the layer, side after its pooling)`` per layer; the two
        are equal for layers without pooling.

    Raises
    ------
    ValueError
        If a window does not tile the map it slides over.

    Examples
    --------
    >>> [after for _, after in feature_map_sides()][:6]
    [227, 27, 13, 13, 13, 6]
    """
    sides, side = [], input_side
    for layer in layers:
        if layer.kind == "conv":
            side = _slide(side, layer.kernel, layer.stride, layer.padding, layer.name)
        elif layer.kind != "input":
            side = 1
        pooled = (
            _slide(side, POOL_SIZE, POOL_STRIDE, 0, layer.name) if layer.pool else side
        )
        sides.append((side, pooled))
        side = pooled
    return sides


def count_parameters(layers=KSH_LAYERS, input_side=INPUT_SIDE):
    """Weights and biases of each layer.

    A convolutional layer has ``maps * (kernel**2 * in_maps + 1)``
    parameters (eq. (125) of the original, once per map); a dense layer has
    ``maps * (n_in + 1)``, where ``n_in`` counts every output of the layer
    before it (maps times their area).

    Returns
    -------
    list of int
        One count per layer; 0 for the input.

    Examples
    --------
    >>> counts = count_parameters()
    >>> counts[1], sum(counts)
    (34944, 60965224)
    """
    counts, n_out = [], 0
    for layer, (_, pooled) in zip(
        layers, feature_map_sides(layers, input_side), strict=True
    ):
        if layer.kind == "input":
            counts.append(0)
        elif layer.kind == "conv":
            counts.append(layer.maps * (layer.kernel**2 * layer.in_maps + 1))
        else:
            counts.append(layer.maps * (n_out + 1))
        n_out = layer.maps * pooled**2
    return counts


def _box_height(side, input_side):
    return 0.3 + 0.9 * np.sqrt(side / input_side)  # area-like, so 13 x 13 stays visible


def _draw_stack(ax, x, y, width, height, face, edge, gid, sheets=3):
    """A stack of feature maps: ``sheets`` offset rectangles, the front one named."""
    from matplotlib.patches import Rectangle

    for k in reversed(range(sheets)):
        ax.add_patch(
            Rectangle(
                (x - width / 2 + 0.06 * k, y - height / 2 + 0.06 * k),
                width,
                height,
                facecolor=face,
                edgecolor=edge,
                lw=1.0,
                gid=gid if k == 0 else None,
                zorder=3 - 0.1 * k,
            )
        )


def _caption(layer, side, pooled):
    if layer.kind == "input":
        return f"input\n{side}×{side}\n{layer.maps} channels (RGB)"
    if layer.kind == "conv":
        text = f"{layer.name}\n{layer.maps} maps\n{layer.kernel}×{layer.kernel}"
        text += f"\nstride {layer.stride}" if layer.stride > 1 else ""
        return text + (f"\npool → {pooled}×{pooled}" if layer.pool else "")
    if layer.kind == "fc":
        return f"{layer.name}\n{layer.maps:,}\nReLU\ndropout"
    return f"{layer.name}\n{layer.maps:,}\nsoftmax"


def _arrow(ax, start, end, cross):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=8,
            color=ACCENT if cross else INK,
            lw=1.0 if cross else 0.8,
            linestyle="--" if cross else "-",
            gid="ksh-cross" if cross else "ksh-within",
            zorder=2,
        )
    )


def _draw_column(ax, layer, x, side, input_side):
    """Draw one layer's box (or two GPU halves); return its boxes' centres and width."""
    single = layer.kind in ("input", "softmax")
    dense = layer.kind in ("fc", "softmax")
    ys = [0.0] if single else [0.95, -0.95]
    width = 0.28 if dense else 0.72
    if layer.kind == "input":
        height = 1.6
    elif dense:
        height = 1.8 if single else 1.3
    else:
        height = _box_height(side, input_side)
    for half, y in enumerate(ys):
        face, edge = ("#f5f7fa", INK) if single else (GPU_FACES[half], GPU_EDGES[half])
        gid = f"ksh-{layer.name}" if single else f"ksh-{layer.name}-gpu{half + 1}"
        _draw_stack(ax, x, y, width, height, face, edge, gid, sheets=1 if dense else 3)
        count = layer.maps if single else layer.maps // 2
        if dense:
            label, rotation = f"{count:,}", 90
        elif not single:
            label, rotation = f"{count}\n{side}×{side}", 0
        else:
            continue
        ax.text(
            x, y, label, ha="center", va="center", rotation=rotation,
            fontsize=8, color=INK, zorder=4,
        )  # fmt: skip
    return ys, width, dense


def _connect(ax, starts, ends, cross_gpu):
    """Arrows from each box of one column to the boxes of the next."""
    for j, start in enumerate(starts):
        for k, end in enumerate(ends):
            if len(starts) == 1 or len(ends) == 1 or j == k:
                _arrow(ax, start, end, cross=False)
            elif cross_gpu:
                _arrow(ax, start, end, cross=True)


def plot_ksh_architecture(layers=KSH_LAYERS, input_side=INPUT_SIDE):
    """Draw a two-GPU network layer by layer (by default, KSH's).

    Each convolutional or dense layer is drawn twice, its GPU 1 half on top
    and its GPU 2 half below, labelled with that half's maps (or neurons) and
    their side; a box's height grows with the side of its maps. Solid black
    arrows stay inside one GPU; dashed orange ones mark the layers that read
    both GPUs' outputs. The input and the softmax output are drawn once.

    Parameters
    ----------
    layers : sequence of Layer
        The network, input first, output last.
    input_side : int
        Side of the square input image in pixels.

    Returns
    -------
    matplotlib.figure.Figure
        The front rectangle of each box has the gid ``"ksh-<name>-gpu<1|2>"``
        (``"ksh-<name>"`` for the input and output); arrows have the gid
        ``"ksh-within"`` or ``"ksh-cross"``.
    """
    import matplotlib.pyplot as plt

    gap = 1.35  # column spacing
    fig, ax = plt.subplots(figsize=(0.95 * len(layers) + 0.1, 3.5), facecolor="white")
    previous = None  # where the previous column's arrows start
    for i, (layer, (side, pooled)) in enumerate(
        zip(layers, feature_map_sides(layers, input_side), strict=True)
    ):
        x = i * gap
        ys, width, dense = _draw_column(ax, layer, x, side, input_side)
        ax.text(
            x, -1.85, _caption(layer, side, pooled), ha="center", va="top",
            fontsize=7.5, color=INK,
        )  # fmt: skip
        if previous is not None:
            _connect(ax, previous, [(x - width / 2, y) for y in ys], layer.cross_gpu)
        depth = 0.0 if dense else 0.12  # the stacked sheets stick out to the right
        previous = [(x + width / 2 + depth, y) for y in ys]
    for y, name, colour in ((0.95, "GPU 1", SECOND), (-0.95, "GPU 2", ACCENT)):
        ax.text(
            -0.45 * gap, y, name, ha="right", va="center", color=colour, fontsize=8.5
        )
    ax.set_xlim(-0.9 * gap, (len(layers) - 0.4) * gap)
    ax.set_ylim(-3.05, 1.75)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.tight_layout()
    return fig
