"""A Numba loop limited only by the CPU's multiply and add units.

Used by :mod:`nndl_core.bench` to measure the arithmetic peak that its
"arithmetic bound" divides by: the floating-point rate this core reaches in
the kind of code our kernels compile to (separate float64 multiplies and
adds; without ``fastmath`` LLVM fuses nothing into FMA instructions).
``tests/kernels/test_peak.py`` checks it against the same loop in NumPy.
"""

from numba import njit

from ._options import NJIT_OPTIONS

__all__ = ["LANES", "multiply_add"]

#: Independent accumulators: eight 512-bit registers' worth of float64.
LANES = 64


@njit(**NJIT_OPTIONS)
def multiply_add(acc, n, m, c):
    """``acc[:LANES] = acc[:LANES] * m + c``, ``n`` times: ``2 * LANES * n`` flops.

    The inner loop has a fixed length, so LLVM vectorizes it completely and,
    since nothing else touches memory, keeps ``acc`` in registers for the
    whole outer loop: eight chains of 512-bit multiplies and adds (sixteen of
    256-bit ones), enough to hide their latency and keep every multiply and
    add unit busy. With ``|m| < 1`` the values converge to ``c / (1 - m)``
    and never overflow or turn subnormal.
    """
    for _ in range(n):
        for j in range(LANES):
            acc[j] = acc[j] * m + c
