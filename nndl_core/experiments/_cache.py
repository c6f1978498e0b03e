"""The on-disk results cache: one JSON file per experiment run.

A run is identified by (experiment, parameters, profile, seed, library hash).

Used by every page through :func:`nndl_core.experiments.load_or_run`.
"""

import ast
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

__all__ = [
    "cache_key",
    "import_closure",
    "library_hash",
    "read_result",
    "read_results",
    "results_dir",
    "results_hash",
    "write_result",
]

RESULTS_ENV_VAR = "NNDL_RESULTS_DIR"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


#: Modules that draw, print, time or keep the books but never change a
#: result; editing them re-executes the pages (see :func:`library_hash`) but
#: keeps cached results.
PRESENTATION_MODULES = (
    "plotting*.py",
    "cli.py",
    "__main__.py",
    "bench*.py",
    "ledger.py",
    "experiments/__init__.py",
    "experiments/_cache.py",
)


def library_hash(package_dir=_PACKAGE_DIR, exclude=()):
    """SHA-256 (first 16 hex digits) of the ``.py`` sources in ``nndl_core``.

    Any change to the library changes this hash, so executed pages made by
    older code are never reused. ``exclude`` holds glob patterns of file
    names to leave out.
    """
    return _sources_hash(Path(package_dir).rglob("*.py"), package_dir, exclude)


def _sources_hash(paths, package_dir, exclude):
    """SHA-256 (16 hex digits) of the names and bytes of ``paths``, less ``exclude``."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        if any(path.match(pattern) for pattern in exclude):
            continue
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _module_path(name, package_dir):
    """The source file of dotted module ``name`` inside ``nndl_core``, or None."""
    parts = name.split(".")[1:]  # drop "nndl_core"
    base = Path(package_dir).joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported_modules(path, name, package_dir):
    """:func:`_scan_imports` of ``path``, parsed once per version of the file."""
    stat = path.stat()
    return _scan_imports(path, name, str(package_dir), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1024)
def _scan_imports(path, name, package_dir, mtime_ns, size):
    """Dotted names of the ``nndl_core`` modules that the file ``path`` imports.

    ``from X import a, b`` counts the submodules ``X.a``, ``X.b`` it names,
    and ``X`` itself only when something else (a function, a class) comes
    from it, so ``from .. import baselines`` does not pull in everything
    ``nndl_core/__init__.py`` re-exports.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("nndl_core")]
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        elif (node.module or "").startswith("nndl_core"):
            target = node.module
        else:
            continue
        names = [f"{target}.{alias.name}" for alias in node.names]
        modules = [n for n in names if _module_path(n, package_dir) is not None]
        found += modules
        if len(modules) < len(names):
            found.append(target)
    return tuple(found)


def import_closure(module, package_dir=_PACKAGE_DIR):
    """Source files of ``module`` and of every ``nndl_core`` module it imports.

    Follows imports anywhere in a file (function bodies too), transitively
    (see :func:`_imported_modules` for how packages count).

    Parameters
    ----------
    module : str
        Dotted name, e.g. ``"nndl_core.experiments.ch4"``.

    Returns
    -------
    list of Path, sorted
    """
    seen, todo = {}, [module]
    while todo:
        name = todo.pop()
        path = _module_path(name, package_dir)
        if path is None or name in seen:
            continue
        seen[name] = path
        todo += _imported_modules(path, name, package_dir)
    return sorted(set(seen.values()))


def results_hash(package_dir=_PACKAGE_DIR, module=None):
    """:func:`library_hash` of the code that can change a result (the cache key).

    With ``module`` (an experiment's module), only the sources in its
    :func:`import_closure` count: editing chapter 3's code then leaves the
    cached results of chapter 6 valid. Presentation modules never count.
    """
    if module is None or not module.startswith("nndl_core."):
        return library_hash(package_dir, exclude=PRESENTATION_MODULES)
    closure = import_closure(module, package_dir)
    return _sources_hash(closure, package_dir, PRESENTATION_MODULES)


def results_dir():
    """Folder of cached results: ``$NNDL_RESULTS_DIR`` or ``~/.cache/nndl/results``."""
    if os.environ.get(RESULTS_ENV_VAR):
        return Path(os.environ[RESULTS_ENV_VAR])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nndl" / "results"


def cache_key(name, params, profile, seed, code_hash):
    """Hex key identifying one run; ``params`` is a JSON-ready dict."""
    blob = json.dumps(
        {
            "name": name,
            "params": params,
            "profile": profile,
            "seed": seed,
            "code": code_hash,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _path(name, key, root):
    return Path(root) / name / f"{key}.json"


def read_result(name, key, root=None):
    """The cached record for ``key``, or None when absent."""
    path = _path(name, key, root or results_dir())
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(
            f"cached result {path} is not valid JSON ({err}); delete it and rerun"
        ) from None


def read_results(name, root=None):
    """Every cached record of experiment ``name``, whatever its key (a list).

    Used to find runs made by earlier code (see
    :func:`nndl_core.experiments.latest`); unreadable files are skipped.
    """
    folder = Path(root or results_dir()) / name
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    return records


def write_result(name, key, record, root=None):
    """Write ``record`` atomically (temp file + rename) and return its path."""
    path = _path(name, key, root or results_dir())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle, indent=1)
    os.replace(tmp, path)
    return path
