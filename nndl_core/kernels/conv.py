"""Numba kernels for chapter 6's conv-pool layers.

Used by :class:`nndl_core.conv.ConvPoolLayer` with ``backend="numba"``. The
Python wrappers at the bottom have the signatures of the readable
references in :mod:`nndl_core.conv`, and ``tests/kernels/test_conv.py``
checks that they agree: :func:`conv2d_forward`, :func:`conv2d_backward`,
:func:`maxpool_forward`, :func:`maxpool_backward`, and the fused
:func:`conv_pool_forward` / :func:`conv_pool_backward` that training runs.
They work in float64 (tested at ``rtol=1e-12``) and in float32 (the fast
path of :class:`nndl_core.convnet.Network3`), compiled once per dtype, on
one core. The kernels of the fully connected and softmax layers that follow
(:mod:`nndl_core.kernels.layers`) reuse this module's :func:`conv_gemm`,
activations and temporaries.

Design
------
*Forward: im2col + a register-friendly GEMM.* :func:`im2col` copies every
``k x k x c`` input window of the mini-batch into a column of ``cols``
(``c*k*k`` rows, one column per output position of every example). Then all
feature maps of the whole mini-batch are one matrix product,
``z = w_2d @ cols + b`` (:func:`conv_gemm`): for the book's second layer a
(40 x 500) by (500 x 640) product. Its inner loop runs along a contiguous
row of ``z`` and combines four rows of ``w_2d`` with four rows of ``cols``
per pass, so each load and store of ``z`` carries four multiply-adds, and
LLVM vectorizes it. ``z`` is laid out (maps, examples, rows, columns);
:func:`maxpool2_act_forward` (2x2 windows) or :func:`maxpool_act_forward`
(any size) reads it, pools, applies the activation (after pooling, as
network3 does) and writes the output in the usual (examples, maps, rows,
columns) layout, recording the winner of each window ("switch").

*Backward: only the winners.* After max-pooling, only one position in four
(2x2 pooling) has a nonzero gradient: its window's winner. So the backward
pass lists each map's winners ``p`` (from the switches) with their deltas,
and the weight gradient of map ``f`` is a combination of the rows
``cols_t[p]`` of its winners; likewise the gradient of input window ``p``
is a combination of the filters ``w_2d[f]`` of the maps it won
(:func:`_combine_rows`, four rows per pass). That is a quarter of the
arithmetic of the dense products, every inner loop runs along a contiguous
row of ``c*k*k`` numbers, and ReLU's zeros are skipped too. :func:`col2im`
then adds each window's gradient back onto the input pixels it came from.
The windows are copied again for the backward pass (``cols_t``) instead of
being kept: evaluation never needs them.

*Memory.* The wrappers take their temporaries from :func:`_scratch`, which
reuses them across calls; what they return is always freshly allocated. No
kernel draws random numbers. Sums are taken in a different order from
NumPy's ``einsum`` and ``@``, so results agree to rounding, not bit for bit.

Versions
--------
Seconds per 50,000-image epoch of the book's network (float32, one core,
``nndl bench --network conv``) on the project's shared 2-core machine:

1. Dense GEMMs for every product (conv forward, weight gradient, input
   gradient) with a reduction loop for the weight gradient: the reduction
   does not vectorize without fastmath (about 6 GFLOP/s).
2. GEMM forward, winners-only backward; dense layers on NumPy/OpenBLAS:
   22-24 s.
3. This file: four maps per GEMM pass, unrolled 2x2 pooling, copies of
   known length in :func:`im2col` / :func:`col2im`, reused temporaries,
   windows rebuilt for the backward pass, dense layers on Numba (now
   :mod:`nndl_core.kernels.layers`): 13-15 s (measured side by side with
   version 2, same load).
"""

import threading

import numpy as np
from numba import njit

from ._options import NJIT_OPTIONS

__all__ = [
    "ACTIVATION_CODES",
    "col2im",
    "conv2d_backward",
    "conv2d_forward",
    "conv_gemm",
    "conv_pool_backward",
    "conv_pool_backward_kernel",
    "conv_pool_forward",
    "im2col",
    "maxpool2_act_forward",
    "maxpool_act_forward",
    "maxpool_backward",
    "maxpool_backward_kernel",
    "maxpool_forward",
]

