"""MNIST, loaded and split the way the book uses it.

Used in chap1 onwards. Nielsen's ``mnist_loader`` unpickles ``mnist.pkl.gz``;
we read the four original IDX files instead (no pickle anywhere), check each
one's header, length and SHA-256, and split the 60,000 training images as the
book does: the first 50,000 for training, the last 10,000 for validation.
Images come back as rows of float64 in [0, 1] (byte / 255), labels as int64.

Where the files are looked for (:func:`find_mnist_dir`): the ``path`` you
pass, else the folder named by ``$NNDL_MNIST_DIR``, else the per-user cache
``$XDG_CACHE_HOME/nndl/mnist`` (default ``~/.cache/nndl/mnist``). Nothing is
downloaded unless you call :func:`nndl_core.download.fetch_mnist` (the CLI's
``nndl fetch-data``).
A small real subset ships inside the package, so ``load_mnist(subset=True)``
works offline and in CI; it goes through the same reader as the full files.
"""

import functools
import hashlib
import json
import operator
import os
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = [
    "ENV_VAR",
    "MNIST_FILES",
    "Dataset",
    "MnistCorruptError",
    "MnistNotFoundError",
    "MnistSplits",
    "find_mnist_dir",
    "from_pairs",
    "load_data",
    "load_data_wrapper",
    "load_mnist",
    "vectorized_result",
    "verify_mnist",
]

ENV_VAR = "NNDL_MNIST_DIR"

#: File name (without ``.gz``) -> (SHA-256 of the decompressed bytes, item count).
MNIST_FILES = {
    "train-images-idx3-ubyte": (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        60000,
    ),
    "train-labels-idx1-ubyte": (
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        60000,
    ),
    "t10k-images-idx3-ubyte": (
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        10000,
    ),
    "t10k-labels-idx1-ubyte": (
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        10000,
    ),
}

_FIX = (
    "run `nndl fetch-data` (needs internet) or set NNDL_MNIST_DIR to a folder "
    "holding the four MNIST files, or use load_mnist(subset=True) for the small "
    "copy shipped with the package"
)
_SUBSET_FIX = "the copy shipped with nndl-core is damaged; reinstall nndl-core"
_SUBSET_DIR = Path(__file__).with_name("_data")
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib's way of asking for a gzip header
_CHUNK_BYTES = 1 << 16
_ROWS = _COLUMNS = 28


class Dataset(NamedTuple):
    """Examples as rows, unpackable as ``images, labels = dataset``.

    Attributes
    ----------
    images : ndarray of shape (n, 784)
        Pixel intensities, float64 in [0, 1] (byte / 255), row-major 28x28.
    labels : ndarray of shape (n,)
        The digits, int64 in 0..9.
    """

    images: np.ndarray
    labels: np.ndarray


class MnistSplits(NamedTuple):
    """The book's three data sets, unpackable as ``training, validation, test``."""

    training: Dataset
    validation: Dataset
    test: Dataset


class MnistNotFoundError(FileNotFoundError):
    """The MNIST files are not where we looked; the message says how to get them."""


class MnistCorruptError(ValueError):
    """An MNIST file is damaged or is not the file we expect."""


class _Entry(NamedTuple):
    """One IDX file we expect: its name (no ``.gz``), checksum and item count."""

    name: str
    sha256: str
    n_items: int


class _Spec(NamedTuple):
    """A set of four files, how many training images are validation, the fix."""

    entries: tuple
    n_validation: int
    fix: str


_FULL_SPEC = _Spec(
    tuple(_Entry(name, *value) for name, value in MNIST_FILES.items()), 10000, _FIX
)


