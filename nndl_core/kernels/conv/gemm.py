"""Windows to columns and back, and the matrix products over them.

*Forward: im2col + a register-friendly GEMM.* :func:`im2col` copies every
``k x k x c`` input window of the mini-batch into a column of ``cols``
(``c*k*k`` rows, one column per output position of every example). Then all
feature maps of the whole mini-batch are one matrix product,
``z = w_2d @ cols + b`` (:func:`conv_gemm`): for the book's second layer a
(40 x 500) by (500 x 640) product. Its inner loop runs along a contiguous
row of ``z`` and combines four rows of ``w_2d`` with four rows of ``cols``
per pass, so each load and store of ``z`` carries four multiply-adds, and
LLVM vectorizes it. The backward pass combines rows of the windows or of
the filters (:func:`_combine_rows`), and :func:`col2im` adds each window's
gradient back onto the input pixels it came from.
"""

import numpy as np
from numba import njit

from .._options import NJIT_OPTIONS

__all__ = ["col2im", "conv_gemm", "im2col"]


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
