"""Chapter 3's figures of starting weights, descent steps and other neurons (Agg)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from numpy.testing import assert_allclose

from nndl_core import plotting_optimization as figures
from nndl_core.activations import relu, tanh

matplotlib.use("Agg")


@pytest.fixture
def close():
    import matplotlib.pyplot as plt

    opened = []
    yield opened.append
    for fig in opened:
        plt.close(fig)


def test_descent_path_is_the_momentum_rule():
    # C(w) = w^2 / 2, so C'(w) = w: v -> mu v - eta w, w -> w + v
    expected, w, v = [2.0], 2.0, 0.0
    for _ in range(5):
        v = 0.5 * v - 0.3 * w
        w = w + v
        expected.append(w)
    actual = figures.descent_path(lambda w: w, 2.0, 0.3, mu=0.5, steps=5)
    assert_allclose(actual, expected, rtol=1e-15)


def test_plain_descent_on_a_parabola_shrinks_by_a_constant_factor():
    path = figures.descent_path(lambda w: 2 * w, -1.0, 0.15, steps=4)
    assert_allclose(path[1:] / path[:-1], 0.7)


def test_init_network_draws_the_inputs_and_one_hidden_neuron(close):
    fig = figures.plot_init_network(n_drawn=8)
    close(fig)
    (ax,) = fig.axes
    assert len(ax.patches) == 9 and len(ax.lines) == 8
    ink = to_rgba(figures.INK)
    filled = [p for p in ax.patches if p.get_facecolor() == ink]
    assert len(filled) == 4  # the inputs that are 1
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "500 inputs" in texts and "$x_j = 1$" in texts
    with pytest.raises(ValueError, match="even"):
        figures.plot_init_network(n_drawn=3)


@pytest.mark.parametrize("sd", [np.sqrt(501), np.sqrt(1.5)])
def test_weighted_input_curve_is_the_normal_density(sd, close):
    fig = figures.plot_weighted_input(sd)
    close(fig)
    line = fig.axes[0].lines[0]
    z, y = line.get_xdata(), line.get_ydata()
    assert (z.min(), z.max()) == (-30.0, 30.0)
    assert y.max() == pytest.approx(1 / (sd * np.sqrt(2 * np.pi)), rel=1e-6)
    assert np.sum(y) * (z[1] - z[0]) == pytest.approx(
        1.0 if sd < 10 else 0.82, abs=0.01
    )  # the wide one has mass outside [-30, 30]


def test_weighted_input_histogram_is_a_density(rng, close):
    samples = rng.normal(0, 2.0, 20_000)
    fig = figures.plot_weighted_input(2.0, samples=samples, z_max=10)
    close(fig)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert sum(heights) * (20 / 120) == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError, match="positive"):
        figures.plot_weighted_input(0.0)


def test_overshoot_jumps_across_the_minimum_only_when_eta_is_large(close):
    fig = figures.plot_overshoot()
    close(fig)
    small, large = (ax.lines[1].get_xdata() for ax in fig.axes)
    assert np.all(small < 0)  # stays on one side, going down
    assert np.all(np.diff(np.abs(small)) < 0)
    assert np.all(np.sign(large[1:]) == -np.sign(large[:-1]))  # jumps across
    assert np.all(np.diff(np.abs(large)) > 0)  # and climbs


def test_momentum_steps_grow_while_plain_steps_stay_even(close):
    fig = figures.plot_momentum()
    close(fig)
    plain, momentum = (np.diff(ax.lines[1].get_xdata()) for ax in fig.axes)
    assert np.ptp(plain) < 0.1 * plain.mean()
    assert np.all(np.diff(momentum[:6]) > 0)
    assert momentum[5] > 2 * plain[5]


@pytest.mark.parametrize("name, function", [("tanh", tanh), ("relu", relu)])
def test_activation_shapes(name, function, close):
    fig = figures.plot_activation(name, compare_sigmoid=True)
    close(fig)
    line = fig.axes[0].lines[0]
    assert_allclose(line.get_ydata(), function(line.get_xdata()))
    assert len(fig.axes[0].lines) == 4  # the curve, the sigmoid, two axes lines
    with pytest.raises(ValueError, match="one of"):
        figures.plot_activation("softplus")


def test_every_figure_renders(close):
    for fig in (
        figures.plot_init_network(),
        figures.plot_weighted_input(np.sqrt(501)),
        figures.plot_overshoot(),
        figures.plot_momentum(),
        figures.plot_activation("relu"),
    ):
        close(fig)
        fig.canvas.draw()  # mathtext labels parse
        assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)