def load_mnist(path=None, *, subset=False):
    """Load MNIST and split it as the book does.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Folder holding the four files (``.gz`` or decompressed). When omitted,
        see :func:`find_mnist_dir`.
    subset : bool
        Load the small real subset shipped in the package (1,000 training,
        200 validation, 500 test images) and ignore ``path``.

    Returns
    -------
    MnistSplits
        ``training`` (50,000 examples), ``validation`` (10,000, the last
        10,000 of the training file) and ``test`` (10,000).

    Raises
    ------
    MnistNotFoundError, MnistCorruptError

    Notes
    -----
    Results are cached in-process, keyed on the files' paths, sizes and
    modification times, so a page that loads twice reads once. The arrays are
    therefore **read-only** (writing raises ``ValueError``); call ``.copy()``
    for a private, writable copy.

    Examples
    --------
    >>> training, validation, test = load_mnist(subset=True)
    >>> training.images.shape, validation.images.shape, test.images.shape
    ((1000, 784), (200, 784), (500, 784))
    >>> training.labels[:6]
    array([5, 0, 4, 1, 9, 2])
    >>> print(f"{training.images.min():.1f} {training.images.max():.1f}")
    0.0 1.0
    """
    directory, spec = _source(path, subset)
    files = [_locate(directory, entry.name, spec.fix) for entry in spec.entries]
    stats = [file.stat() for file in files]
    stamps = tuple(
        (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
        for file, stat in zip(files, stats, strict=True)
    )
    return _load_splits(stamps, spec)


def load_data(path=None, *, subset=False):
    """The book's name for :func:`load_mnist`; same arguments, same result.

    Examples
    --------
    >>> training_data, validation_data, test_data = load_data(subset=True)
    >>> len(training_data.labels)
    1000
    """
    return load_mnist(path, subset=subset)


def load_data_wrapper(path=None, *, subset=False):
    """MNIST in the book's list-of-pairs form (``mnist_loader.load_data_wrapper``).

    Parameters
    ----------
    path, subset
        As for :func:`load_mnist`.

    Returns
    -------
    training_data : list of (x, y)
        ``x`` of shape (784, 1), ``y`` the (10, 1) one-hot
        :func:`vectorized_result` of the label.
    validation_data, test_data : list of (x, label)
        ``x`` of shape (784, 1), ``label`` an int. The book uses different
        forms for training and evaluation data, and so do we.

    Each ``x`` is a read-only view into the cached arrays of :func:`load_mnist`.
    The three are lists, which can be iterated every epoch, not the one-shot
    ``zip`` iterators of the usual Python 3 ports of the book's loader.

    Examples
    --------
    >>> training_data, validation_data, test_data = load_data_wrapper(subset=True)
    >>> x, y = training_data[0]
    >>> x.shape, y.shape, int(y.argmax()), validation_data[0][1]
    ((784, 1), (10, 1), 5, 3)
    """
    training, validation, test = load_mnist(path, subset=subset)
    training_data = [
        (x[:, np.newaxis], vectorized_result(label))  # (784,) -> (784, 1)
        for x, label in zip(training.images, training.labels, strict=True)
    ]
    return training_data, _labelled_pairs(validation), _labelled_pairs(test)


def _labelled_pairs(dataset):
    """``[(x of shape (784, 1), int label), ...]`` for evaluation data."""
    return [
        (x[:, np.newaxis], int(label))  # (784,) -> (784, 1)
        for x, label in zip(dataset.images, dataset.labels, strict=True)
    ]


def vectorized_result(j):
    """A (10, 1) unit vector with 1.0 in position ``j`` (the desired output).

    Parameters
    ----------
    j : int
        A digit, 0..9.

    Returns
    -------
    ndarray of shape (10, 1)

    Examples
    --------
    >>> vectorized_result(3).ravel()
    array([0., 0., 0., 1., 0., 0., 0., 0., 0., 0.])
    """
    j = operator.index(j)  # a float label is a bug upstream, so refuse 3.0
    if not 0 <= j < 10:
        raise ValueError(f"a digit label must be in 0..9, got {j}")
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def from_pairs(pairs):
    """Convert the book's list of ``(x, y)`` pairs back to a :class:`Dataset`.

    Parameters
    ----------
    pairs : iterable of (x, y)
        ``x`` of shape (n_in, 1) or (n_in,); ``y`` either an int label or a
        one-hot column of shape (n_classes, 1), the same kind for every pair.

    Returns
    -------
    Dataset
        ``images`` of shape (n, n_in) float64, ``labels`` of shape (n,) int64.

    Examples
    --------
    >>> training_data, _, test_data = load_data_wrapper(subset=True)
    >>> images, labels = from_pairs(training_data)
    >>> images.shape, labels[:3]
    ((1000, 784), array([5, 0, 4]))
    >>> test = load_mnist(subset=True).test
    >>> bool((from_pairs(test_data).labels == test.labels).all())
    True
    """
    pairs = list(pairs)
    if not pairs:
        raise ValueError("from_pairs needs at least one (x, y) pair")
    if not all(isinstance(pair, tuple | list) and len(pair) == 2 for pair in pairs):
        raise ValueError("from_pairs expects a list of (x, y) pairs")
    xs, ys = zip(*pairs, strict=True)
    x_shape = _common_shape(xs, "x")
    if len(x_shape) not in (1, 2) or x_shape[1:] not in ((), (1,)):
        raise ValueError(f"each x must have shape (n_in, 1) or (n_in,), got {x_shape}")
    images = np.array(xs, dtype=np.float64).reshape(len(xs), -1)  # (n, n_in)
    return Dataset(images, _labels_from(ys))


def _common_shape(values, what):
    """The one shape shared by every value, or a ValueError listing the shapes."""
    shapes = {np.shape(value) for value in values}
    if len(shapes) != 1:
        raise ValueError(f"every {what} must have the same shape, found {shapes}")
    return shapes.pop()


def _labels_from(ys):
    """int64 labels from int labels or from (n_classes, 1) one-hot columns."""
    shape = _common_shape(ys, "y")
    if shape == ():
        labels = np.array(ys)
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"int labels expected, got dtype {labels.dtype}")
        return labels.astype(np.int64)
    columns = np.array(ys, dtype=np.float64)  # (n, n_classes, 1)
    if len(shape) != 2 or shape[1] != 1 or not _are_one_hot(columns):
        raise ValueError(
            "each y must be an int label or a one-hot column of shape (n_classes, 1)"
            f" such as vectorized_result(j); got shape {shape}"
        )
    return columns[:, :, 0].argmax(axis=1).astype(np.int64)


