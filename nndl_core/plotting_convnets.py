"""Figures for chap6: learned filters, feature maps, digit grids, the progression.

Every function returns a Matplotlib figure and imports Matplotlib inside,
so importing ``nndl_core`` never needs it.
"""

import numpy as np

__all__ = ["plot_digits", "plot_feature_maps", "plot_filters", "plot_progression"]


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
