"""``exp`` written out, so that a loop of sigmoids compiles to vector code.

Numba compiles ``np.exp`` of a float to a call of the C library's ``exp``,
one number at a time; a loop that calls it is never vectorized. The sigmoid
of every hidden and output neuron of every example made that call some two
million times an epoch for chapter 1's network, 10% of the epoch.
:func:`exp_nonpositive` computes the same function with multiplications,
additions and bit operations only, which LLVM vectorizes like any other
arithmetic: ``dense.neurons._activate`` then does a layer's sigmoids eight at a time.

Only ``x <= 0`` is needed (``exp(-|z|)`` in the sigmoid, ``exp(z - max z)``
in the softmax), which keeps every intermediate finite. Tested against
``np.exp`` over [-800, 0] (``tests/kernels/test_elementwise.py``): within one
unit in the last place for normal results, the same zeros and subnormals
to the last bit but one, NaN for NaN.
"""

import math
from fractions import Fraction

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from ._options import NJIT_OPTIONS

__all__ = ["exp_nonpositive", "float_from_bits", "fma"]

LOG2_E = 1.4426950408889634
# ln 2 = LN2_HI + LN2_LO, with LN2_HI's last 32 bits zero, so that n * LN2_HI
# is exact for |n| < 2**21 (Cody and Waite's reduction, as in fdlibm).
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
ROUND = 1.5 * 2.0**52  # x + ROUND - ROUND rounds x to an integer, for |x| < 2**51
LOWEST = -746.0  # exp(x) rounds to 0.0 for every x below about -745.13

# 1/k! for k = 2..13: the Taylor series of exp(r) for |r| <= ln(2)/2, whose
# first term left out, r**14/14!, is below 5e-18 (an ulp of 1.0 is 2.2e-16).
(C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13) = (
    1.0 / math.factorial(k) for k in range(2, 14)
)


def float_from_bits(bits):
    """The float64 whose IEEE 754 bit pattern is the int64 ``bits``."""
    return float(np.int64(bits).view(np.float64))


@intrinsic
def _float_from_bits(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@overload(float_from_bits)
def _float_from_bits_overload(bits):
    if isinstance(bits, types.Integer):
        return lambda bits: _float_from_bits(np.int64(bits))
    return None


def fma(a, b, c):
    """``a * b + c`` rounded once: a fused multiply-add of three float64s.

    Compiled, it is the ``llvm.fma`` instruction (one vector instruction per
    eight lanes once LLVM vectorizes the loop around it); in Python the
    exact value is formed with fractions and rounded once, so both give the
    same bits. It is more accurate than ``a * b + c`` (two roundings), and
    in a chain such as Horner's rule each step waits for one instruction
    instead of two.

    Examples
    --------
    >>> a, b = 1.0 + 2.0**-30, 1.0 - 2.0**-30  # a * b = 1 - 2**-60 exactly
    >>> a * b - 1.0, fma(a, b, -1.0)
    (0.0, -8.673617379884035e-19)
    """
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return float(a) * float(b) + float(c)  # inf and NaN: as unfused
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    try:
        return float(exact)  # int / int: correctly rounded, subnormals too
    except OverflowError:
        return math.inf if exact > 0 else -math.inf


@intrinsic
def _fma(typingctx, a, b, c):
    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(double, [double] * 3), "llvm.fma.f64"
        )
        return builder.call(function, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


@overload(fma)
def _fma_overload(a, b, c):
    if all(isinstance(t, types.Float) for t in (a, b, c)):
        return lambda a, b, c: _fma(np.float64(a), np.float64(b), np.float64(c))
    return None


@njit(**NJIT_OPTIONS)
def exp_nonpositive(x):
    """:math:`e^x` for ``x <= 0`` (NaN gives NaN), with no library call.

    Write :math:`x = n \\ln 2 + r` with ``n`` the nearest integer to
    :math:`x / \\ln 2` and :math:`|r| \\le \\ln(2)/2`; then
    :math:`e^x = 2^n e^r`, :math:`e^r` from its Taylor series (Horner's
    rule, each step one :func:`fma`) and :math:`2^n` from its bit pattern, in
    two halves so that each is a normal number even when the result is
    subnormal. No branches: a loop of
    calls vectorizes.
    """
    x = LOWEST if x < LOWEST else x  # NaN stays NaN
    n = (x * LOG2_E + ROUND) - ROUND
    n = 0.0 if n != n else n  # a NaN x must not reach the integer conversion
    r = (x - n * LN2_HI) - n * LN2_LO
    p = C13
    for c in (C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, 1.0, 1.0):
        p = fma(p, r, c)
    half = np.int64(n) >> 1  # floor(n / 2), so n = half + (n - half)
    low = float_from_bits((half + 1023) << 52)  # 2**half
    high = float_from_bits((np.int64(n) - half + 1023) << 52)
    return (p * low) * high
