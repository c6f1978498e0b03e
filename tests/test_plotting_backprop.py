"""Smoke tests for chapter 2's figure helpers (Agg backend)."""

import matplotlib
import pytest

from nndl_core import plotting_backprop

matplotlib.use("Agg")

DIAGRAMS = [
    "plot_weight_notation",
    "plot_cost_of_outputs",
    "plot_demon",
    "plot_ain_dout",
    "plot_perturbation",
    "plot_path",
]


@pytest.mark.parametrize("name", DIAGRAMS)
def test_diagrams_draw(name):
    import matplotlib.pyplot as plt

    fig = getattr(plotting_backprop, name)()
    assert fig.axes and all(not ax.axison for ax in fig.axes)
    fig.canvas.draw()  # renders the mathtext labels
    plt.close(fig)


def test_finite_diff_timings_plot():
    import matplotlib.pyplot as plt

    rows = [
        {
            "n_params": n,
            "t_forward": 1e-5,
            "t_backprop": 2e-5,
            "t_finite_diff": n * 1e-5,
            "speedup": n / 2,
        }
        for n in (100, 1000, 10_000)
    ]
    fig = plotting_backprop.plot_finite_diff_timings(rows)
    left, right = fig.axes
    assert left.get_xscale() == right.get_yscale() == "log"
    assert len(left.lines) == 3 and len(right.lines) == 2
    fig.canvas.draw()
    plt.close(fig)
