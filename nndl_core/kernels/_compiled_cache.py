"""Numba's on-disk cache of compiled kernels, keyed on all the kernels' sources.

With ``cache=True`` Numba stores each kernel's machine code beside a stamp of
the *one file that defines it* (its modification time and size), and reuses
the code while that stamp holds. A kernel's machine code, however, also
contains every helper it calls or inlines from other modules
(``dense/neurons.py`` calls
:func:`~nndl_core.kernels.elementwise.exp_nonpositive`, the SGD epochs inline
``dense/layout.py``'s and ``dense/steps.py``'s accessors). After an edit to a
helper alone, Numba would load the old machine code in a new process, while
the results cache, keyed by a hash of the new sources, would file its
numbers under the new code.

:class:`KernelSourcesLocator` closes that gap: for functions defined in this
package it finds the cache folder exactly as Numba would, and adds to the
stamp a SHA-256 of the contents of every ``.py`` file of
``nndl_core/kernels/``. Any edit to any kernel source makes every cached
kernel stale, so the next process recompiles (about 25 s once) instead of
running stale code. Importing :mod:`nndl_core.kernels._options` (which every
kernel module does first) installs the locator before any kernel is
decorated.
"""

import functools
import hashlib
from pathlib import Path

from numba.core import caching

__all__ = ["KernelSourcesLocator", "install", "kernel_sources_digest"]

KERNELS_DIR = Path(__file__).resolve().parent


@functools.cache
def kernel_sources_digest(folder=KERNELS_DIR):
    """SHA-256 (hex) of the names and contents of the ``.py`` files under ``folder``.

    Computed once per process: a kernel compiled in this process was
    compiled from the sources as they were when the process first asked.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*.py")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


class KernelSourcesLocator(caching._CacheLocator):
    """Numba's own choice of cache folder, with the kernels' digest in the stamp.

    Wraps the locator Numba would pick for the function (the folder named by
    ``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the source, else the
    per-user cache) and delegates everything to it but the stamp.
    """

    def __init__(self, inner):
        self._inner = inner

    def ensure_cache_path(self):
        self._inner.ensure_cache_path()

    def get_cache_path(self):
        return self._inner.get_cache_path()

    def get_disambiguator(self):
        return self._inner.get_disambiguator()

    def get_source_stamp(self):
        return (self._inner.get_source_stamp(), kernel_sources_digest())

    @classmethod
    def from_function(cls, py_func, py_file):
        """The locator for ``py_func``; None for functions outside the kernels."""
        try:
            Path(py_file).resolve().relative_to(KERNELS_DIR)
        except (OSError, ValueError):
            return None
        for locator_class in caching.CacheImpl._locator_classes:
            if locator_class is cls:
                continue
            inner = locator_class.from_function(py_func, py_file)
            if inner is not None:
                return cls(inner)
        return None


def install():
    """Put :class:`KernelSourcesLocator` first in Numba's list (once)."""
    locators = caching.CacheImpl._locator_classes
    if KernelSourcesLocator not in locators:
        locators.insert(0, KernelSourcesLocator)
