"""Smoke tests for the figure helpers: each figure holds what it should.

Matplotlib draws with the Agg backend (set in conftest). The tests look at
the artists a figure contains (axes, lines, images, labels), not at pixels.
"""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from nndl_core import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def digits(rng):
    return rng.random((12, 784))


def test_show_digits_one_axes_and_image_per_digit(digits):
    fig = plotting.show_digits(digits[:6], titles=list("504192"))
    assert len(fig.axes) == 6
    assert all(len(ax.images) == 1 for ax in fig.axes)
    assert [ax.get_title() for ax in fig.axes] == list("504192")
    assert fig.axes[0].images[0].get_array().shape == (28, 28)


def test_show_digits_in_rows_drops_spare_axes(digits):
    fig = plotting.show_digits(digits[:7], ncols=3)
    assert len(fig.axes) == 7  # 3 rows of 3, two spare axes removed


def test_digit_mosaic_is_one_image_of_tiles(rng):
    images = rng.random((100, 784))
    fig = plotting.digit_mosaic(images)
    (ax,) = fig.axes
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (280, 280)
    np.testing.assert_array_equal(mosaic[:28, 28:56], images[1].reshape(28, 28))
    np.testing.assert_array_equal(mosaic[28:56, :28], images[10].reshape(28, 28))


def test_digit_mosaic_needs_enough_images(digits):
    with pytest.raises(ValueError, match="need 100 images"):
        plotting.digit_mosaic(digits)


def test_show_digits_rejects_non_square_images():
    with pytest.raises(ValueError, match="not square"):
        plotting.show_digits(np.zeros((1, 783)))


def test_feature_quarters_split_the_digit(digits):
    fig = plotting.plot_feature_quarters(digits[0])
    assert [ax.get_title() for ax in fig.axes] == [
        "top-left quarter",
        "the other three",
        "the whole digit",
    ]
    top_left, others, whole = (ax.images[0].get_array() for ax in fig.axes)
    np.testing.assert_allclose(top_left + others, whole)
    assert not top_left[14:, :].any() and not top_left[:, 14:].any()


def test_feature_quarters_cut_through_the_ink_not_the_image():
    digit = np.zeros((28, 28))
    digit[4:12, 10:20] = 1.0  # ink in rows 4..11, columns 10..19
    fig = plotting.plot_feature_quarters(digit)
    top_left = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.nonzero(top_left.any(axis=1))[0], np.arange(4, 8))
    np.testing.assert_array_equal(
        np.nonzero(top_left.any(axis=0))[0], np.arange(10, 15)
    )
    assert top_left.sum() == 4 * 5


def test_step_and_sigmoid_panels():
    fig = plotting.plot_step_and_sigmoid()
    left, right = fig.axes
    assert (left.get_title(), right.get_title()) == (
        "step function",
        "sigmoid function",
    )
    assert len(left.lines) == len(right.lines) == 1
    z, s = right.lines[0].get_data()
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-z)))
    assert left.get_xlabel() == right.get_xlabel() == "z"


def test_draw_network_has_a_circle_per_neuron_and_an_arrow_per_edge():
    nodes = {
        "x1": (0, 1, "$x_1$", "text"),
        "x2": (0, -1, "$x_2$", "text"),
        "p": (2, 0, "3"),
        "out": (4, 0, "output", "box"),
    }
    edges = [("x1", "p", "$-2$"), ("x2", "p", "$-2$"), ("p", "out")]
    fig = plotting.draw_network(nodes, edges, highlight={("p", "out")})
    (ax,) = fig.axes
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(circles) == 1 and len(arrows) == 3
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("$-2$") == 2 and "output" in texts and "3" in texts
    colours = {a.get_edgecolor() for a in arrows}
    assert len(colours) == 2  # the highlighted edge stands out
    fig.canvas.draw()  # arrows clip against text boxes at draw time


def test_draw_layers_elides_large_layers():
    fig = plotting.draw_layers(
        [784, 15, 10], max_shown=8, layer_names=["in", "hidden", "out"]
    )
    (ax,) = fig.axes
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == 8 * 3
    assert len(ax.lines) == 8 * 8 * 2  # fully connected between shown neurons
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("⋮") == 3
    assert {"in", "hidden", "out"} <= set(texts)


def test_draw_layers_highlight_and_output_arrow():
    fig = plotting.draw_layers(
        [3, 2, 1], highlight=(0, 1, 2), edge_label="$w$", output_label="output"
    )
    (ax,) = fig.axes
    assert len(ax.lines) == 3 * 2 + 2
    widths = sorted(line.get_linewidth() for line in ax.lines)
    assert widths[-1] > widths[0]  # exactly one thick, highlighted edge
    assert widths.count(widths[-1]) == 1
    texts = [t.get_text() for t in ax.texts]
    assert "$w$" in texts and "output" in texts


def test_descent_bowl_draws_the_path_in_both_views():
    path = [(1.5, -1.0), (0.9, -0.6), (0.54, -0.36)]
    fig = plotting.plot_descent_bowl(path)
    bowl, above = fig.axes
    assert bowl.name == "3d"
    assert len(bowl.lines) == 1 and len(above.lines) == 1
    np.testing.assert_allclose(above.lines[0].get_xydata(), path)
    assert above.get_xlabel() == "$v_1$" and bowl.get_zlabel() == "$C$"


def test_accuracy_curves_in_percent_with_book_markers():
    curves = {"seed 0": [0.90, 0.92, 0.93], "seed 1": [0.91, 0.93, 0.94]}
    fig = plotting.plot_accuracy_curves(curves, book_points={0: 0.9129, 2: 0.9348})
    (ax,) = fig.axes
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [90, 92, 93])
    np.testing.assert_allclose(ax.lines[2].get_xydata(), [[0, 91.29], [2, 93.48]])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["seed 0", "seed 1", "the book"]
    assert ax.get_xlabel() == "epoch" and "accuracy" in ax.get_ylabel()


def test_accuracy_curves_draw_into_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    returned = plotting.plot_accuracy_curves({"run": [0.1, 0.2]}, ax=right, title="t")
    assert returned is fig
    assert len(right.lines) == 1 and not left.lines
    assert right.get_title() == "t"
