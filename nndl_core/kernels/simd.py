"""Eight float64s at a time: the vector operations the dense kernels are built from.

Used by :mod:`nndl_core.kernels.dense` for the loops along a row of weights.
LLVM vectorizes such a loop by itself only behind a run-time check, per row,
that the row being written does not overlap the rows being read (Numba cannot
tell LLVM that two arrays never share memory), and it never keeps a row of
sums in registers across rows for the same reason. Writing the loop with
explicit vectors says both things: ``acc = vfma(acc, v, vload(row, j))``
keeps ``acc`` in a register for as long as the loop runs, and nothing is
checked at run time.

Each function is plain Python with NumPy (what it means, and what runs under
``NUMBA_DISABLE_JIT=1``), and has a compiled twin registered with
``numba.extending.overload`` that emits one LLVM vector instruction:

=====================  ===============================  ======================
function               meaning                          compiled to
=====================  ===============================  ======================
``vzero()``            ``zeros(LANES)``                 a constant
``vload(a, j)``        ``a[j:j + LANES]`` (a copy)      one vector load
``vstore(a, j, v)``    ``a[j:j + LANES] = v``           one vector store
``vfma(acc, s, w)``    ``acc + s * w``                  ``llvm.fma`` (fused)
``prefetch(a, j)``     nothing                          ``llvm.prefetch``
=====================  ===============================  ======================

``a`` is a C-contiguous float64 array of one dimension (or, for
``prefetch``, of any dtype), and ``j + LANES <= len(a)`` is the caller's
promise: the compiled versions check no bounds, like Numba's own indexing.
``vfma`` rounds once (a fused multiply-add) where the Python version rounds
twice; the kernels' tests allow for that difference (about 1e-16 relative).

Vectors are fastest when each starts a cache line: :func:`aligned_zeros`
makes buffers whose element 0 does (NumPy's and Numba's own allocations
start 16 or 32 bytes into one, so that every vector of a row would straddle
two lines).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model

from ._options import NJIT_OPTIONS

__all__ = [
    "ALIGNMENT",
    "LANES",
    "aligned_zeros",
    "prefetch",
    "vfma",
    "vload",
    "vload_at",
    "vstore",
    "vstore_at",
    "vzero",
]

#: float64s per vector: one AVX-512 register, two AVX2 registers, four NEON.
LANES = 8
#: Bytes: one cache line, and one vector of LANES float64s.
ALIGNMENT = 64

_VECTOR = ir.VectorType(ir.DoubleType(), LANES)
_I32 = ir.IntType(32)


class _VectorType(types.Type):
    """Numba's type for LANES float64s held as one LLVM vector value."""

    def __init__(self):
        super().__init__(name=f"Float64x{LANES}")


vector = _VectorType()


@register_model(_VectorType)
class _VectorModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VECTOR)


