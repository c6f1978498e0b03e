"""Tests for nndl_core.universality: the constructions of chapter 4 do what it claims.

The headline tests show the universality claim numerically: the sup-norm
error on a fine grid falls below a stated epsilon as the number of bumps or
towers (and the step weight) grows, for several functions, in 1-D and 2-D,
with several outputs; and no network of linear neurons can get close, because
it is affine (checked against the least-squares affine fit, a lower bound).
"""

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from _build_tools import universality_vectors
from nndl_core import experiments
from nndl_core import plotting_universality as pu
from nndl_core import universality as u

X = np.linspace(0.0, 1.0, 10_001)  # the fine grid of the sup-norm tests
G = np.linspace(0.0, 1.0, 101)
GX, GY = np.meshgrid(G, G, indexing="ij")
SQUARE = np.column_stack([GX.ravel(), GY.ravel()])  # (10201, 2)


def sine(x):
    return np.sin(2 * np.pi * x)


def kink(x):
    return np.abs(x - 0.5)


# (function, output neuron, epsilon at N = 160): the goal f is in (0, 1), so it
# uses the sigmoid output and the logit trick; sin and |x - 1/2| leave (0, 1)
# and use a linear output neuron.
FUNCTIONS_1D = {
    "goal f": (u.goal_function, "sigmoid", 0.005),
    "sin 2 pi x": (sine, "linear", 0.01),
    "|x - 0.5|": (kink, "linear", 0.002),
}


# ---------------------------------------------------------------- building blocks


def test_goal_function_worked_values():
    x = np.array([0.0, 0.5, 1.0])
    expected = 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)
    assert_allclose(u.goal_function(x), expected, rtol=1e-15)
    assert 0 < u.goal_function(X).min() and u.goal_function(X).max() < 1


def test_step_sits_at_minus_b_over_w():
    w, b = 1000.0, -400.0
    net = u.single_neuron(w, b)
    s = -b / w
    actual = u.evaluate(net, [s - 0.01, s, s + 0.01])
    assert_allclose(actual, [0.0, 0.5, 1.0], atol=1e-4)
    step = u.step_net(s)
    assert_allclose(step.weights[0], [[1000.0]])
    assert_allclose(step.biases[0], [[-400.0]])


def test_bump_has_height_h_between_its_steps():
    net = u.bump_net(0.4, 0.6, 0.8)
    actual = u.evaluate(net, [0.2, 0.45, 0.5, 0.55, 0.8])
    assert_allclose(actual, [0.0, 0.8, 0.8, 0.8, 0.0], atol=1e-8)
    assert_allclose(net.weights[1], [[0.8, -0.8]])


def test_many_bumps_add_up():
    pairs, heights = [[0.1, 0.3], [0.5, 0.9]], [-1.2, 0.3]
    actual = u.evaluate(u.bumps_net(pairs, heights), [0.0, 0.2, 0.4, 0.7, 0.95])
    assert_allclose(actual, [0.0, -1.2, 0.0, 0.3, 0.0], atol=1e-8)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_tower_is_one_inside_zero_outside_in_m_dimensions(m):
    net = u.tower_net([[0.3, 0.7]] * m)
    assert_allclose(net.biases[-1], [[(-m + 0.5) * u.TOWER_WEIGHT]])
    inside = np.full((1, m), 0.5)
    plateau = inside.copy()
    plateau[0, 0] = 0.9  # inside m - 1 bumps, outside one
    outside = np.full((1, m), 0.05)
    assert u.evaluate(net, inside)[0] > 1 - 1e-12
    assert u.evaluate(net, plateau)[0] < 1e-12
    assert u.evaluate(net, outside)[0] < 1e-12


def test_book_tower_bias_is_minus_three_h_over_two():
    h = 10.0
    net = u.tower_net([[0.4, 0.6], [0.3, 0.7]], tower_weight=h)
    assert_allclose(net.biases[-1], [[-1.5 * h]])
    assert_allclose(net.weights[-1], [[h, -h, h, -h]])


