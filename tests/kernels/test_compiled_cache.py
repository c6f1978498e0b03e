"""Tests for nndl_core.kernels._compiled_cache: no stale machine code after an edit."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from numba.core import caching

import nndl_core
from nndl_core.kernels import _compiled_cache
from nndl_core.kernels._compiled_cache import (
    KernelSourcesLocator,
    kernel_sources_digest,
)
from nndl_core.kernels.dense import neurons

PACKAGE = Path(nndl_core.__file__).resolve().parent

# dense.neurons._sigmoid calls elementwise.exp_nonpositive, a helper in another
# file, one folder up.
SIGMOID = (
    "import nndl_core; from nndl_core.kernels.dense import neurons; "
    "print(nndl_core.__file__); print(repr(neurons._sigmoid(-1.0)))"
)

# An edit to the helper alone: exp doubled. dense/neurons.py, which defines the
# caller, stays byte for byte (and stat for stat) as it was.
DOUBLED_EXP = """

_exp_before_edit = exp_nonpositive


@njit(**NJIT_OPTIONS)
def exp_nonpositive(x):
    return 2.0 * _exp_before_edit(x)
"""


def _sigmoid_in_fresh_process(copy, cache_dir):
    env = dict(os.environ, PYTHONPATH=str(copy), NUMBA_CACHE_DIR=str(cache_dir))
    env.pop("NUMBA_DISABLE_JIT", None)
    out = subprocess.run(
        [sys.executable, "-c", SIGMOID],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.split()
    assert Path(out[0]).resolve().is_relative_to(copy)  # the copy, not the install
    return float(out[1])


@pytest.mark.slow
def test_editing_a_helper_recompiles_its_callers(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(
        PACKAGE, copy / "nndl_core", ignore=shutil.ignore_patterns("__pycache__")
    )
    cache_dir = tmp_path / "numba-cache"
    before = _sigmoid_in_fresh_process(copy, cache_dir)
    assert before == pytest.approx(1 / (1 + 2.718281828459045))
    assert any(cache_dir.rglob("*.nbi"))  # the caller's code was cached

    neurons_py = copy / "nndl_core" / "kernels" / "dense" / "neurons.py"
    stat = neurons_py.stat()
    with open(copy / "nndl_core" / "kernels" / "elementwise.py", "a") as f:
        f.write(DOUBLED_EXP)
    assert neurons_py.stat().st_mtime_ns == stat.st_mtime_ns

    after = _sigmoid_in_fresh_process(copy, cache_dir)
    e = 2 * 0.36787944117144233  # the edited helper's exp(-1)
    assert after == pytest.approx(e / (1 + e))


def test_digest_changes_with_any_kernel_source(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    digest = kernel_sources_digest.__wrapped__
    first = digest(tmp_path)
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    second = digest(tmp_path)
    assert second != first
    (tmp_path / "notes.txt").write_text("not a source")
    assert digest(tmp_path) == second


def test_locator_is_first_and_installed_once():
    _compiled_cache.install()
    locators = caching.CacheImpl._locator_classes
    assert locators[0] is KernelSourcesLocator
    assert locators.count(KernelSourcesLocator) == 1


def test_kernels_get_the_stamp_and_other_functions_do_not():
    kernel = getattr(neurons._sigmoid, "py_func", neurons._sigmoid)  # no JIT: plain
    locator = KernelSourcesLocator.from_function(kernel, kernel.__code__.co_filename)
    assert locator is not None
    assert locator.get_source_stamp()[1] == kernel_sources_digest()

    def elsewhere(x):
        return x

    assert KernelSourcesLocator.from_function(elsewhere, __file__) is None
