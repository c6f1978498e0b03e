"""The on-disk results cache: one JSON file per experiment run.

A run is identified by (experiment, parameters, profile, seed, library hash).

The cache trusts none of its files. Each record is written in one step
(:func:`~nndl_core.atomic.write_text_atomic`) and carries the SHA-256 of its
canonical JSON. A reader checks that digest, the record's fields and their
types, and that the record's contents give its file name (its key). A file
that fails any check (unreadable, truncated, hand-edited, the wrong shape) is
a *bad record*: it is reported on this module's logger, renamed
``<key>.json.bad-<UTC time>`` (kept, never deleted) and treated as absent, so
``load_or_run`` computes it again.

A record written before records carried a digest, and which passes every
other check, is adopted: its digest is added on first read (and logged), so
hours-long runs made by earlier versions stay cached. An edit made to such a
file *before* it was adopted cannot be detected; any edit after it is.

Used by every page through :func:`nndl_core.experiments.load_or_run`.
"""

import ast
import datetime
import functools
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from ..atomic import write_text_atomic

__all__ = [
    "RECORD_FIELDS",
    "ResultsDirError",
    "cache_key",
    "import_closure",
    "library_hash",
    "prepare_results_dir",
    "read_result",
    "read_results",
    "results_dir",
    "results_hash",
    "write_result",
]

RESULTS_ENV_VAR = "NNDL_RESULTS_DIR"
DIGEST_FIELD = "sha256"
#: The fields of a record and their JSON types (a bool is not an int here).
RECORD_FIELDS = {
    "name": str,
    "profile": str,
    "params": dict,
    "seed": int,
    "value": dict,
    "code_hash": str,
    "seconds": (int, float),
    "created": str,
}
logger = logging.getLogger(__name__)
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


#: Modules that draw, print, time or keep the books but never change a
#: result; editing them re-executes the pages (see :func:`library_hash`) but
#: keeps cached results.
PRESENTATION_MODULES = (
    "plotting*.py",
    "cli.py",
    "__main__.py",
    "bench/*.py",
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


class ResultsDirError(OSError):
    """The results folder cannot be created or written to."""


def prepare_results_dir(name, root=None):
    """Create ``name``'s folder of results and prove it writable; return it.

    Called before a run trains, so that a results folder that cannot hold
    the result (``NNDL_RESULTS_DIR`` naming a file, a read-only place) fails
    at once instead of after hours of training.

    Raises
    ------
    ResultsDirError
        One line naming the folder, why, and ``NNDL_RESULTS_DIR`` to set.
    """
    base = Path(root or results_dir())
    folder = base / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        where = (
            f"{RESULTS_ENV_VAR}={base}"
            if root is None and os.environ.get(RESULTS_ENV_VAR)
            else f"the results folder {base}"
        )
        raise ResultsDirError(
            f"{where} is not a writable folder ({err.strerror or err}); set "
            f"{RESULTS_ENV_VAR} to a folder you can write to (it is created if "
            "missing)"
        ) from None
    return folder


def _path(name, key, root):
    return Path(root) / name / f"{key}.json"


def _digest(record):
    """SHA-256 (hex) of ``record``'s canonical JSON: sorted keys, no spaces."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class _BadRecordError(ValueError):
    """Why a cache file cannot be trusted (internal: callers see None)."""


def _schema_error(record):
    """What is wrong with ``record``'s fields, or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if set(record) != set(RECORD_FIELDS):
        return f"fields {sorted(record)}, expected {sorted(RECORD_FIELDS)}"
    for field, kind in RECORD_FIELDS.items():
        value = record[field]
        if not isinstance(value, kind) or isinstance(value, bool):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            names = " or ".join(k.__name__ for k in kinds)
            return f"{field} is {type(value).__name__}, not {names}"
    return None


def _checked(path, name, key):
    """The record in ``path`` (without its digest); :class:`_BadRecordError` if bad."""
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError, ValueError) as err:
        raise _BadRecordError(f"unreadable ({type(err).__name__}: {err})") from None
    digest = record.pop(DIGEST_FIELD, None) if isinstance(record, dict) else None
    if digest is not None and digest != _digest(record):
        raise _BadRecordError("contents do not match the digest (edited or damaged)")
    error = _schema_error(record)
    if error is not None:
        raise _BadRecordError(f"wrong shape: {error}")
    fields = ("name", "params", "profile", "seed", "code_hash")
    if record["name"] != name or cache_key(*(record[f] for f in fields)) != key:
        raise _BadRecordError("its contents belong to another key")
    if digest is None:
        _adopt(path, record)
    return record


def _record_text(record):
    """The file contents of ``record``: its fields and their digest."""
    return json.dumps({**record, DIGEST_FIELD: _digest(record)}, indent=1)


def _adopt(path, record):
    """Add the digest to a sound ``record`` written before records had one."""
    try:
        write_text_atomic(path, _record_text(record))
    except OSError:  # a read-only cache: trusted as read, adopted another time
        return
    logger.info("cached result %s predates digests; its digest was added", path)


def _set_aside(path, why):
    """Rename the bad record ``path`` to ``<name>.bad-<UTC time>`` and log it."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}.bad-{stamp}")
    try:
        os.replace(path, aside)
        kept = f"set aside as {aside.name}"
    except FileNotFoundError:  # another process set it aside first
        return
    except OSError as err:
        kept = f"could not be set aside ({err.strerror or err})"
    logger.warning(
        "bad cached result %s (%s): %s; treated as absent, so a run computes it again",
        path,
        why,
        kept,
    )


def _read(path, name, key):
    """:func:`_checked`, or None after setting a bad record aside."""
    try:
        return _checked(path, name, key)
    except _BadRecordError as bad:
        _set_aside(path, bad)
        return None


def read_result(name, key, root=None):
    """The cached record for ``key``, or None when absent or bad.

    A bad record is logged and set aside (see the module's docstring), so
    the run is computed again as though it had never been cached.
    """
    path = _path(name, key, root or results_dir())
    if not path.exists():
        return None
    return _read(path, name, key)


def read_results(name, root=None):
    """Every good cached record of experiment ``name``, whatever its key (a list).

    Used to find runs made by earlier code (see
    :func:`nndl_core.experiments.latest`); bad records are set aside and
    skipped.
    """
    folder = Path(root or results_dir()) / name
    records = [_read(path, name, path.stem) for path in sorted(folder.glob("*.json"))]
    return [record for record in records if record is not None]


def write_result(name, key, record, root=None):
    """Write ``record`` with its digest, in one step, and return its path.

    Raises ValueError if ``record`` lacks a field of :data:`RECORD_FIELDS`
    or has one of the wrong type: such a record could never be read back.
    """
    record = json.loads(json.dumps(record))  # as a reader sees it: tuples are lists
    error = _schema_error(record)
    if error is not None:
        raise ValueError(f"cannot cache a result record of this shape: {error}")
    path = _path(name, key, root or results_dir())
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, _record_text(record))
