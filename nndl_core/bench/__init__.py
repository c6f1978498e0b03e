"""Benchmarks: seconds per epoch on each backend, behind ``nndl bench``.

Nothing in the library depends on this package; it measures the library.
One module per measurement:

* :mod:`~nndl_core.bench.dense`: the fully connected networks of chapters 1
  and 3 on the Numba kernels, the NumPy reference and PyTorch
  (:mod:`~nndl_core.bench.dense_torch`);
* :mod:`~nndl_core.bench.conv`: chapter 6's convolutional network, ours
  against PyTorch;
* :mod:`~nndl_core.bench.peak`: one core's arithmetic peak and the bound it
  puts on an epoch;
* :mod:`~nndl_core.bench.startup`: the kernels' start-up in fresh processes
  (``python -m nndl_core.bench.startup``);
* :mod:`~nndl_core.bench.machine`: what every result says it ran on.
"""

from .conv import book_layers, format_conv_table, run_conv_benchmark
from .dense import NETWORKS, format_table, run_dense_benchmark
from .peak import arithmetic_bound, flops_per_epoch, measure_peak_flops

__all__ = [
    "NETWORKS",
    "arithmetic_bound",
    "book_layers",
    "flops_per_epoch",
    "format_conv_table",
    "format_table",
    "measure_peak_flops",
    "run_conv_benchmark",
    "run_dense_benchmark",
]
