"""The Numba kernels' start-up in fresh processes: empty cache, then filled.

Compiling the kernels, or loading them from Numba's on-disk cache, is a
one-off cost that each new process pays before its first epoch.
:func:`measure_jit_startup` measures it where it happens, in new
interpreters: it runs this module twice, ``python -m
nndl_core.bench.startup``, with ``NUMBA_CACHE_DIR`` pointing at the same
empty folder. The first run compiles the epoch kernel and writes the cache,
the second loads it. Each run times the import of the kernels and their
first call (:func:`time_first_call`) and prints the seconds as one line of
JSON, which is all it prints.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["measure_jit_startup", "time_first_call"]


def time_first_call():
    """Time importing the kernels and the first call of the epoch kernel.

    The call trains chapter 1's [784, 30, 10] network on one epoch of 20
    images in two mini-batches of 10 (eta = 3.0), every fifth pixel 0.5:
    enough to compile or load every kernel an epoch uses. Run with
    ``python -m``, this package is already imported when the clock starts,
    so ``import_seconds`` is the kernels' own import (Numba's included).

    Returns
    -------
    dict
        ``import_seconds`` and ``first_call_seconds``.
    """
    start = time.perf_counter()
    from .. import Network
    from ..kernels import dense

    imported = time.perf_counter()
    images = np.zeros((20, 784))
    images[:, ::5] = 0.5
    net = Network([784, 30, 10], seed=0)
    begin = time.perf_counter()
    dense.train_epoch(net, images, np.zeros(20, dtype=np.int64), np.arange(20), 10, 3.0)
    end = time.perf_counter()
    return {"import_seconds": imported - start, "first_call_seconds": end - begin}


def measure_jit_startup(python=None, cache_dir=None):
    """Time the Numba kernels' start-up in fresh processes: cold, then warm cache.

    Runs :func:`time_first_call` twice in a new interpreter (``python -m
    nndl_core.bench.startup``) with ``NUMBA_CACHE_DIR`` pointing at an empty
    folder: the first run compiles and writes the cache, the second loads it.

    Parameters
    ----------
    python : str, optional
        The interpreter to run; this one by default.
    cache_dir : str, optional
        Numba's cache folder; a new temporary one by default (a folder that
        already holds the kernels makes both runs warm).

    Returns
    -------
    dict
        ``cold_cache`` and ``warm_cache``, each with ``import_seconds`` and
        ``first_call_seconds``.
    """
    package_parent = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_parent, env.get("PYTHONPATH")) if p
    )
    with tempfile.TemporaryDirectory(prefix="nndl-numba-cache-") as tmp:
        env["NUMBA_CACHE_DIR"] = cache_dir or tmp
        runs = {}
        for name in ("cold_cache", "warm_cache"):
            done = subprocess.run(
                [python or sys.executable, "-m", "nndl_core.bench.startup"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return runs


if __name__ == "__main__":
    print(json.dumps(time_first_call()))
