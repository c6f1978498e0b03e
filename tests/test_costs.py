import numpy as np
import pytest
from numpy.testing import assert_allclose

from nndl_core.activations import sigmoid
from nndl_core.costs import CrossEntropyCost, QuadraticCost
from nndl_core.gradient_check import numerical_gradient


def test_quadratic_fn_sums_half_squared_errors():
    a = np.array([[0.2, 0.9], [0.8, 0.1]])
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert QuadraticCost.fn(a, y) == pytest.approx(0.05, rel=1e-14)


@pytest.mark.parametrize("cost", [QuadraticCost, CrossEntropyCost])
def test_delta_is_the_derivative_wrt_z(cost, rng):
    z = rng.normal(size=(3, 4))
    y = rng.random((3, 4))
    (expected,) = numerical_gradient(lambda: cost.fn(sigmoid(z), y), [z])
    actual = cost.delta(z, sigmoid(z), y)
    assert_allclose(actual, expected, rtol=1e-6, atol=1e-9)


def test_cross_entropy_is_finite_when_outputs_saturate():
    a = np.array([[1.0, 0.0]])
    y = np.array([[0.0, 1.0]])
    cost = CrossEntropyCost.fn(a, y)
    assert np.isfinite(cost) and cost == pytest.approx(-2 * np.log(1e-16), rel=0.01)
    assert CrossEntropyCost.fn(np.array([[1.0]]), np.array([[1.0]])) < 1e-12