ACTIVATION_CODES = {"sigmoid": 0, "relu": 1, "tanh": 2, "linear": 3}
SIGMOID, RELU, TANH, LINEAR = 0, 1, 2, 3


# --- kernels ------------------------------------------------------------------


BOOK_K = 5  # the book's filters are 5x5: the copies below unroll for them


@njit(**NJIT_OPTIONS)
def im2col(x, k, cols, cols_t):
    """Copy every ``k x k`` window of ``x`` into ``cols`` or ``cols_t``.

    ``x`` (m, c, h, w). Window position ``p = (n * oh + i) * ow + j`` and
    weight index ``q = (ch * k + l) * k + mm`` give
    ``cols[q, p] = cols_t[p, q] = x[n, ch, i + l, j + mm]``, with
    ``oh = h - k + 1`` and ``ow = w - k + 1``. Pass either with no rows to
    skip it: the forward pass needs ``cols``, the backward pass ``cols_t``.

    Every copy here is short (``ow`` or ``k`` numbers), so its trip count is
    made known to the compiler: ``cols`` is copied eight numbers at a time,
    and rows of ``cols_t`` five at a time when ``k`` is the book's 5. That
    made both about three times faster than plain loops of unknown length.
    """
    m, c, h, w = x.shape
    oh, ow = h - k + 1, w - k + 1
    eights = ow - ow % 8
    for n in range(m if cols.shape[0] else 0):
        for ch in range(c):
            for l in range(k):  # noqa: E741 (the book's l)
                for mm in range(k):
                    row = cols[(ch * k + l) * k + mm]
                    for i in range(oh):
                        source = x[n, ch, i + l, mm:]
                        target = row[(n * oh + i) * ow :]
                        for j0 in range(0, eights, 8):
                            for j in range(j0, j0 + 8):
                                target[j] = source[j]
                        for j in range(eights, ow):
                            target[j] = source[j]
    for n in range(m if cols_t.shape[0] else 0):
        for i in range(oh):
            for j in range(ow):
                target = cols_t[(n * oh + i) * ow + j]
                for ch in range(c):
                    for l in range(k):  # noqa: E741
                        source = x[n, ch, i + l, j:]
                        window = target[(ch * k + l) * k :]
                        if k == BOOK_K:
                            for mm in range(BOOK_K):
                                window[mm] = source[mm]
                        else:
                            for mm in range(k):
                                window[mm] = source[mm]


@njit(**NJIT_OPTIONS)
def conv_gemm(w_2d, cols, b, z):
    """``z[f] = b[f] + sum_q w_2d[f, q] * cols[q]``: every map of the batch at once.

    ``w_2d`` (f, c*k*k), ``cols`` (c*k*k, positions), ``b`` (f,), ``z`` (f,
    positions). Four maps are computed per pass, adding four rows of
    ``cols`` each time: one load of each ``cols`` row serves four maps, and
    one load and store of ``z`` carries four multiply-adds. The dense
    layers' backward products (:mod:`nndl_core.kernels.layers`) use it too
    (any ``a @ b + bias`` with long rows of ``b``).
    """
    n_maps = w_2d.shape[0]
    fours = n_maps - n_maps % 4
    for f in range(0, fours, 4):
        _gemm_four_rows(w_2d[f : f + 4], cols, b[f : f + 4], z[f : f + 4])
    for f in range(fours, n_maps - 1, 2):
        _gemm_rows(w_2d[f], w_2d[f + 1], cols, b[f], b[f + 1], z[f], z[f + 1])
    if n_maps % 2:  # the last map alone, paired with a scratch row
        f = n_maps - 1
        _gemm_rows(w_2d[f], w_2d[f], cols, b[f], b[f], z[f], np.empty_like(z[f]))


