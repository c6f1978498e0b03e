"""Numba kernels for chapter 6's conv-pool layers.

Used by :class:`nndl_core.conv.ConvPoolLayer` with ``backend="numba"``. The
wrappers of :mod:`~nndl_core.kernels.conv.layer` have the signatures of the
readable references in :mod:`nndl_core.conv`, and the tests under
``tests/kernels/conv/`` check that they agree: :func:`conv2d_forward`,
:func:`conv2d_backward`, :func:`maxpool_forward`, :func:`maxpool_backward`,
and the fused :func:`conv_pool_forward` / :func:`conv_pool_backward` that
training runs. They work in float64 (tested at ``rtol=1e-12``) and in float32
(the fast path of :class:`nndl_core.convnet.Network3`), compiled once per
dtype, on one core. The modules:

* :mod:`~nndl_core.kernels.conv.gemm`: windows to columns and back (im2col,
  col2im), and the matrix products over them;
* :mod:`~nndl_core.kernels.conv.pooling`: max-pooling fused with the
  activation, and the activations chapter 6 uses;
* :mod:`~nndl_core.kernels.conv.layer`: the conv-pool layer's forward and
  winners-only backward pass, and the wrappers.

The kernels of the fully connected and softmax layers that follow
(:mod:`nndl_core.kernels.layers`) reuse this package's :func:`conv_gemm`,
activations and temporaries. No kernel draws random numbers. Sums are taken
in a different order from NumPy's ``einsum`` and ``@``, so results agree to
rounding, not bit for bit. This is version 3 of these kernels (four maps per
GEMM pass, unrolled 2x2 pooling, reused temporaries); versions 1-2 and their
timings are told on the book's page ``book/engineering.md`` ("How the kernels
got here").
"""

from .gemm import conv_gemm
from .layer import (
    conv2d_backward,
    conv2d_forward,
    conv_pool_backward,
    conv_pool_forward,
    maxpool_backward,
    maxpool_forward,
)

__all__ = [
    "conv2d_backward",
    "conv2d_forward",
    "conv_gemm",
    "conv_pool_backward",
    "conv_pool_forward",
    "maxpool_backward",
    "maxpool_forward",
]
