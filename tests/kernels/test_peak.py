"""The peak-rate loop computes what the same loop in NumPy computes."""

import numpy as np

from nndl_core.kernels import peak


def test_multiply_add_matches_numpy(rng):
    acc = rng.standard_normal(peak.LANES)
    expected = acc.copy()
    for _ in range(7):
        expected = expected * 0.75 + 0.5
    actual = acc.copy()
    peak.multiply_add(actual, 7, 0.75, 0.5)
    # the kernel fuses each multiply and add (one rounding instead of two)
    np.testing.assert_allclose(actual, expected, rtol=1e-15, atol=1e-15)


def test_multiply_add_converges_without_overflow():
    acc = np.full(peak.LANES, 1e300)
    peak.multiply_add(acc, 5000, 0.5, 1.0)
    np.testing.assert_allclose(acc, 2.0)
