"""The conv-pool layer's passes, with the signatures of :mod:`nndl_core.conv`.

:func:`conv_pool_forward` and :func:`conv_pool_backward` are what training
runs; :func:`conv2d_forward`, :func:`conv2d_backward`,
:func:`maxpool_forward` and :func:`maxpool_backward` mirror the references'
separate steps. ``tests/kernels/conv/test_layer.py`` checks that they agree.

*Backward: only the winners.* After max-pooling, only one position in four
(2x2 pooling) has a nonzero gradient: its window's winner. So the backward
pass (:func:`conv_pool_backward_kernel`) lists each map's winners ``p``
(from the switches) with their deltas, and the weight gradient of map ``f``
is a combination of the rows ``cols_t[p]`` of its winners; likewise the
gradient of input window ``p`` is a combination of the filters ``w_2d[f]``
of the maps it won. That is a quarter of the arithmetic of the dense
products, every inner loop runs along a contiguous row of ``c*k*k``
numbers, and ReLU's zeros are skipped too. The windows are copied again for
the backward pass (``cols_t``) instead of being kept: evaluation never
needs them.

*Memory.* The wrappers take their temporaries from :func:`_scratch`, which
reuses them across calls; what they return is always freshly allocated.
"""

import threading

import numpy as np
from numba import njit

from .._options import NJIT_OPTIONS
from .gemm import _combine_rows, col2im, conv_gemm, im2col
from .pooling import (
    ACTIVATION_CODES,
    LINEAR,
    _prime_from_output,
    maxpool2_act_forward,
    maxpool_act_forward,
    maxpool_backward_kernel,
)

__all__ = [
    "conv2d_backward",
    "conv2d_forward",
    "conv_pool_backward",
    "conv_pool_forward",
    "maxpool_backward",
    "maxpool_forward",
]


