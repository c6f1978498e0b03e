"""``exp_nonpositive`` agrees with ``np.exp`` on x <= 0 (kernel == NumPy)."""

import numpy as np
import pytest
from numba import njit

from nndl_core.kernels.elementwise import exp_nonpositive, float_from_bits

ULP_OF_ONE = np.finfo(np.float64).eps
SMALLEST_SUBNORMAL = 5e-324


@njit
def _exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i])


def _exp(x):
    out = np.empty_like(x)
    _exp_all(x, out)
    return out


@pytest.fixture
def points(rng):
    return -np.concatenate(
        [
            rng.random(200_000) * 800.0,  # down to underflow and beyond
            rng.random(200_000) * 2.0,  # the common range of the sigmoid
            rng.random(1_000) * 1e-10,  # near 0
            [0.0, 1e-300, 0.5 * np.log(2), 708.39, 745.13, 745.14, 746.0, 1e5],
        ]
    )


def test_within_one_ulp_of_numpy(points):
    actual, expected = _exp(points), np.exp(points)
    normal = expected >= np.finfo(np.float64).tiny
    relative = np.abs(actual[normal] - expected[normal]) / expected[normal]
    assert relative.max() <= 1.01 * ULP_OF_ONE
    subnormal = np.abs(actual[~normal] - expected[~normal])
    assert subnormal.max() <= SMALLEST_SUBNORMAL
    np.testing.assert_array_equal(actual == 0.0, expected == 0.0)


def test_special_values():
    actual = _exp(np.array([0.0, -0.0, -np.inf, np.nan, -1e308]))
    np.testing.assert_array_equal(actual, [1.0, 1.0, 0.0, np.nan, 0.0])


def test_python_body_computes_the_same_bits(points):
    sample = points[::997]
    python_body = getattr(exp_nonpositive, "py_func", exp_nonpositive)
    python = np.array([python_body(x) for x in sample])
    np.testing.assert_array_equal(python, _exp(sample))


@njit
def _bits(b):
    return float_from_bits(b)


@pytest.mark.parametrize("value", [1.0, -2.5, 2.0**-1074, np.inf])
def test_float_from_bits(value):
    bits = int(np.float64(value).view(np.int64))
    assert _bits(bits) == value
    assert float_from_bits(bits) == value