def test_grid_towers_sum_weighted_towers():
    heights = np.array([[1.0, 2.0], [3.0, -4.0]])
    net = u.grid_towers_net([[0.0, 0.5, 1.0], [0.0, 0.3, 1.0]], heights)
    centres = np.array([[0.25, 0.15], [0.25, 0.65], [0.75, 0.15], [0.75, 0.65]])
    assert_allclose(u.evaluate(net, centres), heights.ravel(), atol=1e-10)
    assert net.n_hidden == (6, 4)  # 3 x-steps and 3 y-steps; one tower per cell


def test_parallel_sum_adds_weighted_outputs():
    a, b = u.step_net(0.3), u.bump_net(0.5, 0.8, -1.5)
    both = u.parallel_sum([a, b], output="sigmoid")
    expected = u.sigmoid(u.evaluate(a, X) + u.evaluate(b, X))
    assert_allclose(u.evaluate(both, X), expected, rtol=1e-13)


def test_evaluate_chunks_and_shapes(rng):
    net = u.approximate_1d(lambda x: np.column_stack([x, 1 - x]) * 0.5 + 0.25, 6)
    x = rng.uniform(0, 1, 37)
    whole = u.evaluate(net, x, chunk_size=10_000)
    assert whole.shape == (37, 2)
    assert_allclose(u.evaluate(net, x, chunk_size=5), whole, rtol=1e-15)
    with pytest.raises(ValueError, match="inputs"):
        u.evaluate(net, np.zeros((3, 2)))


def test_logit_inverts_sigmoid_and_rejects_the_rest():
    z = np.linspace(-20, 20, 41)
    assert_allclose(u.logit(u.sigmoid(z)), z, atol=1e-8)
    with pytest.raises(ValueError, match="between 0 and 1"):
        u.logit([0.5, 1.0])
    with pytest.raises(ValueError, match="linear"):
        u.approximate_1d(sine, 10)  # sin leaves (0, 1): no sigmoid output


def test_shifted_edges_cover_the_interval_with_margins():
    for shift in (0.0, 0.25, 0.5, 0.75):
        edges = u.shifted_edges(0.0, 1.0, 8, shift)
        assert edges[0] == -1 / 16 and edges[-1] == 1 + 1 / 16
        assert np.all(np.diff(edges) > 0)
        assert np.sum((edges > 0) & (edges < 1)) == (7 if shift == 0 else 8)


# ---------------------------------------------------------------- the claim, 1-D