@njit(**NJIT_OPTIONS)
def _gemm_four_rows(w_4, cols, b_4, z_4):
    """``z_4 = b_4 + w_4 @ cols`` for four rows ``w_4`` (4, c*k*k)."""
    n_weights, n_positions = cols.shape
    quads = n_weights - n_weights % 4
    r_0, r_1, r_2, r_3 = w_4[0], w_4[1], w_4[2], w_4[3]
    z_0, z_1, z_2, z_3 = z_4[0], z_4[1], z_4[2], z_4[3]
    for p in range(n_positions):
        z_0[p], z_1[p], z_2[p], z_3[p] = b_4[0], b_4[1], b_4[2], b_4[3]
    for q in range(0, quads, 4):
        c_0, c_1, c_2, c_3 = cols[q], cols[q + 1], cols[q + 2], cols[q + 3]
        a_0, a_1, a_2, a_3 = r_0[q], r_0[q + 1], r_0[q + 2], r_0[q + 3]
        b_0, b_1, b_2, b_3 = r_1[q], r_1[q + 1], r_1[q + 2], r_1[q + 3]
        d_0, d_1, d_2, d_3 = r_2[q], r_2[q + 1], r_2[q + 2], r_2[q + 3]
        e_0, e_1, e_2, e_3 = r_3[q], r_3[q + 1], r_3[q + 2], r_3[q + 3]
        for p in range(n_positions):
            x_0, x_1, x_2, x_3 = c_0[p], c_1[p], c_2[p], c_3[p]
            z_0[p] += a_0 * x_0 + a_1 * x_1 + a_2 * x_2 + a_3 * x_3
            z_1[p] += b_0 * x_0 + b_1 * x_1 + b_2 * x_2 + b_3 * x_3
            z_2[p] += d_0 * x_0 + d_1 * x_1 + d_2 * x_2 + d_3 * x_3
            z_3[p] += e_0 * x_0 + e_1 * x_1 + e_2 * x_2 + e_3 * x_3
    for q in range(quads, n_weights):
        c_0 = cols[q]
        a_0, b_0, d_0, e_0 = r_0[q], r_1[q], r_2[q], r_3[q]
        for p in range(n_positions):
            z_0[p] += a_0 * c_0[p]
            z_1[p] += b_0 * c_0[p]
            z_2[p] += d_0 * c_0[p]
            z_3[p] += e_0 * c_0[p]


@njit(**NJIT_OPTIONS)
def _gemm_rows(u, v, cols, b_u, b_v, z_u, z_v):
    """``z_u = b_u + u @ cols`` and ``z_v = b_v + v @ cols``."""
    n_weights, n_positions = cols.shape
    quads = n_weights - n_weights % 4
    for p in range(n_positions):
        z_u[p] = b_u
        z_v[p] = b_v
    for q in range(0, quads, 4):
        u_0, u_1, u_2, u_3 = u[q], u[q + 1], u[q + 2], u[q + 3]
        v_0, v_1, v_2, v_3 = v[q], v[q + 1], v[q + 2], v[q + 3]
        c_0, c_1, c_2, c_3 = cols[q], cols[q + 1], cols[q + 2], cols[q + 3]
        for p in range(n_positions):
            x_0, x_1, x_2, x_3 = c_0[p], c_1[p], c_2[p], c_3[p]
            z_u[p] += u_0 * x_0 + u_1 * x_1 + u_2 * x_2 + u_3 * x_3
            z_v[p] += v_0 * x_0 + v_1 * x_1 + v_2 * x_2 + v_3 * x_3
    for q in range(quads, n_weights):
        u_0, v_0, c_0 = u[q], v[q], cols[q]
        for p in range(n_positions):
            z_u[p] += u_0 * c_0[p]
            z_v[p] += v_0 * c_0[p]


@njit(**NJIT_OPTIONS)
def _activate(v, code):
    """Scalar activation, in float64 (sigmoid in the stable two-branch form)."""
    if code == SIGMOID:
        e = np.exp(-abs(v))
        return 1.0 / (1.0 + e) if v >= 0 else e / (1.0 + e)
    if code == RELU:
        return max(v, 0.0)
    if code == TANH:
        return np.tanh(v)
    return v


@njit(**NJIT_OPTIONS)
def _prime_from_output(a, code):
    """The activation's derivative written with its output, as in ``layers``."""
    if code == SIGMOID:
        return a * (1 - a)
    if code == RELU:
        return 1.0 if a > 0 else 0.0
    if code == TANH:
        return 1 - a * a
    return 1.0


@njit(**NJIT_OPTIONS)
def maxpool_act_forward(z, m, oh, ow, pool, code, a, switches):
    """Pool ``z`` (f, m*oh*ow) over ``pool x pool`` windows, then activate.

    Writes ``a`` and ``switches`` of shape (m, f, oh // pool, ow // pool);
    a switch is the row-major index of its window's first maximum.
    """
    n_maps = z.shape[0]
    rows, cols = oh // pool, ow // pool
    for n in range(m):
        for f in range(n_maps):
            z_f = z[f]
            for pi in range(rows):
                for pj in range(cols):
                    start = (n * oh + pi * pool) * ow + pj * pool
                    best, switch = z_f[start], 0
                    for si in range(pool):
                        for sj in range(pool):
                            v = z_f[start + si * ow + sj]
                            # selects, not branches: which input wins is random
                            switch = si * pool + sj if v > best else switch
                            best = v if v > best else best
                    a[n, f, pi, pj] = _activate(best, code)
                    switches[n, f, pi, pj] = switch


