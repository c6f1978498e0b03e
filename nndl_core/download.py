"""Explicit, verified, atomic download of MNIST for readers with internet.

Never called implicitly: :mod:`nndl_core.data` only reads files that are
already on disk, and nothing here runs unless you call :func:`fetch_mnist`
(the CLI's ``nndl fetch-data``). Each file is checked exactly as
:mod:`nndl_core.data` checks it when reading (gzip integrity, IDX header,
length, SHA-256 of the decompressed bytes) before it is moved into place, so
the reader never sees a half-written or wrong file. The checksum table, the
cache folder and those checks live in :mod:`nndl_core.data` and are imported
from there, so the two modules cannot drift apart.
"""

import http.client
import os
import tempfile
import urllib.request
from pathlib import Path

from .data import (
    ENV_VAR,
    MNIST_FILES,
    MnistCorruptError,
    _Entry,
    _find_file,
    _gunzip,
    _idx_array,
    _read_bytes,
    _user_cache_dir,
)

__all__ = ["MNIST_MIRRORS", "MnistDownloadError", "fetch_mnist"]

#: Base URLs tried in order by :func:`fetch_mnist`; each serves ``<name>.gz``.
MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

_CHUNK_BYTES = 1 << 16


class MnistDownloadError(OSError):
    """:func:`fetch_mnist` could not get a file from any mirror."""


def fetch_mnist(
    dest=None, *, mirrors=MNIST_MIRRORS, timeout=30.0, progress=None, files=None
):
    """Download the MNIST files that are missing or invalid (needs internet).

    Never called implicitly. Each file is tried on each mirror in turn,
    written to a temporary file in ``dest``, checked (gzip integrity, IDX
    header, SHA-256 of the decompressed bytes) and only then moved into place
    with :func:`os.replace`, so an interrupted or bad download leaves nothing
    behind. Files already present and valid are not downloaded again.

    Parameters
    ----------
    dest : str or os.PathLike, optional
        Target folder (created if needed); default the per-user cache folder.
    mirrors : sequence of str
        Base URLs, tried in order; ``<base>/<name>.gz`` is fetched.
    timeout : float
        Seconds allowed for connecting and for each read.
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total)`` after every chunk of
        each file downloaded; ``bytes_done`` starts again from 0 for each file,
        and ``bytes_total`` is None when the server does not send a length.
    files : dict, optional
        ``{name: (sha256, n_items)}`` to fetch; default
        :data:`~nndl_core.data.MNIST_FILES`.

    Returns
    -------
    pathlib.Path
        The folder now holding the files.

    Raises
    ------
    MnistDownloadError
        When every mirror fails for some file; the message lists each failure.

    Examples
    --------
    >>> from nndl_core.data import load_mnist
    >>> folder = fetch_mnist()  # doctest: +SKIP
    >>> load_mnist(folder).training.images.shape  # doctest: +SKIP
    (50000, 784)
    """
    directory = _user_cache_dir() if dest is None else Path(dest).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    table = MNIST_FILES if files is None else files
    for name, (sha256, n_items) in table.items():
        entry = _Entry(name, sha256, n_items)
        if not _is_valid(directory, entry):
            _download(entry, directory, mirrors, timeout, progress)
    return directory


def _download(entry, directory, mirrors, timeout, progress):
    """Try each mirror for one file; raise MnistDownloadError if all fail."""
    target = directory / f"{entry.name}.gz"
    failures = []
    for base in mirrors:
        url = f"{base.rstrip('/')}/{target.name}"
        try:
            _download_from(url, entry, target, timeout, progress)
            return
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures.append(f"  {url}: {error}")
    raise MnistDownloadError(
        f"could not download {target.name} into {directory}; "
        + ("tried:\n" + "\n".join(failures) if failures else "no mirrors given")
        + "\nCheck the internet connection, or put the four MNIST files in a "
        f"folder and set {ENV_VAR} to it, or use load_mnist(subset=True)."
    )


def _download_from(url, entry, target, timeout, progress):
    """Download ``url`` to a temporary file, verify it, move it to ``target``."""
    handle, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.parent
    )
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            _copy_url(url, out, timeout, progress)
        data = _gunzip(temporary.read_bytes(), url, "")
        _idx_array(data, entry, url, "")
        temporary.chmod(0o644)  # mkstemp makes 0o600
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _copy_url(url, out, timeout, progress):
    """Stream ``url`` into the open file ``out``, reporting progress."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None else None
        done = 0
        while chunk := response.read(_CHUNK_BYTES):
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    if total is not None and done != total:
        # http.client returns a short body silently when the server hangs up.
        raise ConnectionError(f"the response ended after {done} of {total} bytes")


def _is_valid(directory, entry):
    """True when ``entry`` is present in ``directory`` and passes every check."""
    file = _find_file(directory, entry.name)
    if file is None:
        return False
    try:
        _idx_array(_read_bytes(file, ""), entry, file, "")
    except MnistCorruptError:
        return False
    return True
