import numpy as np
from numpy.testing import assert_allclose

from nndl_core.activations import sigmoid, sigmoid_prime


def test_sigmoid_matches_the_definition_where_that_is_safe(rng):
    z = rng.uniform(-30, 30, size=100)
    expected = 1.0 / (1.0 + np.exp(-z))
    assert_allclose(sigmoid(z), expected, rtol=1e-14)


def test_sigmoid_is_stable_at_extremes():
    actual = sigmoid(np.array([-1e4, -800.0, 0.0, 800.0, 1e4]))
    assert_allclose(actual, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-300)


def test_sigmoid_prime_is_the_derivative(rng):
    z = rng.uniform(-8, 8, size=50)
    h = 1e-6
    expected = (sigmoid(z + h) - sigmoid(z - h)) / (2 * h)
    assert_allclose(sigmoid_prime(z), expected, rtol=1e-7, atol=1e-12)
    assert sigmoid_prime(np.array(0.0)) == 0.25
