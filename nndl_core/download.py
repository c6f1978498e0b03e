"""Explicit, verified, atomic download of MNIST for readers with internet.

Nothing here runs unless asked: :mod:`nndl_core.data` only reads files that
are already on disk. :func:`fetch_mnist` (the CLI's ``nndl fetch-data``)
downloads, and :func:`ensure_mnist` (what the site build calls before any
page runs) downloads only when the files are missing. Each file is held in
memory, checked exactly as :mod:`nndl_core.data` checks it when reading (gzip
integrity, IDX header, length, SHA-256 of the decompressed bytes) and only
then written with ``nndl_core.atomic.write_bytes_atomic``, so the reader
never sees a half-written or wrong file, and a download interrupted in any
way (Ctrl-C, a kill, a crash) leaves nothing on disk. Every download is
capped in size (the file's decompressed size, plus 1/256 of it and 64 KiB
for gzip's framing), whether or not the server says how long the file is.
The checksum table, the cache folder and the checks live in
:mod:`nndl_core.data` and are imported from there, so the two modules cannot
drift apart.
"""

import http.client
import os
import urllib.request
from pathlib import Path

from .atomic import remove_stale_temporaries, write_bytes_atomic
from .data import (
    _FIX,
    ENV_VAR,
    MNIST_FILES,
    MnistCorruptError,
    _Entry,
    _find_file,
    _gunzip,
    _idx_array,
    _idx_bytes,
    _read_bytes,
    _user_cache_dir,
    find_mnist_dir,
)

__all__ = ["MNIST_MIRRORS", "MnistDownloadError", "ensure_mnist", "fetch_mnist"]

#: Base URLs tried in order by :func:`fetch_mnist`; each serves ``<name>.gz``.
MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

_CHUNK_BYTES = 1 << 16
_GZIP_MIN_BYTES = 18  # a 10-byte header and an 8-byte trailer


class MnistDownloadError(OSError):
    """:func:`fetch_mnist` could not get a file from any mirror.

    Attributes
    ----------
    failures : tuple of str
        One ``"url: reason"`` per mirror tried, in order.
    """

    def __init__(self, message, failures=()):
        super().__init__(message)
        self.failures = tuple(failures)