def _are_one_hot(columns):
    """True when every column holds zeros and exactly one 1."""
    return bool(np.isin(columns, (0.0, 1.0)).all() and (columns.sum(axis=1) == 1).all())


def find_mnist_dir(path=None):
    """Return the folder the four MNIST files are read from.

    The first of these that is given is used (no silent fall-through, so a
    mistyped ``$NNDL_MNIST_DIR`` is reported rather than ignored):
    ``path``; the folder named by ``$NNDL_MNIST_DIR``; the per-user cache
    ``$XDG_CACHE_HOME/nndl/mnist`` (default ``~/.cache/nndl/mnist``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MnistNotFoundError
        If that folder lacks any of the files (``.gz`` or decompressed).

    Examples
    --------
    >>> find_mnist_dir("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    MnistNotFoundError: ...
    """
    if path is not None:
        directory, why = Path(path).expanduser(), "the folder passed in"
    elif os.environ.get(ENV_VAR):
        directory, why = Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"
    else:
        directory, why = _user_cache_dir(), "the default cache folder"
    if directory.is_file():
        raise MnistNotFoundError(
            f"MNIST folder {directory} ({why}) is a file, not a folder. To fix: "
            f"give the folder that holds the four files (such as {directory.parent})"
        )
    if not directory.is_dir():
        raise MnistNotFoundError(
            f"MNIST folder {directory} ({why}) does not exist. To fix: {_FIX}"
        )
    missing = [name for name in MNIST_FILES if _find_file(directory, name) is None]
    if missing:
        raise MnistNotFoundError(
            f"MNIST folder {directory} ({why}) lacks "
            f"{', '.join(name + '[.gz]' for name in missing)}. To fix: {_FIX}"
        )
    return directory


