"""Max-pooling fused with the activation, and the activations chapter 6 uses.

``z`` is laid out (maps, examples, rows, columns);
:func:`maxpool2_act_forward` (2x2 windows) or :func:`maxpool_act_forward`
(any size) reads it, pools, applies the activation (after pooling, as
network3 does) and writes the output in the usual (examples, maps, rows,
columns) layout, recording the winner of each window ("switch"). The
activation codes and scalar activations here serve the fully connected
layers of :mod:`nndl_core.kernels.layers` too.
"""

import numpy as np
from numba import njit

from .._options import NJIT_OPTIONS

__all__ = [
    "ACTIVATION_CODES",
    "maxpool2_act_forward",
    "maxpool_act_forward",
    "maxpool_backward_kernel",
]


ACTIVATION_CODES = {"sigmoid": 0, "relu": 1, "tanh": 2, "linear": 3}


SIGMOID, RELU, TANH, LINEAR = 0, 1, 2, 3


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