def fetch_mnist(
    dest=None, *, mirrors=MNIST_MIRRORS, timeout=30.0, progress=None, files=None
):
    """Download the MNIST files that are missing or invalid (needs internet).

    Never called implicitly. Each file is tried on each mirror in turn,
    read into memory (at most its decompressed size plus 1/256 of it and
    64 KiB: a gzip file is never much bigger than what it holds), checked
    (gzip integrity, IDX header, SHA-256 of the decompressed bytes) and only
    then written with ``nndl_core.atomic.write_bytes_atomic``, so an
    interrupted or bad download leaves nothing behind. Temporary files that
    a killed process left in ``dest`` are removed first. Files already
    present and valid are not downloaded again.

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
        When every mirror fails for some file (the message lists each
        failure), or when ``dest`` is a file rather than a folder.

    Examples
    --------
    >>> from nndl_core.data import load_mnist
    >>> folder = fetch_mnist()  # doctest: +SKIP
    >>> load_mnist(folder).training.images.shape  # doctest: +SKIP
    (50000, 784)
    """
    directory = _user_cache_dir() if dest is None else Path(dest).expanduser()
    if directory.is_file():
        raise MnistDownloadError(
            f"cannot download MNIST into {directory}: it is a file, not a folder;"
            " give a folder (it is created if needed)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    table = MNIST_FILES if files is None else files
    _remove_stale_temporaries(directory, table)
    for name, (sha256, n_items) in table.items():
        entry = _Entry(name, sha256, n_items)
        if not _is_valid(directory, entry):
            _download(entry, directory, mirrors, timeout, progress)
    return directory


def ensure_mnist(*, mirrors=MNIST_MIRRORS, timeout=30.0, progress=None):
    """Return the folder MNIST is read from, downloading it first if missing.

    What the site build calls before any page runs. When ``$NNDL_MNIST_DIR``
    is set, the folder it names must hold the four files: nothing is
    downloaded into a folder you chose, so a mistyped path is reported
    rather than filled. Otherwise the per-user cache folder is used, and
    :func:`fetch_mnist` downloads into it the files that are missing or not
    of the expected size.

    Files already present get a cheap check, not a full one: the size each
    records (a few ``stat`` calls, and the last 4 bytes of each gzipped file,
    where gzip stores the decompressed size), well under a millisecond. The
    loader checks the SHA-256 whenever it reads them; a file whose size is
    off gets the full check, which says what is wrong with it.

    Parameters
    ----------
    mirrors, timeout, progress
        As for :func:`fetch_mnist`.

    Returns
    -------
    pathlib.Path
        The folder :func:`~nndl_core.data.load_mnist` will read.

    Raises
    ------
    ~nndl_core.data.MnistNotFoundError, ~nndl_core.data.MnistCorruptError
        ``$NNDL_MNIST_DIR`` lacks a file, or holds one whose recorded size
        is off and that then fails the full check.
    MnistDownloadError
        A download was needed and failed (no internet, say).

    Examples
    --------
    >>> folder = ensure_mnist()  # doctest: +SKIP
    """
    entries = [_Entry(name, *value) for name, value in MNIST_FILES.items()]
    if os.environ.get(ENV_VAR):
        directory = find_mnist_dir()
        for entry in entries:
            file = _find_file(directory, entry.name)
            if not _has_expected_size(file, entry):  # the full check says why
                _idx_array(_read_bytes(file, entry, _FIX), entry, file, _FIX)
        return directory
    directory = _user_cache_dir()
    files = [_find_file(directory, entry.name) for entry in entries]
    if all(map(_has_expected_size, files, entries)):
        return directory
    return fetch_mnist(directory, mirrors=mirrors, timeout=timeout, progress=progress)


def _has_expected_size(file, entry):
    """True when ``file`` exists and records ``entry``'s decompressed size.

    A gzip file's last 4 bytes hold its decompressed size (modulo 2**32,
    little-endian), so this reads 4 bytes, never the whole file.
    """
    if file is None:
        return False
    if file.suffix != ".gz":
        return file.stat().st_size == _idx_bytes(entry)
    with file.open("rb") as handle:
        if handle.seek(0, os.SEEK_END) < _GZIP_MIN_BYTES:
            return False
        handle.seek(-4, os.SEEK_END)
        recorded = int.from_bytes(handle.read(4), "little")
    return recorded == _idx_bytes(entry) % 2**32


def _remove_stale_temporaries(directory, names):
    """Delete the temporary files a killed download left in ``directory``.

    A temporary file (``.NAME.gz.*.tmp`` from write_atomic, ``.part`` from
    earlier versions of this module) lives only while a process writes it;
    SIGKILL and SIGTERM skip the ``finally`` that removes it. Downloads are
    held in memory, so this one's own temporary files exist for the moment
    of writing only.
    """
    for name in names:
        remove_stale_temporaries(directory / f"{name}.gz")
        for stale in directory.glob(f".{name}.gz.*.part"):
            stale.unlink(missing_ok=True)


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
            failures.append(f"{url}: {error}")
    tried = "".join(f"\n  {failure}" for failure in failures)
    raise MnistDownloadError(
        f"could not download {target.name} into {directory}; "
        + (f"tried:{tried}" if failures else "no mirrors given")
        + "\nCheck the internet connection, or put the four MNIST files in a "
        f"folder and set {ENV_VAR} to it, or use load_mnist(subset=True).",
        failures,
    )


def _download_from(url, entry, target, timeout, progress):
    """Download ``url`` into memory, verify it, then write it to ``target``."""
    blob = _read_url(url, _download_limit(entry), timeout, progress)
    data = _gunzip((blob,), _idx_bytes(entry), url, "")
    _idx_array(data, entry, url, "")
    write_bytes_atomic(target, blob)


def _download_limit(entry):
    """The most bytes a download of ``entry`` may take.

    At worst deflate stores data as it is, adding 5 bytes per block of up
    to 64 KiB, and gzip adds 18 bytes and an optional file name, so 1/256
    plus 64 KiB is a generous bound.
    """
    size = _idx_bytes(entry)
    return size + size // 256 + (1 << 16)


def _read_url(url, limit, timeout, progress):
    """The body of ``url``, at most ``limit`` bytes, reporting progress."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None else None
        if total is not None and total > limit:
            raise ValueError(f"the server announces {total} bytes, over {limit}")
        body = bytearray()
        # Ask for one byte past the limit: enough to know the body is too long.
        while chunk := response.read(min(_CHUNK_BYTES, limit + 1 - len(body))):
            body += chunk
            if len(body) > limit:
                raise ValueError(f"the response is longer than {limit} bytes")
            if progress is not None:
                progress(len(body), total)
    if total is not None and len(body) != total:
        # http.client returns a short body silently when the server hangs up.
        raise ConnectionError(f"the response ended after {len(body)} of {total} bytes")
    return bytes(body)


def _is_valid(directory, entry):
    """True when ``entry`` is present in ``directory`` and passes every check."""
    file = _find_file(directory, entry.name)
    if file is None:
        return False
    try:
        _idx_array(_read_bytes(file, entry, ""), entry, file, "")
    except MnistCorruptError:
        return False
    return True
