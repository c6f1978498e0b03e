"""The vector operations compile to what their Python meaning says."""

import numpy as np
import pytest
from numba import config, njit
from numba.core.errors import TypingError

from nndl_core.kernels import simd
from nndl_core.kernels.simd import (
    LANES,
    prefetch,
    vfma,
    vload,
    vload_at,
    vstore,
    vstore_at,
    vzero,
)


def _axpy_rows(out, rows, scales):
    """out[:] = sum_i scales[i] * rows[i], LANES at a time (the kernels' pattern)."""
    for j in range(0, out.shape[0], LANES):
        acc = vzero()
        for i in range(rows.shape[0]):
            prefetch(rows[i], j)
            acc = vfma(acc, scales[i], vload(rows[i], j))
        vstore(out, j, acc)


_axpy_rows_compiled = njit(_axpy_rows)


def test_compiled_equals_python_meaning_on_exact_values():
    rows = np.arange(3 * 2 * LANES, dtype=np.float64).reshape(3, 2 * LANES)
    scales = np.array([1.0, -2.0, 0.5])
    expected, actual = np.zeros(2 * LANES), np.zeros(2 * LANES)
    _axpy_rows(expected, rows, scales)  # small integers and halves: no rounding
    _axpy_rows_compiled(actual, rows, scales)
    np.testing.assert_array_equal(actual, expected)
    np.testing.assert_array_equal(actual, scales @ rows)


def test_fused_multiply_add_rounds_once(rng):
    rows = rng.standard_normal((50, 4 * LANES))
    scales = rng.standard_normal(50)
    expected, actual = np.zeros(4 * LANES), np.zeros(4 * LANES)
    _axpy_rows(expected, rows, scales)
    _axpy_rows_compiled(actual, rows, scales)
    np.testing.assert_allclose(actual, expected, rtol=1e-13, atol=1e-14)
    # one fused step is the exactly rounded a + s*w: 1 + 2**-30 * 2**-30 is not 1
    one = np.ones(LANES)
    fused = np.zeros(LANES)
    _axpy_rows_compiled(fused, np.stack([one, one]), np.array([1.0, 2.0**-60]))
    assert (fused == 1.0 + 2.0**-60).all()  # 1 + 2**-60 rounds to 1.0 either way


@njit
def _store_middle(a, v):
    vstore(a, LANES, vfma(vzero(), v, vload(a, LANES)))


def test_vstore_writes_only_its_lanes():
    a = np.arange(3 * LANES, dtype=np.float64)
    _store_middle(a, 2.0)
    expected = np.arange(3 * LANES, dtype=np.float64)
    expected[LANES : 2 * LANES] *= 2.0
    np.testing.assert_array_equal(a, expected)


def test_python_meaning():
    a = np.arange(2 * LANES, dtype=np.float64)
    v = vload(a, LANES)
    v[0] = -1.0  # a copy, as a register would be
    assert a[LANES] == LANES
    vstore(a, 0, vfma(vzero(), 3.0, v))
    np.testing.assert_array_equal(a[:LANES], 3.0 * np.r_[-1.0, LANES + 1 : 2 * LANES])
    assert prefetch(a, 0) is None


def _add_rows_at(target, rows, scales, delta):
    """target[rows[i]] += scales[i] * delta, through the matrix operations."""
    for j in range(0, target.shape[1], LANES):
        d = vload(delta, j)
        for i in range(rows.shape[0]):
            k = rows[i]
            vstore_at(target, k, j, vfma(vload_at(target, k, j), scales[i], d))


_add_rows_at_compiled = njit(_add_rows_at)


def test_matrix_operations_compile_to_their_python_meaning():
    rows = np.array([2, 0, 2], dtype=np.uint32)  # uint32, as the pixel lists
    scales = np.array([1.0, -2.0, 0.5])
    delta = np.arange(2 * LANES, dtype=np.float64)
    expected = np.arange(3 * 2 * LANES, dtype=np.float64).reshape(3, 2 * LANES)
    actual = expected.copy()
    _add_rows_at(expected, rows, scales, delta)  # exact: no rounding
    _add_rows_at_compiled(actual, rows, scales, delta)
    np.testing.assert_array_equal(actual, expected)
    assert expected[1].tolist() == list(range(2 * LANES, 4 * LANES))  # untouched
    twice = np.arange(4 * LANES, 6 * LANES) + 1.5 * delta  # rows 2 twice: 1 + 0.5
    np.testing.assert_array_equal(expected[2], twice)


def test_matrix_python_meaning():
    a = np.arange(2 * LANES, dtype=np.float64).reshape(2, LANES)
    v = vload_at(a, 1, 0)
    v[0] = -1.0  # a copy, as a register would be
    assert a[1, 0] == LANES
    vstore_at(a, 0, 0, v)
    np.testing.assert_array_equal(a[0], np.r_[-1.0, LANES + 1 : 2 * LANES])


@njit
def _load_2d(a):
    return vload(a, 0)


@njit
def _load_at_1d(a):
    return vload_at(a, 0, 0)


@pytest.mark.skipif(config.DISABLE_JIT, reason="nothing is compiled")
def test_wrong_array_kind_fails_to_compile():
    with pytest.raises(TypingError):
        _load_2d(np.zeros((2, LANES)))
    with pytest.raises(TypingError):
        _load_at_1d(np.zeros(LANES))
    with pytest.raises(TypingError):
        _load_at_1d(np.zeros((LANES, 2)).T)  # not C-contiguous


def test_a_vector_is_one_cache_line():
    assert simd.LANES * 8 == simd.ALIGNMENT == 64  # bytes


@pytest.mark.parametrize("n", [0, 1, 9, 1000])
def test_aligned_zeros_start_a_cache_line(n):
    python_body = getattr(simd.aligned_zeros, "py_func", simd.aligned_zeros)
    for make in (simd.aligned_zeros, python_body):
        a = make(n)
        assert a.shape == (n,) and a.dtype == np.float64 and not a.any()
        assert n == 0 or a.ctypes.data % simd.ALIGNMENT == 0
        assert a.flags.c_contiguous and a.flags.writeable