def verify_mnist(path=None, *, subset=False):
    """Check every MNIST file's header, length and SHA-256.

    Parameters
    ----------
    path : str or os.PathLike, optional
        As for :func:`load_mnist`.
    subset : bool
        Check the subset shipped in the package instead.

    Returns
    -------
    dict
        ``{file name: "ok"}`` for the four files; any failure raises
        :class:`MnistNotFoundError` or :class:`MnistCorruptError` naming the file.

    Examples
    --------
    >>> verify_mnist(subset=True)["train-labels-idx1-ubyte.gz"]
    'ok'
    """
    directory, spec = _source(path, subset)
    report = {}
    for entry in spec.entries:
        file = _locate(directory, entry.name, spec.fix)
        _idx_array(_read_bytes(file, entry, spec.fix), entry, file, spec.fix)
        report[file.name] = "ok"
    return report


def _user_cache_dir():
    """``$XDG_CACHE_HOME/nndl/mnist``, default ``~/.cache/nndl/mnist``."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "nndl" / "mnist"


def _source(path, subset):
    """The folder to read and the spec its files must meet."""
    if subset:
        return _SUBSET_DIR, _subset_spec()
    return find_mnist_dir(path), _FULL_SPEC


@functools.cache
def _subset_spec():
    """The shipped subset's checksums and split, from ``_data/SUBSET.json``."""
    meta = json.loads((_SUBSET_DIR / "SUBSET.json").read_text(encoding="utf-8"))
    entries = tuple(
        _Entry(name, meta["files"][name]["sha256"], meta["files"][name]["n_items"])
        for name in MNIST_FILES
    )
    return _Spec(entries, meta["split"]["n_validation"], _SUBSET_FIX)


def _find_file(directory, name):
    """``directory/name.gz`` or else ``directory/name``, or None."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _locate(directory, name, fix):
    """Like :func:`_find_file`, but a missing file raises MnistNotFoundError."""
    file = _find_file(directory, name)
    if file is None:
        raise MnistNotFoundError(
            f"MNIST file {name}[.gz] not found in {directory}. To fix: {fix}"
        )
    return file


@functools.lru_cache(maxsize=2)
def _load_splits(stamps, spec):
    """Read the four files named in ``stamps`` and split; cached on the stamps."""
    files = [Path(stamp[0]) for stamp in stamps]
    train = _read_pair(files[0], files[1], spec.entries[0], spec.entries[1], spec.fix)
    test = _read_pair(files[2], files[3], spec.entries[2], spec.entries[3], spec.fix)
    return _split(train, test, spec.n_validation)


def _split(train, test, n_validation):
    """The book's rule: the last ``n_validation`` training images validate."""
    n_training = len(train.labels) - n_validation
    return MnistSplits(
        Dataset(train.images[:n_training], train.labels[:n_training]),
        Dataset(train.images[n_training:], train.labels[n_training:]),
        test,
    )


def _read_pair(image_file, label_file, image_entry, label_entry, fix):
    """Read an images file and its labels file into a read-only Dataset."""
    image_bytes = _read_bytes(image_file, image_entry, fix)
    label_bytes = _read_bytes(label_file, label_entry, fix)
    n_images = _idx_count(image_bytes, image_entry, image_file, fix)
    n_labels = _idx_count(label_bytes, label_entry, label_file, fix)
    if n_images != n_labels:
        raise _corrupt(
            label_file,
            f"holds {n_labels} labels but {image_file.name} holds {n_images} images",
            fix,
        )
    images = np.divide(_idx_array(image_bytes, image_entry, image_file, fix), 255.0)
    labels = _idx_array(label_bytes, label_entry, label_file, fix).astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False  # shared by the cache
    return Dataset(images, labels)


def _read_bytes(file, entry, fix):
    """The decompressed bytes of ``file`` (gzipped when its name ends in .gz).

    Never holds more than ``entry``'s expected size (:func:`_idx_bytes`) plus
    one read: a longer file, or a small gzip file that expands to gigabytes,
    is reported as too long, not read into memory.
    """
    limit = _idx_bytes(entry)
    if file.suffix != ".gz":
        size = file.stat().st_size
        if size > limit:
            raise _corrupt(file, f"too long: {size} bytes, expected {limit}", fix)
        return file.read_bytes()
    with file.open("rb") as handle:
        chunks = iter(functools.partial(handle.read, _CHUNK_BYTES), b"")
        return _gunzip(chunks, limit, file, fix)


