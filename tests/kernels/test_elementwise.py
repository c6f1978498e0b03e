"""``exp_nonpositive`` agrees with ``np.exp`` on x <= 0; ``fma`` rounds once."""

import numpy as np
import pytest
from numba import njit

from nndl_core.kernels.elementwise import exp_nonpositive, float_from_bits, fma

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


@njit
def _fma_all(a, b, c, out):
    for i in range(a.shape[0]):
        out[i] = fma(a[i], b[i], c[i])


def _triples(rng, n):
    scale = 2.0 ** rng.integers(-60, 60, (3, n))
    a, b, c = rng.standard_normal((3, n)) * scale
    return a, b, -a * b + c * 1e-12  # c near -a*b: where one rounding matters


def test_fma_compiled_equals_python(rng):
    a, b, c = _triples(rng, 2_000)
    compiled = np.empty_like(a)
    _fma_all(a, b, c, compiled)
    python = np.array([fma(x, y, z) for x, y, z in zip(a, b, c, strict=True)])
    np.testing.assert_array_equal(compiled, python)
    assert np.any(compiled != a * b + c)  # fused and unfused do differ here


@pytest.mark.parametrize(
    ("a", "b", "c", "expected"),
    [
        (1.0 + 2.0**-30, 1.0 - 2.0**-30, -1.0, -(2.0**-60)),  # unfused: 0.0
        (2.0**-600, 2.0**-600, 0.0, 0.0),  # underflows once
        (2.0**-537, 2.0**-537, 0.0, 2.0**-1074),  # the smallest subnormal
        (1e308, 10.0, -1e308, np.inf),  # 9e308 overflows
        (np.inf, 0.0, 1.0, np.nan),
        (np.inf, 1.0, -np.inf, np.nan),
        (np.nan, 1.0, 1.0, np.nan),
        (-np.inf, 2.0, 1.0, -np.inf),
    ],
)
def test_fma_values(a, b, c, expected):
    compiled = np.empty(1)
    _fma_all(np.array([a]), np.array([b]), np.array([c]), compiled)
    np.testing.assert_array_equal([fma(a, b, c), compiled[0]], [expected, expected])
