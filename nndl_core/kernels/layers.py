"""Numba kernels for chapter 6's dense layers: fully connected and softmax.

Used by :class:`nndl_core.layers.FullyConnectedLayer` and
:class:`nndl_core.layers.SoftmaxLayer` with ``backend="numba"``, so by
:class:`nndl_core.convnet.Network3` in chap6 (after the conv-pool layers of
:mod:`nndl_core.kernels.conv`). The Python wrappers at the bottom have the
signatures of the readable references in :mod:`nndl_core.layers`, and
``tests/kernels/test_layers.py`` checks that they agree:
:func:`fully_connected_forward`, :func:`fully_connected_backward`,
:func:`softmax_forward` and :func:`softmax_backward`. They work in float64
(tested at ``rtol=1e-12``) and in float32 (the fast path of ``Network3``),
compiled once per dtype, on one core.

Why these kernels exist
-----------------------
The references are a few NumPy products, and on one thread NumPy's ``@``
is as fast as the kernels here. But OpenBLAS hands a product as small as
the book's (100 x 2880) @ (2880 x 10) to two threads, and on the project's
2-core machine, busy with other jobs, their hand-offs stall: one forward
and backward pass of a fully connected layer took 16.5 ms on two OpenBLAS
threads against 0.38 ms on one, and a training epoch of chap6's network
with one conv layer (``conv1``) took 74 s against 7.3 s. A Numba kernel
runs on the thread that calls it, so the dense layers never wait for
another thread, whatever the machine's load.

Design
------
*Forward:* :func:`dense_forward_kernel` computes ``act(scale * (w @ x) +
b)`` for blocks of ``LANES`` = 16 examples, four rows of ``w`` and four
inputs per pass, and applies the activation in the same call.
*Backward:* ``delta`` comes from the layer's output
(:func:`delta_from_output`, or ``a - y`` for softmax), and both products,
``delta @ x.T`` and ``w.T @ delta``, run on
:func:`nndl_core.kernels.conv.gemm.conv_gemm`, with examples as rows so that
every inner loop runs along a contiguous row of ``n_in`` numbers.

This module shares :mod:`nndl_core.kernels.conv`'s activation codes and
scalar activations, its GEMM and its reusable temporaries
(``conv.layer._scratch``, under roles of its own). Sums are taken in a different
order from NumPy's ``@``, so results agree to rounding, not bit for bit.
No kernel draws random numbers: dropout masks come from the caller.
"""

import numpy as np
from numba import njit

from ._options import NJIT_OPTIONS
from .conv.gemm import conv_gemm
from .conv.layer import _scratch
from .conv.pooling import ACTIVATION_CODES, LINEAR, _activate, _prime_from_output

__all__ = [
    "LANES",
    "delta_from_output",
    "dense_forward_kernel",
    "fully_connected_backward",
    "fully_connected_forward",
    "softmax_backward",
    "softmax_forward",
]

LANES = 16  # examples per block in dense_forward_kernel (a compile-time constant)


# --- kernels ------------------------------------------------------------------


@njit(**NJIT_OPTIONS)
def dense_forward_kernel(w, x_blocks, b, scale, code, z_blocks):
    """``z = act(scale * (w @ x) + b)`` for blocks of ``LANES`` examples.

    ``w`` (n_out, n_in); ``x_blocks`` (n_blocks, n_in, LANES): the examples
    as columns, zero-padded to whole blocks; ``z_blocks`` (n_blocks, n_out,
    LANES). Four rows of ``w`` and four inputs per pass (:func:`_four_rows`):
    each load and store of a row of ``z`` (16 lanes, one or two vector
    registers) carries 16 multiply-adds. ``scale`` is ``1 - p_drop`` at
    evaluation time, 1 otherwise.
    """
    n_out = w.shape[0]
    fours = n_out - n_out % 4
    sums = np.empty((4, LANES), dtype=z_blocks.dtype)  # one block of four rows
    for k in range(x_blocks.shape[0]):
        xb, zb = x_blocks[k], z_blocks[k]
        for j in range(0, fours, 4):
            _four_rows(w[j], w[j + 1], w[j + 2], w[j + 3], xb, sums, zb[j : j + 4])
        for j in range(fours, n_out):  # the last rows, one at a time
            _four_rows(w[j], w[j], w[j], w[j], xb, sums, zb[j : j + 1])
        for j in range(n_out):
            for p in range(LANES):
                zb[j, p] = _activate(scale * zb[j, p] + b[j], code)


@njit(**NJIT_OPTIONS)
def _four_rows(r_0, r_1, r_2, r_3, xb, z, zb):
    """``zb[i] = r_i @ xb`` for the ``len(zb)`` (1 to 4) rows given.

    The sums build up in ``z`` (4, LANES), a local block the compiler keeps
    apart from the inputs; with fewer than four rows, the extra ``r_i``
    repeat a real row and their sums are dropped.
    """
    z[:] = 0
    n_in = xb.shape[0]
    quads = n_in - n_in % 4
    for q in range(0, quads, 4):
        c_0, c_1, c_2, c_3 = xb[q], xb[q + 1], xb[q + 2], xb[q + 3]
        a_0, a_1, a_2, a_3 = r_0[q], r_0[q + 1], r_0[q + 2], r_0[q + 3]
        b_0, b_1, b_2, b_3 = r_1[q], r_1[q + 1], r_1[q + 2], r_1[q + 3]
        d_0, d_1, d_2, d_3 = r_2[q], r_2[q + 1], r_2[q + 2], r_2[q + 3]
        e_0, e_1, e_2, e_3 = r_3[q], r_3[q + 1], r_3[q + 2], r_3[q + 3]
        z_0, z_1, z_2, z_3 = z[0], z[1], z[2], z[3]
        for p in range(LANES):
            x_0, x_1, x_2, x_3 = c_0[p], c_1[p], c_2[p], c_3[p]
            z_0[p] += a_0 * x_0 + a_1 * x_1 + a_2 * x_2 + a_3 * x_3
            z_1[p] += b_0 * x_0 + b_1 * x_1 + b_2 * x_2 + b_3 * x_3
            z_2[p] += d_0 * x_0 + d_1 * x_1 + d_2 * x_2 + d_3 * x_3
            z_3[p] += e_0 * x_0 + e_1 * x_1 + e_2 * x_2 + e_3 * x_3
    for q in range(quads, n_in):
        c_0 = xb[q]
        for p in range(LANES):
            z[0, p] += r_0[q] * c_0[p]
            z[1, p] += r_1[q] * c_0[p]
            z[2, p] += r_2[q] * c_0[p]
            z[3, p] += r_3[q] * c_0[p]
    zb[:] = z[: len(zb)]


