"""Numba kernels, each tested equal to the readable NumPy reference it mirrors.

Importing this package compiles nothing until a kernel is first called (and
then loads it from Numba's on-disk cache when it can).
"""

from . import conv, dense, layers, peak

__all__ = ["conv", "dense", "layers", "peak"]