@pytest.mark.parametrize("name", list(FUNCTIONS_1D))
def test_sup_error_falls_as_n_and_step_weight_grow(name):
    f, output, epsilon = FUNCTIONS_1D[name]
    errors = [
        u.sup_error(
            u.approximate_1d(f, n, step_weight=100.0 * n, n_shifts=4, output=output),
            f,
            X,
        )
        for n in (10, 40, 160)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < epsilon, errors


def test_steps_must_be_steep_enough_for_the_bins():
    errors = [
        u.sup_error(
            u.approximate_1d(u.goal_function, 40, step_weight=w), u.goal_function, X
        )
        for w in (25.0, 100.0, 400.0)
    ]
    assert errors[0] > errors[1] > errors[2]


def test_shifted_copies_help_in_1d():
    def error(m):
        net = u.approximate_1d(u.goal_function, 20, step_weight=2000.0, n_shifts=m)
        return u.sup_error(net, u.goal_function, X)

    assert error(4) < 0.5 * error(1)


def test_many_outputs_1d():
    def f(x):
        return np.column_stack([u.goal_function(x), 0.5 + 0.4 * np.sin(2 * np.pi * x)])

    net = u.approximate_1d(f, 160, step_weight=16_000.0, n_shifts=4)
    assert net.n_outputs == 2
    errors = np.abs(u.evaluate(net, X) - f(X)).max(axis=0)
    assert np.all(errors < 0.01), errors


def test_other_intervals():
    net = u.approximate_1d(
        np.cos,
        100,
        interval=(-3.0, 3.0),
        step_weight=5000.0,
        n_shifts=4,
        output="linear",
    )
    x = np.linspace(-3, 3, 5001)
    assert u.sup_error(net, np.cos, x) < 0.02


# ---------------------------------------------------------------- the claim, 2-D


def test_sup_error_falls_in_2d_with_towers_and_shifts():
    f = u.goal_function_2d
    errors = [
        u.sup_error(u.approximate_2d(f, n, n_shifts=max(1, n // 2)), f, SQUARE)
        for n in (4, 8, 16)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.03, errors


def test_corner_failure_and_its_fix_in_2d():
    """Where four towers meet, all four are off; shifted copies repair it."""
    f = u.goal_function_2d
    corner = np.array([[0.5, 0.5]])  # a corner of the 4 x 4 grid
    plain = u.approximate_2d(f, 4, n_shifts=1)
    assert u.evaluate(plain, corner)[0] == pytest.approx(0.5, abs=1e-6)  # sigma(0)
    fixed = u.approximate_2d(f, 4, n_shifts=4)
    assert abs(u.evaluate(fixed, corner)[0] - f(corner)[0]) < 0.05


def test_many_outputs_2d():
    def f(p):
        return np.column_stack([u.goal_function_2d(p), 0.3 + 0.4 * p[:, 0] * p[:, 1]])

    net = u.approximate_2d(f, 8, n_shifts=4)
    errors = np.abs(u.evaluate(net, SQUARE) - f(SQUARE)).max(axis=0)
    assert net.n_outputs == 2
    assert np.all(errors < 0.06), errors


# ---------------------------------------------------------------- linear neurons fail


def best_affine_rms(f, x):
    """Least-squares affine fit: the smallest RMS error any affine function has."""
    design = np.column_stack([x, np.ones_like(x)])
    y = f(x)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(np.sqrt(np.mean((design @ coef - y) ** 2)))


@pytest.mark.parametrize("name", list(FUNCTIONS_1D))
def test_linear_neurons_cannot_approximate(name, rng):
    f, output, epsilon = FUNCTIONS_1D[name]
    floor = best_affine_rms(f, X)  # sup-error >= RMS error >= floor for any affine map
    assert floor > 0.05 > epsilon
    # Any all-linear network is affine: check it, then it cannot beat the floor.
    sizes = [1, 7, 5, 1]
    weights = tuple(
        rng.normal(size=(n, m)) for m, n in zip(sizes, sizes[1:], strict=False)
    )
    biases = tuple(rng.normal(size=(n, 1)) for n in sizes[1:])
    net = u.Net(weights, biases, ("linear",) * 3)
    y = u.evaluate(net, X)
    slope, intercept = np.polyfit(X, y, 1)
    assert_allclose(y, slope * X + intercept, atol=1e-9)
    assert u.sup_error(net, f, X) >= floor
    # The same construction with its sigmoids replaced by identities fails too.
    good = u.approximate_1d(f, 40, step_weight=4000.0, output="linear")
    crippled = u.Net(good.weights, good.biases, ("linear", "linear"))
    assert u.sup_error(good, f, X) < floor  # the sigmoid version beats every affine map
    assert u.sup_error(crippled, f, X) >= floor


# ---------------------------------------------------------------- beyond sigmoids


def test_relu_interpolant_error_bound():
    """Linear interpolation errs by at most (knot spacing)^2 max|f''| / 8."""
    second = np.abs(np.gradient(np.gradient(u.goal_function(X), X), X)).max()
    for n in (10, 40, 160):
        net = u.relu_interpolant(u.goal_function, n)
        assert net.activations == ("relu", "linear") and net.n_hidden == (n,)
        err = u.sup_error(net, u.goal_function, X)
        assert err <= (1 / n) ** 2 * second / 8 * 1.01
    errors = [u.sup_error(u.relu_interpolant(sine, n), sine, X) for n in (10, 40, 160)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-3


def test_sigmoid_like_has_the_needed_limits():
    assert u.sigmoid_like(-50.0) == pytest.approx(0.0, abs=1e-12)
    assert u.sigmoid_like(50.0) == pytest.approx(1.0, abs=1e-12)
    net = u.single_neuron(1000.0, -400.0, "sigmoid_like")
    assert_allclose(u.evaluate(net, [0.3, 0.5]), [0.0, 1.0], atol=1e-12)


# ---------------------------------------------------------------- design challenge


def test_design_solution_beats_the_books_target_and_is_optimal():
    best = u.design_solution()
    score = u.design_error(best)
    assert score < 0.40
    for k in range(5):
        for delta in (-0.05, 0.05):
            nudged = best.copy()
            nudged[k] += delta
            assert u.design_error(nudged) >= score - 1e-12  # medians: flat nearby


# ---------------------------------------------------------- shared vectors, figures


def test_shared_vectors_file_is_current():
    stored = json.loads(universality_vectors.OUT.read_text())
    fresh = json.loads(json.dumps(universality_vectors.build_vectors()))

    def compare(a, b, where):
        if isinstance(b, dict):
            assert a.keys() == b.keys(), where
            for k in b:
                compare(a[k], b[k], f"{where}.{k}")
        elif isinstance(b, list):
            assert len(a) == len(b), where
            for i, (p, q) in enumerate(zip(a, b, strict=True)):
                compare(p, q, f"{where}[{i}]")
        elif isinstance(b, float):
            assert a == pytest.approx(b, rel=1e-12, abs=1e-15), where
        else:
            assert a == b, where

    compare(stored, fresh, "vectors")


WIDGETS = [
    ("neuron", {"w": 8, "b": -4}, {}),
    ("neuron", {"w": 6, "b": -3}, {"activation": "sigmoid_like"}),
    ("step", {"s": 0.4}, {}),
    ("pair", {"s1": 0.4, "s2": 0.6, "w1": 0.6, "w2": 1.2}, {}),
    ("bumps", {"s1": 0.4, "t1": 0.6, "h1": 0.6}, {"bumps": 1}),
    ("design", pu.DESIGN_INIT, {}),
    ("approx", {"n": 5, "logw": 3, "m": 1}, {}),
    ("surface", {"w1": 8, "w2": 0, "b": -5}, {"mode": "neuron"}),
    ("surface", {"s": 0.5}, {"mode": "ystep"}),
    ("surface", {"h": 0.3, "b": -0.5}, {"mode": "tower"}),
    ("surface", {"w1": 0.7, "w2": 0.5}, {"mode": "twotowers"}),
    ("surface", {"n": 3, "m": 2}, {"mode": "towers"}),
]


@pytest.mark.parametrize(("kind", "state", "config"), WIDGETS)
def test_static_widget_figures_render(kind, state, config):
    import matplotlib.pyplot as plt

    values = pu.widget_values(kind, state, config)
    assert all(np.all(np.isfinite(np.asarray(v))) for v in values.values())
    plt.close(pu.widget_figure(kind, state, config))


def test_tower_widget_values_match_the_library():
    values = pu.widget_values("surface", {"h": 10.0, "b": -15.0}, {"mode": "tower"})
    i, j = np.searchsorted(pu.GRID, 0.5), np.searchsorted(pu.GRID, 0.5)
    assert values["z"][i, j] > 0.99  # inside [0.4, 0.6] x [0.3, 0.7]
    assert values["z"][0, j] < 0.01


def test_error_vs_n_experiment_ci(results_root):
    result = experiments.load_or_run("ch4.error_vs_n", profile="ci")
    rows = result.value["rows_1d"]
    grown = [r["wN_m4"] for r in rows]
    assert all(a > b for a, b in zip(grown, grown[1:], strict=False))
    assert result.value["design_error"] < 0.40