@njit(**NJIT_OPTIONS)
def delta_from_output(delta_a, a, code, delta):
    """``delta = delta_a * act'(z)``, with ``act'`` written with ``a = act(z)``."""
    for j in range(a.shape[0]):
        for n in range(a.shape[1]):
            delta[j, n] = delta_a[j, n] * _prime_from_output(a[j, n], code)


# --- Python wrappers: the signatures of nndl_core.layers' references --------------


def _dense_z(x, w, b, scale, code):
    """``act(scale * (w @ x) + b)`` of columns ``x`` (n_in, m) -> (n_out, m)."""
    dtype = w.dtype
    n_in, m = x.shape
    n_blocks = -(-m // LANES)
    x_blocks = _scratch("x_blocks", (n_blocks, n_in, LANES), dtype)
    for k in range(n_blocks):  # columns -> zero-padded blocks of LANES examples
        block = x[:, k * LANES : (k + 1) * LANES]
        x_blocks[k, :, : block.shape[1]] = block
        x_blocks[k, :, block.shape[1] :] = 0
    z_blocks = _scratch("z_blocks", (n_blocks, w.shape[0], LANES), dtype)
    dense_forward_kernel(
        np.ascontiguousarray(w),
        x_blocks,
        np.ascontiguousarray(b, dtype=dtype).reshape(-1),
        dtype.type(scale),
        code,
        z_blocks,
    )
    z = z_blocks.transpose(1, 0, 2).reshape(w.shape[0], n_blocks * LANES)
    return np.array(z[:, :m], order="C")  # always a copy: z_blocks is a temporary


def _dense_scale(p_drop, mask):
    """network3's evaluation-time scaling: ``1 - p_drop`` when no mask is given."""
    return 1.0 if mask is not None or p_drop == 0 else 1.0 - p_drop


def fully_connected_forward(x, w, b, activation, p_drop=0.0, mask=None):
    """Kernel version of :func:`nndl_core.layers.fully_connected_forward`."""
    x_used = x if mask is None else x * mask
    code = ACTIVATION_CODES[activation]
    a = _dense_z(x_used, w, b, _dense_scale(p_drop, mask), code)
    return a, (x_used, a, mask)


def softmax_forward(x, w, b, p_drop=0.0, mask=None):
    """Kernel version of :func:`nndl_core.layers.softmax_forward`."""
    x_used = x if mask is None else x * mask
    z = _dense_z(x_used, w, b, _dense_scale(p_drop, mask), LINEAR)
    e = np.exp(z - z.max(axis=0, keepdims=True))  # the stable form, as layers.softmax
    a = e / e.sum(axis=0, keepdims=True)
    return a, (x_used, a, mask)


def fully_connected_backward(delta_a, cache, w, activation, need_input_grad=True):
    """Kernel version of :func:`nndl_core.layers.fully_connected_backward`."""
    x_used, a, mask = cache
    delta = np.empty(a.shape, dtype=a.dtype)
    delta_from_output(delta_a, a, ACTIVATION_CODES[activation], delta)
    return _dense_backward(delta, x_used, w, mask, need_input_grad)


def softmax_backward(labels, cache, w, need_input_grad=True):
    """Kernel version of :func:`nndl_core.layers.softmax_backward`."""
    x_used, a, mask = cache
    delta = a.copy()
    delta[labels, np.arange(len(labels))] -= 1  # a - y with y one-hot
    return _dense_backward(delta, x_used, w, mask, need_input_grad)


def _dense_backward(delta, x_used, w, mask, need_input_grad):
    """BP2-BP4 with :func:`conv_gemm`: every inner loop runs along a row of ``n_in``."""
    dtype = w.dtype
    w = np.ascontiguousarray(w)
    delta = np.ascontiguousarray(delta, dtype=dtype)  # (n_out, m)
    x_rows = np.ascontiguousarray(x_used.T, dtype=dtype)  # (m, n_in): examples as rows
    nabla_w = np.empty(w.shape, dtype=dtype)
    conv_gemm(delta, x_rows, np.zeros(len(delta), dtype=dtype), nabla_w)  # BP4
    grads = {"w": nabla_w, "b": delta.sum(axis=1, keepdims=True)}  # BP3
    if not need_input_grad:
        return None, grads
    nabla_x_rows = np.empty(x_rows.shape, dtype=dtype)
    delta_rows = np.ascontiguousarray(delta.T)
    conv_gemm(delta_rows, w, np.zeros(len(delta_rows), dtype=dtype), nabla_x_rows)
    nabla_x = nabla_x_rows.T  # (n_in, m), a view: BP2 before act'
    return (nabla_x if mask is None else nabla_x * mask), grads
