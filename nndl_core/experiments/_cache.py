"""The on-disk results cache: one JSON file per experiment run.

A run is identified by (experiment, parameters, profile, seed, library hash).

Used by every page through :func:`nndl_core.experiments.load_or_run`.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

__all__ = [
    "cache_key",
    "library_hash",
    "read_result",
    "read_results",
    "results_dir",
    "results_hash",
    "write_result",
]

RESULTS_ENV_VAR = "NNDL_RESULTS_DIR"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


#: Modules that draw, print or time but never change a result; editing them
#: re-executes the pages (see :func:`library_hash`) but keeps cached results.
PRESENTATION_MODULES = (
    "plotting*.py",
    "cli.py",
    "__main__.py",
    "bench*.py",
    "ledger.py",
)


def library_hash(package_dir=_PACKAGE_DIR, exclude=()):
    """SHA-256 (first 16 hex digits) of the ``.py`` sources in ``nndl_core``.

    Any change to the library changes this hash, so executed pages made by
    older code are never reused. ``exclude`` holds glob patterns of file
    names to leave out.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(package_dir).rglob("*.py")):
        if any(path.match(pattern) for pattern in exclude):
            continue
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def results_hash(package_dir=_PACKAGE_DIR):
    """:func:`library_hash` of the code that can change a result (the cache key)."""
    return library_hash(package_dir, exclude=PRESENTATION_MODULES)


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
