"""Tests of chapter 3's figure helpers (Agg backend): each figure holds its data."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from nndl_core import plotting_ch3  # noqa: E402
from nndl_core.activations import sigmoid  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def circles(ax):
    return [p for p in ax.patches if isinstance(p, Circle)]


def test_dropout_deletes_half_of_each_hidden_layer_and_its_connections():
    sizes = (4, 6, 6, 2)
    full, thinned = plotting_ch3.draw_dropout(sizes, seed=3).axes
    assert len(circles(full)) == len(circles(thinned)) == sum(sizes)
    ghosts = [c for c in circles(thinned) if c.get_linestyle() == "--"]
    assert len(ghosts) == 3 + 3
    assert all(c.get_linestyle() != "--" for c in circles(full))
    assert len(full.lines) == 4 * 6 + 6 * 6 + 6 * 2
    assert len(thinned.lines) == 4 * 3 + 3 * 3 + 3 * 2  # survivors only
    # no connection of the thinned network starts or ends at a ghost
    ghost_centres = {tuple(np.round(c.center, 6)) for c in ghosts}
    for line in thinned.lines:
        for point in line.get_xydata():
            assert tuple(np.round(point, 6)) not in ghost_centres


def test_dropout_is_seeded_and_checks_its_arguments():
    def ghost_centres(seed):
        ax = plotting_ch3.draw_dropout(seed=seed).axes[1]
        return sorted(c.center for c in circles(ax) if c.get_linestyle() == "--")

    assert ghost_centres(1) == ghost_centres(1)
    with pytest.raises(ValueError, match="hidden layer"):
        plotting_ch3.draw_dropout((3, 2))
    with pytest.raises(ValueError, match="p_drop"):
        plotting_ch3.draw_dropout(p_drop=1.0)


@pytest.mark.parametrize("inputs", [("1",), ("x_1", "x_2", "x_3")])
def test_neuron_has_an_arrow_per_input_and_one_out(inputs):
    fig = plotting_ch3.draw_neuron(inputs)
    (ax,) = fig.axes
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(inputs) + 1
    assert len(circles(ax)) == 1
    texts = {t.get_text() for t in ax.texts}
    weights = {"$w$"} if len(inputs) == 1 else {f"$w_{j}$" for j in (1, 2, 3)}
    assert weights | {"$b$"} <= texts
    with pytest.raises(ValueError, match="input"):
        plotting_ch3.draw_neuron(())


def test_sigmoid_starts_sit_on_the_curve_with_tangents():
    fig = plotting_ch3.plot_sigmoid_starts({"good": 1.5, "bad": 4.0})
    (ax,) = fig.axes
    curve, first, tangent, second, _ = ax.lines[:5]
    np.testing.assert_allclose(curve.get_ydata(), sigmoid(curve.get_xdata()))
    np.testing.assert_allclose(first.get_xydata(), [[1.5, sigmoid(1.5)]])
    np.testing.assert_allclose(second.get_xydata(), [[4.0, sigmoid(4.0)]])
    (x0, y0), (x1, y1) = tangent.get_xydata()
    slope = sigmoid(1.5) * (1 - sigmoid(1.5))
    assert (y1 - y0) / (x1 - x0) == pytest.approx(slope)


def test_monitors_draw_four_panels_and_zoom_two():
    n = 30
    history = {
        "training_cost": np.linspace(1, 0.1, n),
        "evaluation_accuracy": np.linspace(0.5, 0.8, n),
        "evaluation_cost": np.linspace(1, 2, n),
        "training_accuracy": np.linspace(0.6, 1.0, n),
    }
    fig = plotting_ch3.plot_monitors(history, zoom_from=10)
    train_cost, test_acc, test_cost, train_acc = fig.axes
    assert train_cost.lines[0].get_xdata()[0] == 10
    np.testing.assert_allclose(test_acc.lines[0].get_ydata(), 100 * history[
        "evaluation_accuracy"][10:])  # fmt: skip
    assert len(test_cost.lines[0].get_xdata()) == n
    assert train_acc.lines[0].get_ydata()[-1] == pytest.approx(100.0)


def test_polynomial_models_fit_through_the_points():
    xs = np.array([0.7, 1.3, 1.9, 2.6, 2.9, 3.6, 3.8, 3.95, 4.4, 4.9])
    ys = np.array([1.8, 2.2, 4.0, 5.0, 6.1, 7.0, 7.4, 8.0, 9.1, 10.0])
    data, poly, line = plotting_ch3.plot_polynomial_models(xs, ys).axes
    for ax in (data, poly, line):
        np.testing.assert_allclose(ax.lines[0].get_xydata(), np.c_[xs, ys])
    assert len(data.lines) == 1
    grid, values = poly.lines[1].get_xdata(), poly.lines[1].get_ydata()
    np.testing.assert_allclose(np.interp(xs, grid, values), ys, atol=0.3)
    np.testing.assert_allclose(line.lines[1].get_ydata(), 2 * line.lines[1].get_xdata())
    assert "degree-9" in poly.get_title()


def test_more_data_same_curves_on_linear_and_log_axes():
    sizes, ours = [100, 1_000, 10_000], [0.7, 0.88, 0.95]
    fig = plotting_ch3.plot_more_data(sizes, ours, book=(sizes, [0.69, 0.89, 0.95]))
    linear, log = fig.axes
    assert linear.get_xscale() == "linear" and log.get_xscale() == "log"
    for ax in (linear, log):
        np.testing.assert_allclose(ax.lines[0].get_ydata(), [70, 88, 95])
        assert ax.lines[1].get_linestyle() == "--"  # the book's curve


def test_softmax_states_bars_are_distributions():
    states = [[2.5, -1.0, 3.2, 0.5], [5.0, -1.0, 3.2, 0.5]]
    fig = plotting_ch3.plot_softmax_states(states)
    assert len(fig.axes) == 2
    for ax, z in zip(fig.axes, states):
        heights = [bar.get_height() for bar in ax.patches]
        assert len(heights) == 4 and sum(heights) == pytest.approx(1.0)
        assert np.argmax(heights) == np.argmax(z)
        assert len(ax.texts) == 4


def test_curves_dash_the_books_and_scale_percentages():
    fig = plotting_ch3.plot_curves(
        {"ours": ([1, 2, 3], [0.5, 0.6, 0.7]), "book: theirs": ([1, 3], [0.55, 0.75])},
        xlabel="epoch",
        ylabel="accuracy (%)",
        percent=True,
        logx=True,
    )
    (ax,) = fig.axes
    ours, book = ax.lines
    np.testing.assert_allclose(ours.get_ydata(), [50, 60, 70])
    assert ours.get_linestyle() == "-" and book.get_linestyle() == "--"
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ours", "book: theirs"]


def test_neuron_runs_plot_output_and_cost_per_step():
    runs = {"a": {"output": [0.9, 0.5, 0.1], "cost": [0.4, 0.1, 0.0]}}
    left, right = plotting_ch3.plot_neuron(runs, ["a"], title="t").axes
    np.testing.assert_allclose(left.lines[0].get_ydata(), [0.9, 0.5, 0.1])
    np.testing.assert_allclose(right.lines[0].get_ydata(), [0.4, 0.1, 0.0])
    assert left.get_ylim() == (0, 1)


def test_cost_and_accuracy_one_line_per_run_in_each_panel():
    runs = {
        "none": {"training_cost": [1.0, 0.5], "evaluation_accuracy": [0.7, 0.8]},
        "L2": {"training_cost": [1.2, 0.7], "evaluation_accuracy": [0.72, 0.85]},
    }
    cost, accuracy = plotting_ch3.plot_cost_and_accuracy(runs).axes
    assert len(cost.lines) == len(accuracy.lines) == 2
    np.testing.assert_allclose(cost.lines[1].get_ydata(), [1.2, 0.7])
    np.testing.assert_allclose(accuracy.lines[0].get_ydata(), [70, 80])
    assert [t.get_text() for t in accuracy.get_legend().get_texts()] == ["none", "L2"]


def test_training_and_test_accuracy_one_panel_per_run():
    runs = {
        "no regularization": {"training_accuracy": [0.9, 0.99],
                              "evaluation_accuracy": [0.85, 0.9]},
        "lambda = 5": {"training_accuracy": [0.9, 0.95],
                       "evaluation_accuracy": [0.88, 0.93]},
    }  # fmt: skip
    fig = plotting_ch3.plot_training_and_test_accuracy(runs)
    assert [ax.get_title() for ax in fig.axes] == list(runs)
    training, test = fig.axes[1].lines
    np.testing.assert_allclose(training.get_xydata(), [[1, 90], [2, 95]])
    np.testing.assert_allclose(test.get_ydata(), [88, 93])
