"""Figures for chap3: curves per epoch, per step or per training-set size.

Every function imports matplotlib inside (Agg backend in builds) and returns
the Figure.
"""

__all__ = ["plot_curves", "plot_neuron"]


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
