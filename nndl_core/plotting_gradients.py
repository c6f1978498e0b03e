"""Figures for chap5: layer speeds, the chain of neurons, sigma' and its problem.

Every function imports matplotlib inside, draws on a new figure and returns
it, in a style that reads on a white background.
"""

import numpy as np

from .activations import sigmoid_prime

__all__ = [
    "plot_accuracy_by_depth",
    "plot_chain",
    "plot_initial_gradient_bars",
    "plot_sigmoid_prime",
    "plot_speed_of_learning",
    "plot_unstable_width",
]

_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]


def plot_accuracy_by_depth(histories, book=None):
    """Validation accuracy per epoch, one line per depth.

    Parameters
    ----------
    histories : dict of int -> list of float
        Hidden-layer count -> accuracy after each epoch.
    book : dict of int -> float, optional
        The book's accuracy per depth, drawn as a short mark at the right.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (depth, accuracy) in enumerate(sorted(histories.items())):
        epochs = np.arange(1, len(accuracy) + 1)
        colour = _COLOURS[i % len(_COLOURS)]
        ax.plot(
            epochs, 100 * np.asarray(accuracy), color=colour, label=f"{depth} hidden"
        )
        if book and depth in book:
            ax.plot(
                [epochs[-1] + 0.6],
                [100 * book[depth]],
                marker="<",
                color=colour,
                markersize=8,
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_ylim(bottom=max(ax.get_ylim()[0], 90))
    ax.grid(alpha=0.3)
    ax.legend(title="ours (lines); book: ◀", loc="lower right")
    fig.tight_layout()
    return fig


def plot_initial_gradient_bars(neurons, n_show=6):
    """The first ``n_show`` neurons of each hidden layer, with bars ∝ ∂C/∂b.

    Parameters
    ----------
    neurons : list of sequence of float
        For each hidden layer, the bias gradient of each of its neurons.
    """
    import matplotlib.pyplot as plt

    n_layers = len(neurons)
    scale = 0.8 / max(abs(v) for layer in neurons for v in layer[:n_show])
    fig, ax = plt.subplots(figsize=(2.8 * n_layers + 1, 3.6))
    for l, layer in enumerate(neurons):  # noqa: E741 (book's l)
        x = 2.4 * l
        for j, value in enumerate(layer[:n_show]):
            y = -j
            ax.add_patch(plt.Circle((x, y), 0.28, fill=False, lw=1.5))
            width = abs(value) * scale
            ax.add_patch(
                plt.Rectangle(
                    (x + 0.4, y - 0.12), width, 0.24, color=_COLOURS[l % len(_COLOURS)]
                )
            )
            ax.text(x + 0.45 + width, y, f"{value:+.3f}", va="center", fontsize=8)
        ax.text(x, 0.75, f"hidden layer {l + 1}", ha="center")
    ax.set_xlim(-0.6, 2.4 * n_layers + 0.6)
    ax.set_ylim(-n_show + 0.4, 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


def plot_speed_of_learning(epochs, bias_norms, title=None, book_initial=None):
    """Speed of learning (bias-gradient length) of each hidden layer, log scale.

    Parameters
    ----------
    epochs : sequence of int
    bias_norms : array-like of shape (n_records, n_layers)
        Output layer last; it is not drawn.
    book_initial : sequence of float, optional
        The book's values at epoch 0, drawn as crosses.
    """
    import matplotlib.pyplot as plt

    hidden = np.asarray(bias_norms)[:, :-1]
    fig, ax = plt.subplots(figsize=(7, 4))
    for l in range(hidden.shape[1]):  # noqa: E741 (book's l)
        colour = _COLOURS[l % len(_COLOURS)]
        ax.plot(epochs, hidden[:, l], color=colour, label=f"hidden layer {l + 1}")
        if book_initial is not None:
            ax.plot([0], [book_initial[l]], "x", color=colour, markersize=9)
    ax.set_yscale("log")
    ax.set_xlabel("epochs of training")
    ax.set_ylabel(r"speed of learning $\|\delta^l\|$")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_sigmoid_prime():
    """σ′(z) on [−5, 5], with its maximum 1/4 at z = 0 marked."""
    import matplotlib.pyplot as plt

    z = np.linspace(-5, 5, 501)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(z, sigmoid_prime(z), color=_COLOURS[0])
    ax.axhline(0.25, color="grey", ls="--", lw=1)
    ax.annotate("maximum 1/4 at z = 0", (0, 0.25), (1.2, 0.22), fontsize=9)
    ax.set_xlabel("z")
    ax.set_ylabel(r"$\sigma'(z)$")
    ax.set_ylim(0, 0.3)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_unstable_width(w, width, w_best, width_best):
    """Width of the inputs with :math:`|w\\sigma'(wa+b)| \\ge 1` against :math:`|w|`."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(w, width, color=_COLOURS[0])
    ax.plot([w_best], [width_best], "o", color=_COLOURS[3])
    ax.annotate(
        f"max {width_best:.3f} at |w| = {w_best:.2f}",
        (w_best, width_best),
        (w_best + 2, width_best - 0.05),
        fontsize=9,
    )
    ax.set_xlabel("|w|")
    ax.set_ylabel("width of the range of a")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_chain(n_neurons=4):
    """A chain of single sigmoid neurons, labelled with weights and biases."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.9 * n_neurons + 1.5, 1.6))
    ax.annotate("", (0.7, 0), (-0.3, 0), arrowprops=dict(arrowstyle="->"))
    ax.text(-0.5, 0, "input", ha="right", va="center")
    for j in range(1, n_neurons + 1):
        x = 1.9 * j - 0.9
        ax.add_patch(plt.Circle((x, 0), 0.3, fill=False, lw=1.5))
        ax.text(x, -0.55, f"$b_{j}$", ha="center", va="top")
        ax.text(x - 0.95, 0.12, f"$w_{j}$", ha="center", va="bottom")
        ax.annotate(
            "",
            (x + 1.6, 0) if j < n_neurons else (x + 1.0, 0),
            (x + 0.3, 0),
            arrowprops=dict(arrowstyle="->"),
        )
    ax.text(1.9 * n_neurons + 0.2, 0, "C", va="center")
    ax.set_xlim(-1.6, 1.9 * n_neurons + 0.6)
    ax.set_ylim(-1.0, 0.6)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig
