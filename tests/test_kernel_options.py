"""House rules for Numba code, checked by reading the source.

* Every ``njit``/``jit`` in ``nndl_core/kernels/`` (subpackages included) takes
  its options from ``kernels/_options.py`` as ``njit(**SOME_OPTIONS)``: no inline
  options, no bare ``@njit``, no ``njit(f)`` with the defaults.
* ``fastmath=True`` appears nowhere in the package.
* Numba is used only inside ``nndl_core/kernels/``.
"""

import ast
import re
from pathlib import Path

import pytest

import nndl_core
from nndl_core.kernels import _options

PACKAGE = Path(nndl_core.__file__).parent
KERNELS = PACKAGE / "kernels"
JIT_NAMES = {"njit", "jit", "generated_jit", "vectorize", "guvectorize", "stencil"}


def _jit_uses(tree):
    """Yield (line, problem or None) for every use of a Numba decorator name."""
    calls = {
        id(node.func): node for node in ast.walk(tree) if isinstance(node, ast.Call)
    }
    for node in ast.walk(tree):
        name = getattr(node, "id", None) or getattr(node, "attr", None)
        if not isinstance(node, ast.Name | ast.Attribute) or name not in JIT_NAMES:
            continue
        call = calls.get(id(node))
        if call is None:
            yield node.lineno, f"bare {name} uses Numba's default options"
        elif call.args or any(k.arg is not None for k in call.keywords):
            yield node.lineno, f"{name}(...) sets options inline"
        elif (
            not all(
                isinstance(k.value, ast.Name) and k.value.id.endswith("_OPTIONS")
                for k in call.keywords
            )
            or not call.keywords
        ):
            yield node.lineno, f"{name}(...) must be {name}(**..._OPTIONS)"
        else:
            yield node.lineno, None


def _sources(folder):
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize(
    "path", _sources(KERNELS), ids=lambda p: p.relative_to(KERNELS).as_posix()
)
def test_kernels_take_njit_options_from_the_options_module(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    problems = [f"{path.name}:{line}: {p}" for line, p in _jit_uses(tree) if p]
    assert not problems, "\n".join(problems)


def test_the_sources_include_the_subpackages():
    assert KERNELS / "dense" / "threads.py" in _sources(KERNELS)


@pytest.mark.parametrize(
    "name", ["neurons", "layout", "sparse", "layer", "passes", "steps", "threads"]
)
def test_the_dense_kernels_are_compiled_with_the_shared_options(name):
    source = (KERNELS / "dense" / f"{name}.py").read_text()
    uses = list(_jit_uses(ast.parse(source)))
    assert uses and all(problem is None for _, problem in uses)
    assert "from .._options import" in source


def test_fastmath_is_never_switched_on():
    pattern = re.compile(r"""fastmath["']?\s*[=:]\s*True""")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in _sources(PACKAGE)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders
    for name in dir(_options):
        if name.endswith("_OPTIONS"):
            options = getattr(_options, name)
            assert options["cache"] is True, name
            assert not options.get("fastmath", False), name


def test_numba_is_used_only_in_the_kernels_package():
    offenders = []
    for path in _sources(PACKAGE):
        if KERNELS in path.parents:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [alias.name for alias in node.names]
                if isinstance(node, ast.ImportFrom):
                    modules = [node.module or ""]
                if any(m == "numba" or m.startswith("numba.") for m in modules):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, offenders


def test_the_checker_catches_inline_options():
    bad = ast.parse(
        "from numba import njit\n"
        "@njit\ndef f(x): return x\n"
        "@njit(cache=True, fastmath=True)\ndef g(x): return x\n"
        "h = njit(f)\n"
        "@numba.njit(**NJIT_OPTIONS, parallel=True)\ndef k(x): return x\n"
    )
    problems = [p for _, p in _jit_uses(bad) if p]
    assert len(problems) == 4, problems
    good = ast.parse(
        "@njit(**NJIT_OPTIONS)\ndef f(x): return x\ng = njit(**NJIT_OPTIONS)(f)\n"
    )
    assert all(p is None for _, p in _jit_uses(good))
