"""The one place that sets options for the ``@njit`` kernels in this package.

Every kernel module writes ``@njit(**NJIT_OPTIONS)``; a test
(``tests/test_kernel_options.py``) fails if a kernel sets an option inline.

* ``cache=True``: the compiled machine code is written next to the module (or
  under ``NUMBA_CACHE_DIR``) so that a new process loads it instead of
  compiling again. A page that trains pays the compile once per machine.
  The cache is keyed on the sources of *all* the kernels
  (``nndl_core.kernels._compiled_cache``), not only on the file that
  defines each one, so an edited helper never leaves stale machine code.
* No ``fastmath``: it lets LLVM reassociate sums and assume there are no NaNs
  or infinities, and the kernels are tested equal to the NumPy references at
  ``rtol=1e-12``. (With fastmath on, even ``np.isnan`` can return False.)
* ``error_model="numpy"``: a float division by zero gives inf or NaN, as it
  does in NumPy (and so in the references), instead of raising
  ``ZeroDivisionError``. Python's model puts a test and a branch before every
  division, and a loop with a branch in it is not vectorized: the sigmoid
  over a layer ran 3x slower.
* No ``parallel``: an SGD mini-batch of ten MNIST images is some 20
  microseconds of work, less than a parallel region costs to start, and the
  mini-batches of an epoch run in order. Add an ``NJIT_PARALLEL_OPTIONS``
  here only for a kernel whose threads each write their own outputs, so
  that results do not depend on the number of threads.
* ``nogil=True``: a compiled call lets go of Python's global lock, so that
  Python threads can run kernels side by side. That is how an epoch uses
  more than one core (``dense.threads.train_epoch_part``: each thread one
  compiled call for the whole epoch, meeting the others once per
  mini-batch through :mod:`~nndl_core.kernels.sync`).
"""

from . import _compiled_cache

__all__ = ["NJIT_INLINE_OPTIONS", "NJIT_OPTIONS"]

_compiled_cache.install()

NJIT_OPTIONS = {
    "cache": True,
    "error_model": "numpy",
    "fastmath": False,
    "nogil": True,
    "parallel": False,
}

#: For the small accessors called a few times per mini-batch (``weights_t``,
#: ``block``, ...): Numba inlines them into their callers, so that no call
#: passes the whole ``Layout`` and ``Workspace`` (dozens of arguments).
NJIT_INLINE_OPTIONS = {**NJIT_OPTIONS, "inline": "always"}
