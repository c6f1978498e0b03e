"""A Numba loop limited only by the CPU's fused multiply-add units.

Used by :mod:`nndl_core.bench` to measure the arithmetic peak that its
"arithmetic bound" divides by: the floating-point rate this core reaches in
the kind of code our kernels compile to (fused float64 multiply-adds on
vectors of :data:`~nndl_core.kernels.simd.LANES`, see
:mod:`nndl_core.kernels.simd`). ``tests/kernels/test_peak.py`` checks it
against the same loop in NumPy.
"""

import numpy as np
from numba import njit

from ._options import NJIT_OPTIONS
from .simd import LANES as VECTOR_LANES
from .simd import vfma, vload, vstore

__all__ = ["LANES", "multiply_add"]

#: Independent accumulators: eight vectors (eight 512-bit registers).
LANES = 8 * VECTOR_LANES


@njit(**NJIT_OPTIONS)
def multiply_add(acc, n, m, c):
    """``acc[:LANES] = acc[:LANES] * m + c``, ``n`` times: ``2 * LANES * n`` flops.

    Eight independent chains of fused multiply-adds, each held in a register
    for the whole loop: enough to hide their latency and keep every unit
    busy. With ``|m| < 1`` the values converge to ``c / (1 - m)`` and never
    overflow or turn subnormal.
    """
    add, w = vload(np.full(VECTOR_LANES, c), 0), VECTOR_LANES
    a_1, a_2 = vload(acc, 0), vload(acc, w)
    a_3, a_4 = vload(acc, 2 * w), vload(acc, 3 * w)
    a_5, a_6 = vload(acc, 4 * w), vload(acc, 5 * w)
    a_7, a_8 = vload(acc, 6 * w), vload(acc, 7 * w)
    for _ in range(n):
        a_1, a_2 = vfma(add, m, a_1), vfma(add, m, a_2)
        a_3, a_4 = vfma(add, m, a_3), vfma(add, m, a_4)
        a_5, a_6 = vfma(add, m, a_5), vfma(add, m, a_6)
        a_7, a_8 = vfma(add, m, a_7), vfma(add, m, a_8)
    for k, a in enumerate((a_1, a_2, a_3, a_4, a_5, a_6, a_7, a_8)):
        vstore(acc, k * w, a)