@njit(**NJIT_OPTIONS)
def maxpool2_act_forward(z, m, oh, ow, code, a, switches):
    """:func:`maxpool_act_forward` for the book's 2x2 windows, unrolled.

    The four values of a window are compared with selects in a loop whose
    shape the compiler knows, which it turns into vector instructions:
    about five times faster than the general loop on the book's first layer.
    The activation runs in a second pass over each output row.
    """
    n_maps = z.shape[0]
    rows, cols = oh // 2, ow // 2
    for f in range(n_maps):
        z_f = z[f]
        for n in range(m):
            for pi in range(rows):
                start = (n * oh + 2 * pi) * ow
                top, bottom = z_f[start : start + ow], z_f[start + ow : start + 2 * ow]
                out, switch = a[n, f, pi], switches[n, f, pi]
                for pj in range(cols):
                    best, s = top[2 * pj], 0
                    v = top[2 * pj + 1]
                    s = 1 if v > best else s  # the first maximum wins ties
                    best = v if v > best else best
                    v = bottom[2 * pj]
                    s = 2 if v > best else s
                    best = v if v > best else best
                    v = bottom[2 * pj + 1]
                    s = 3 if v > best else s
                    best = v if v > best else best
                    out[pj], switch[pj] = best, s
                for pj in range(cols):
                    out[pj] = _activate(out[pj], code)


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


@njit(**NJIT_OPTIONS)
def _combine_rows(index, value, count, source, target):
    """``target = sum_i value[i] * source[index[i]]`` for ``i < count``.

    Four rows are combined per pass, so each load and store of ``target``
    carries four multiply-adds.
    """
    target[:] = 0
    quads = count - count % 4
    for i in range(0, quads, 4):
        r_0, r_1 = source[index[i]], source[index[i + 1]]
        r_2, r_3 = source[index[i + 2]], source[index[i + 3]]
        v_0, v_1, v_2, v_3 = value[i], value[i + 1], value[i + 2], value[i + 3]
        for q in range(target.shape[0]):
            target[q] += v_0 * r_0[q] + v_1 * r_1[q] + v_2 * r_2[q] + v_3 * r_3[q]
    for i in range(quads, count):
        r_0, v_0 = source[index[i]], value[i]
        for q in range(target.shape[0]):
            target[q] += v_0 * r_0[q]


@njit(**NJIT_OPTIONS)
def col2im(dcols_t, k, dx):
    """Add each window's gradient ``dcols_t[p]`` back onto its pixels of ``dx``.

    The inverse bookkeeping of :func:`im2col`; ``dx`` (m, c, h, w) is zeroed first.
    """
    m, c, h, w = dx.shape
    oh, ow = h - k + 1, w - k + 1
    dx[:] = 0
    for n in range(m):
        for i in range(oh):
            for j in range(ow):
                gradient = dcols_t[(n * oh + i) * ow + j]
                for ch in range(c):
                    for l in range(k):  # noqa: E741
                        target = dx[n, ch, i + l, j:]
                        source = gradient[(ch * k + l) * k :]
                        if k == BOOK_K:  # a known trip count, as in im2col
                            for mm in range(BOOK_K):
                                target[mm] += source[mm]
                        else:
                            for mm in range(k):
                                target[mm] += source[mm]


@njit(**NJIT_OPTIONS)
def maxpool_backward_kernel(delta_pooled, switches, pool, delta):
    """Write each pooled gradient to its window's winner in ``delta`` (zeroed)."""
    m, c, rows, cols = delta_pooled.shape
    delta[:] = 0
    for n in range(m):
        for ch in range(c):
            for pi in range(rows):
                for pj in range(cols):
                    s = switches[n, ch, pi, pj]
                    delta[n, ch, pi * pool + s // pool, pj * pool + s % pool] = (
                        delta_pooled[n, ch, pi, pj]
                    )


# --- Python wrappers: the references' signatures --------------------------------

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