def _gunzip(chunks, limit, source, fix):
    """Decompress a gzip stream given as byte chunks, keeping at most ``limit``.

    Damage raises MnistCorruptError, never EOFError or zlib.error, and so
    does a stream that expands beyond ``limit`` bytes: decompression stops
    there. Concatenated gzip members are read one after the other, as
    :func:`gzip.decompress` does.
    """
    too_long = f"too long: decompresses to more than the {limit} bytes expected"
    out = bytearray()
    member = zlib.decompressobj(wbits=_GZIP_WBITS)
    try:
        for chunk in chunks:
            while chunk:
                if member.eof:  # the previous member ended; another begins
                    member = zlib.decompressobj(wbits=_GZIP_WBITS)
                # One byte past the limit is enough to know the file is too long.
                out += member.decompress(chunk, limit + 1 - len(out))
                if len(out) > limit:
                    raise _corrupt(source, too_long, fix)
                chunk = member.unused_data if member.eof else member.unconsumed_tail
    except zlib.error as error:  # not gzip, a bad block, a CRC or length mismatch
        raise _corrupt(source, f"damaged gzip stream ({error})", fix) from None
    if not member.eof:
        raise _corrupt(source, "truncated gzip stream (the file ends early)", fix)
    return bytes(out)


def _idx_bytes(entry):
    """The exact size in bytes of ``entry``'s decompressed IDX file."""
    _, header, item_bytes, _ = _idx_layout(entry.name)
    return header + entry.n_items * item_bytes


def _idx_layout(name):
    """(magic number, header bytes, bytes per item, noun) of an MNIST IDX file."""
    if "idx3" in name:
        return _IMAGE_MAGIC, 16, _ROWS * _COLUMNS, "images"
    return _LABEL_MAGIC, 8, 1, "labels"


def _idx_count(data, entry, source, fix):
    """Check the IDX header (magic number, image size) and return the item count."""
    magic, header, _, _ = _idx_layout(entry.name)
    if len(data) < header:
        raise _corrupt(source, f"only {len(data)} bytes, too short for a header", fix)
    found, count = struct.unpack(">II", data[:8])  # big-endian uint32s
    if found != magic:
        raise _corrupt(source, f"wrong magic number {found}, expected {magic}", fix)
    if magic == _IMAGE_MAGIC:
        rows, columns = struct.unpack(">II", data[8:16])
        if (rows, columns) != (_ROWS, _COLUMNS):
            raise _corrupt(source, f"images are {rows}x{columns}, expected 28x28", fix)
    return count


def _idx_array(data, entry, source, fix):
    """Check an IDX file completely and return its items as uint8.

    Returns
    -------
    ndarray of shape (n_items, 784) for images or (n_items,) for labels
        A read-only view of ``data``.
    """
    _, header, item_bytes, noun = _idx_layout(entry.name)
    count = _idx_count(data, entry, source, fix)
    if count != entry.n_items:
        raise _corrupt(source, f"holds {count} {noun}, expected {entry.n_items}", fix)
    expected_bytes = _idx_bytes(entry)
    if len(data) != expected_bytes:
        state = "truncated" if len(data) < expected_bytes else "too long"
        problem = f"{state}: {len(data)} bytes, expected {expected_bytes}"
        raise _corrupt(source, problem, fix)
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        problem = f"checksum mismatch: SHA-256 {digest}, expected {entry.sha256}"
        raise _corrupt(source, problem, fix)
    items = np.frombuffer(data, dtype=np.uint8, offset=header)
    return items.reshape(count, item_bytes) if item_bytes > 1 else items


def _corrupt(source, problem, fix):
    """A MnistCorruptError naming the file, the problem and the fix."""
    message = f"MNIST file {source} is unusable: {problem}."
    return MnistCorruptError(f"{message} To fix: replace it; {fix}" if fix else message)