@njit(**NJIT_OPTIONS)
def conv_pool_backward_kernel(
    delta_a,
    a,
    switches,
    code,
    pool,
    oh,
    ow,
    w_2d,
    cols_t,
    nabla_w,
    nabla_b,
    dcols_t,
    delta_at,
    index,
    value,
):
    """Gradients of a conv-pool layer from the pooled outputs' ``delta_a``.

    Each pooled output's ``delta = delta_a * act'`` belongs to its window's
    winner, position ``p``. Then ``nabla_b[f] = sum delta``,
    ``nabla_w[f] = sum delta * cols_t[p]`` over map ``f``'s winners, and (if
    ``dcols_t`` has rows) ``dcols_t[p] = sum delta * w_2d[f]`` over the maps
    whose winner is ``p``. Zero deltas (ReLU's, mostly) are skipped.
    Workspace: ``delta_at`` (rows of ``dcols_t``, f) collects the sparse
    transposed deltas; ``index`` and ``value`` hold at least
    ``max(m * rows * cols, f)`` entries.
    """
    m, n_maps, rows, cols = delta_a.shape
    need_dx = dcols_t.shape[0] > 0
    if need_dx:
        delta_at[:] = 0
    for f in range(n_maps):
        count = 0
        nabla_b[f] = 0
        for n in range(m):
            for pi in range(rows):
                for pj in range(cols):
                    d = delta_a[n, f, pi, pj] * _prime_from_output(
                        a[n, f, pi, pj], code
                    )
                    s = switches[n, f, pi, pj]
                    p = (n * oh + pi * pool + s // pool) * ow + pj * pool + s % pool
                    index[count], value[count] = p, d
                    if need_dx:
                        delta_at[p, f] = value[count]
                    nabla_b[f] += value[count]
                    count += d != 0  # kept only if nonzero: no branch to mispredict
        _combine_rows(index, value, count, cols_t, nabla_w[f])
    for p in range(dcols_t.shape[0]):
        count = 0
        for f in range(n_maps):
            index[count], value[count] = f, delta_at[p, f]
            count += delta_at[p, f] != 0
        _combine_rows(index, value, count, w_2d, dcols_t[p])


_SCRATCH = threading.local()  # one set of temporaries per thread


def _scratch(role, shape, dtype):
    """A reusable temporary array of ``shape``: one per ``role``, dtype and thread.

    Why: the temporaries here are large (the second layer's windows are
    1.3 MB) and several are alive at once; glibc gives such memory back to
    the system when it is freed and takes page faults to get it again, which
    made a fresh set per call cost three times the arithmetic. Only arrays
    that never leave the wrapper that asked for them come from here. A role
    keeps one shape: a new one (evaluation's larger batches) replaces it.
    """
    arrays = _SCRATCH.__dict__
    key = (role, shape, dtype)
    array = arrays.get(key)
    if array is None:
        for old in [k for k in arrays if k[0] == role]:
            del arrays[old]
        array = arrays[key] = np.empty(shape, dtype=dtype)
    return array


def _check(x, w):
    if (
        x.ndim != 4
        or w.ndim != 4
        or x.shape[1] != w.shape[1]
        or w.shape[2] != w.shape[3]
    ):
        raise ValueError(
            f"need x (m, c, h, w) and square filters (f, c, k, k); got {x.shape} "
            f"and {w.shape}"
        )
    if w.shape[2] > min(x.shape[2], x.shape[3]):
        raise ValueError(f"filters {w.shape} are larger than the images {x.shape}")


def _windows(x, k, transposed):
    """``cols`` (c*k*k, positions), or ``cols_t`` (positions, c*k*k), of ``x``."""
    m, c, h, w = x.shape
    shape = (c * k * k, m * (h - k + 1) * (w - k + 1))
    none = np.empty((0, 0), dtype=x.dtype)
    if transposed:
        cols_t = _scratch("cols_t", shape[::-1], x.dtype)
        im2col(x, k, none, cols_t)
        return cols_t
    cols = _scratch("cols", shape, x.dtype)
    im2col(x, k, cols, none)
    return cols


def _forward_z(x, w, b):
    """The pre-pooling ``z`` as (f, m*oh*ow), a temporary."""
    _check(x, w)
    dtype = x.dtype
    x = np.ascontiguousarray(x)
    w_2d = np.ascontiguousarray(w.reshape(w.shape[0], -1), dtype=dtype)
    cols = _windows(x, w.shape[2], transposed=False)
    z = _scratch("z", (w.shape[0], cols.shape[1]), dtype)
    conv_gemm(w_2d, cols, np.ascontiguousarray(b, dtype=dtype).reshape(-1), z)
    return z


def conv2d_forward(x, w, b):
    """Kernel version of :func:`nndl_core.conv.conv2d_forward` (same arguments)."""
    z = _forward_z(x, w, b)
    m, oh, ow = x.shape[0], x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1
    z = z.reshape(w.shape[0], m, oh, ow).transpose(1, 0, 2, 3)
    return np.array(z, order="C")  # always a copy: z is a temporary


def conv_pool_forward(x, w, b, activation, pool):
    """Kernel version of :func:`nndl_core.conv.conv_pool_forward` (same cache)."""
    z = _forward_z(x, w, b)
    m, oh, ow = x.shape[0], x.shape[2] - w.shape[2] + 1, x.shape[3] - w.shape[3] + 1
    shape = (m, w.shape[0], oh // pool, ow // pool)
    a = np.empty(shape, dtype=x.dtype)
    switches = np.empty(shape, dtype=np.int64)
    code = ACTIVATION_CODES[activation]
    if pool == 2:
        maxpool2_act_forward(z, m, oh, ow, code, a, switches)
    else:
        maxpool_act_forward(z, m, oh, ow, int(pool), code, a, switches)
    return a, (x, a, switches)


def conv_pool_backward(delta_a, cache, w, activation, pool, need_input_grad=True):
    """Kernel version of :func:`nndl_core.conv.conv_pool_backward`.

    The input windows ``cols_t`` are built again here rather than kept from
    the forward pass: evaluation never needs them, and a temporary can be
    reused from one mini-batch to the next.
    """
    x, a, switches = cache
    dtype = a.dtype
    f, c, k, _ = w.shape
    x = np.ascontiguousarray(x, dtype=dtype)
    cols_t = _windows(x, k, transposed=True)
    n_positions, n_weights = cols_t.shape
    w_2d = np.ascontiguousarray(w.reshape(f, -1), dtype=dtype)
    nabla_w = np.empty((f, n_weights), dtype=dtype)
    nabla_b = np.empty(f, dtype=dtype)
    rows = n_positions if need_input_grad else 0
    dcols_t = _scratch("dcols_t", (rows, n_weights), dtype)
    n_list = max(a.size // f, f)
    oh, ow = x.shape[2] - k + 1, x.shape[3] - k + 1
    conv_pool_backward_kernel(
        np.ascontiguousarray(delta_a, dtype=dtype),
        a,
        switches,
        ACTIVATION_CODES[activation],
        int(pool),
        oh,
        ow,
        w_2d,
        cols_t,
        nabla_w,
        nabla_b,
        dcols_t,
        _scratch("delta_at", (rows, f), dtype),
        _scratch("index", (n_list,), np.int64),
        _scratch("value", (n_list,), dtype),
    )
    nabla_x = None
    if need_input_grad:
        nabla_x = np.empty(x.shape, dtype=dtype)
        col2im(dcols_t, k, nabla_x)
    return nabla_x, nabla_w.reshape(w.shape), nabla_b


def conv2d_backward(x, w, delta):
    """Kernel version of :func:`nndl_core.conv.conv2d_backward`.

    The conv-pool backward kernel with 1x1 "pooling" and a linear activation
    is exactly the convolution's backward pass.
    """
    _check(x, w)
    switches = np.zeros(delta.shape, dtype=np.int64)
    return conv_pool_backward(delta, (x, delta, switches), w, "linear", 1)


def maxpool_forward(z, pool):
    """Kernel version of :func:`nndl_core.conv.maxpool_forward`."""
    m, c, h, w = z.shape
    z_maps = np.ascontiguousarray(z.transpose(1, 0, 2, 3)).reshape(c, m * h * w)
    shape = (m, c, h // pool, w // pool)
    pooled = np.empty(shape, dtype=z.dtype)
    switches = np.empty(shape, dtype=np.int64)
    if pool == 2:
        maxpool2_act_forward(z_maps, m, h, w, LINEAR, pooled, switches)
    else:
        maxpool_act_forward(z_maps, m, h, w, int(pool), LINEAR, pooled, switches)
    return pooled, switches


def maxpool_backward(delta_pooled, switches, pool, shape):
    """Kernel version of :func:`nndl_core.conv.maxpool_backward`."""
    delta = np.empty(shape, dtype=delta_pooled.dtype)
    maxpool_backward_kernel(
        np.ascontiguousarray(delta_pooled),
        np.ascontiguousarray(switches),
        int(pool),
        delta,
    )
    return delta