@njit(**NJIT_OPTIONS)
def aligned_zeros(n):
    """``np.zeros(n)`` (float64) whose element 0 starts a cache line.

    A view into a slightly longer array; offsets that are multiples of
    ``LANES`` then start cache lines too.
    """
    raw = np.zeros(n + ALIGNMENT // 8)
    skip = (ALIGNMENT - raw.ctypes.data % ALIGNMENT) % ALIGNMENT // 8
    return raw[skip : skip + n]


# --- what each operation means (and what runs with NUMBA_DISABLE_JIT=1) ------


def vzero():
    """A vector of zeros."""
    return np.zeros(LANES)


def vload(a, j):
    """``a[j:j + LANES]``, as a vector."""
    return np.array(a[j : j + LANES], dtype=np.float64)


def vstore(a, j, v):
    """``a[j:j + LANES] = v``."""
    a[j : j + LANES] = v


def vload_at(a, i, j):
    """``a[i, j:j + LANES]``, as a vector, for a matrix ``a``."""
    return np.array(a[i, j : j + LANES], dtype=np.float64)


def vstore_at(a, i, j, v):
    """``a[i, j:j + LANES] = v`` for a matrix ``a``."""
    a[i, j : j + LANES] = v


def vfma(acc, s, w):
    """``acc + s * w`` for vectors ``acc``, ``w``, a scalar ``s``; fused if compiled."""
    return acc + s * w


def prefetch(a, j):
    """Ask for the cache line holding ``a[j]`` ahead of use; only a hint."""


# --- the compiled twins -----------------------------------------------------------


def _element_pointer(context, builder, array_type, array, index):
    """The address of ``array[index]`` (one-dimensional, no wraparound)."""
    array = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(
        context, builder, array_type, array, [index], wraparound=False
    )


def _vector_pointer(context, builder, array_type, array, index):
    pointer = _element_pointer(context, builder, array_type, array, index)
    return builder.bitcast(pointer, _VECTOR.as_pointer())


def _matrix_vector_pointer(context, builder, signature, array, i, j):
    """The address of ``array[i, j]`` (a C-contiguous matrix), as a vector's."""
    i = context.cast(builder, i, signature.args[1], types.intp)
    j = context.cast(builder, j, signature.args[2], types.intp)
    array_type = signature.args[0]
    array = context.make_array(array_type)(context, builder, array)
    pointer = cgutils.get_item_pointer(
        context, builder, array_type, array, [i, j], wraparound=False
    )
    return builder.bitcast(pointer, _VECTOR.as_pointer())


def _is_float_row(a):
    return (
        isinstance(a, types.Array)
        and a.ndim == 1
        and a.dtype == types.float64
        and a.layout == "C"
    )


@intrinsic
def _vzero(typingctx):
    def codegen(context, builder, signature, args):
        return ir.Constant(_VECTOR, [0.0] * LANES)

    return vector(), codegen


@intrinsic
def _vload(typingctx, a, j):
    def codegen(context, builder, signature, args):
        pointer = _vector_pointer(context, builder, signature.args[0], *args)
        return builder.load(pointer, align=8)

    return vector(a, j), codegen


@intrinsic
def _vstore(typingctx, a, j, v):
    def codegen(context, builder, signature, args):
        pointer = _vector_pointer(context, builder, signature.args[0], *args[:2])
        builder.store(args[2], pointer, align=8)
        return context.get_dummy_value()

    return types.none(a, j, v), codegen


@intrinsic
def _vload_at(typingctx, a, i, j):
    def codegen(context, builder, signature, args):
        pointer = _matrix_vector_pointer(context, builder, signature, *args)
        return builder.load(pointer, align=8)

    return vector(a, i, j), codegen


@intrinsic
def _vstore_at(typingctx, a, i, j, v):
    def codegen(context, builder, signature, args):
        pointer = _matrix_vector_pointer(context, builder, signature, *args[:3])
        builder.store(args[3], pointer, align=8)
        return context.get_dummy_value()

    return types.none(a, i, j, v), codegen


@intrinsic
def _vfma(typingctx, acc, s, w):
    def codegen(context, builder, signature, args):
        acc, s, w = args
        s = context.cast(builder, s, signature.args[1], types.float64)
        one = builder.insert_element(ir.Constant(_VECTOR, None), s, _I32(0))
        splat = builder.shuffle_vector(
            one, one, ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES)
        )
        fma_type = ir.FunctionType(_VECTOR, [_VECTOR] * 3)
        fma = cgutils.get_or_insert_function(
            builder.module, fma_type, f"llvm.fma.v{LANES}f64"
        )
        return builder.call(fma, [splat, w, acc])

    return vector(acc, s, w), codegen


@intrinsic
def _prefetch(typingctx, a, j):
    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature.args[0], *args)
        byte_pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
        hint_type = ir.FunctionType(
            ir.VoidType(), [ir.IntType(8).as_pointer(), _I32, _I32, _I32]
        )
        hint = cgutils.get_or_insert_function(
            builder.module, hint_type, "llvm.prefetch.p0i8"
        )
        # read, locality 2 (keep in the outer caches), data cache
        builder.call(hint, [byte_pointer, _I32(0), _I32(2), _I32(1)])
        return context.get_dummy_value()

    return types.none(a, j), codegen


@overload(vzero)
def _vzero_overload():
    return lambda: _vzero()


@overload(vload)
def _vload_overload(a, j):
    if _is_float_row(a) and isinstance(j, types.Integer):
        return lambda a, j: _vload(a, j)
    return None


@overload(vstore)
def _vstore_overload(a, j, v):
    if _is_float_row(a) and isinstance(j, types.Integer) and v == vector:
        return lambda a, j, v: _vstore(a, j, v)
    return None


def _is_float_matrix(a):
    return (
        isinstance(a, types.Array)
        and a.ndim == 2
        and a.dtype == types.float64
        and a.layout == "C"
    )


def _are_indices(*indices):
    return all(isinstance(i, types.Integer) for i in indices)


@overload(vload_at)
def _vload_at_overload(a, i, j):
    if _is_float_matrix(a) and _are_indices(i, j):
        return lambda a, i, j: _vload_at(a, i, j)
    return None


@overload(vstore_at)
def _vstore_at_overload(a, i, j, v):
    if _is_float_matrix(a) and _are_indices(i, j) and v == vector:
        return lambda a, i, j, v: _vstore_at(a, i, j, v)
    return None


@overload(vfma)
def _vfma_overload(acc, s, w):
    if acc == vector and w == vector and isinstance(s, types.Number):
        return lambda acc, s, w: _vfma(acc, s, w)
    return None


@overload(prefetch)
def _prefetch_overload(a, j):
    if isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C":
        return lambda a, j: _prefetch(a, j)
    return None
