"""Tests of chap6's figures: each holds the grids, blocks and neurons it should.

The diagrams are checked through their artists (rectangles, circles, lines)
and the places of the highlighted blocks, not through pixels.
"""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

from nndl_core import plotting_convnets  # noqa: E402
from nndl_core.plotting import NEURON_FACE  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def grids(ax):
    """Side lengths of the neuron grids drawn on ``ax`` (largest first)."""
    face = plt.matplotlib.colors.to_rgba(NEURON_FACE)
    sides = [
        patch.get_width()
        for patch in ax.patches
        if isinstance(patch, Rectangle) and patch.get_facecolor() == face
    ]
    return sorted(sides, reverse=True)


def highlighted(ax):
    """``(x, y, width, height)`` of each accent-coloured block on ``ax``."""
    face = plt.matplotlib.colors.to_rgba(NEURON_FACE)
    return [
        (p.get_x(), p.get_y(), p.get_width(), p.get_height())
        for p in ax.patches
        if isinstance(p, Rectangle) and p.get_facecolor() != face
    ]


def test_receptive_field_slides_one_pixel_per_row_of_the_figure():
    fig = plotting_convnets.draw_receptive_field(((0, 0), (0, 1)))
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert grids(ax) == [28, 24]
    top_left, moved = (highlighted(ax) for ax in fig.axes)
    # the 5 x 5 field at the image's top left, then one pixel to the right
    assert top_left[0] == (0, 23, 5, 5) and moved[0] == (1, 23, 5, 5)
    # the hidden neuron it feeds moves by one neuron too
    assert moved[1][0] - top_left[1][0] == 1 and top_left[1][2:] == (1, 1)


def test_receptive_field_without_the_hidden_layer():
    fig = plotting_convnets.draw_receptive_field(((8, 12),), hidden=False)
    (ax,) = fig.axes
    assert grids(ax) == [28]
    assert highlighted(ax) == [(12, 28 - 8 - 5, 5, 5)]


def test_receptive_field_outside_the_image_is_refused():
    with pytest.raises(ValueError, match="outside"):
        plotting_convnets.draw_receptive_field(((0, 24),))


def test_feature_map_layer_has_one_grid_per_map():
    fig = plotting_convnets.draw_feature_map_layer(3)
    ax = fig.axes[0]
    assert grids(ax) == [28, 24, 24, 24]
    blocks = highlighted(ax)
    assert blocks[0][2:] == (5, 5)  # the shared receptive field ...
    assert [b[2:] for b in blocks[1:]] == [(1, 1)] * 3  # ... feeds one neuron per map


def test_max_pooling_maps_a_two_by_two_block_to_one_neuron():
    fig = plotting_convnets.draw_max_pooling(position=(3, 4))
    ax = fig.axes[0]
    assert grids(ax) == [24, 12]
    block, neuron = highlighted(ax)
    assert block[2:] == (2, 2) and neuron[2:] == (1, 1)
    assert block[:2] == (8, 24 - 6 - 2)  # pooled neuron (3, 4) <- rows 6-7, cols 8-9


@pytest.mark.parametrize(
    ("kwargs", "expected_grids", "expected_circles"),
    [
        ({}, [28, 24, 24, 24, 12, 12, 12], 10),
        ({"outputs": False}, [28, 24, 24, 24, 12, 12, 12], 0),
        (
            {"n_maps": 20, "shown_maps": 3, "n_hidden": 100},
            [28] + [24] * 3 + [12] * 3,
            18,
        ),
    ],
)
def test_convnet_draws_every_layer(kwargs, expected_grids, expected_circles):
    fig = plotting_convnets.draw_convnet(**kwargs)
    ax = fig.axes[0]
    assert grids(ax) == expected_grids
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == expected_circles
    texts = " ".join(t.get_text() for t in ax.texts)
    n_maps = kwargs.get("n_maps", 3)
    assert f"{n_maps} × 24 × 24" in texts and f"{n_maps} × 12 × 12" in texts


def test_convnet_connects_every_pooled_map_to_every_output():
    fig = plotting_convnets.draw_convnet()
    (lines,) = fig.axes[0].collections[-1:]
    assert len(lines.get_segments()) == 3 * 10


def test_plot_filters_one_image_per_filter(rng):
    fig = plotting_convnets.plot_filters(rng.normal(size=(20, 1, 5, 5)), columns=10)
    images = [ax.images[0].get_array().shape for ax in fig.axes if ax.images]
    assert images == [(5, 5)] * 20


def test_plot_feature_maps_shows_the_input_then_each_map(rng):
    fig = plotting_convnets.plot_feature_maps(rng.random(784), rng.random((4, 24, 24)))
    shapes = [ax.images[0].get_array().shape for ax in fig.axes if ax.images]
    assert shapes == [(28, 28)] + [(24, 24)] * 4


def test_plot_digits_labels_both_corners(rng):
    fig = plotting_convnets.plot_digits(rng.random((3, 784)), [1, 2, 3], [7, 8, 9])
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes if ax.images]
    assert texts == [["1", "7"], ["2", "8"], ["3", "9"]]


def test_plot_progression_draws_book_and_ours():
    fig = plotting_convnets.plot_progression(
        ["a", "b"], [0.97, 0.98], [0.978, 0.9878], [None, 0.99]
    )
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [97.8, 98.78])
