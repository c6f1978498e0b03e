"""Tests for nndl_core.data: MNIST loading, the shipped subset, bad input.

Tests that need the full MNIST files find them through ``$NNDL_MNIST_DIR``
and are skipped when it is unset. Downloads are tested in
``test_download.py``. The property tests at the end (Hypothesis) feed the
readers random bytes and damaged copies of real files: every failure must be
a MnistCorruptError, never an IndexError, struct.error, zlib.error, EOFError,
OSError or MemoryError from deep inside.
"""

import gzip
import json
import os
import shutil
import struct
import tempfile
import tracemalloc
import zlib
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndl_core import data
from nndl_core.data import (
    ENV_VAR,
    MNIST_FILES,
    Dataset,
    MnistCorruptError,
    MnistNotFoundError,
    find_mnist_dir,
    from_pairs,
    load_data,
    load_data_wrapper,
    load_mnist,
    vectorized_result,
    verify_mnist,
)

pytestmark = pytest.mark.filterwarnings("error")

FULL_DIR = Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None
SUBSET_DIR = Path(data.__file__).with_name("_data")
SUBSET_META = json.loads((SUBSET_DIR / "SUBSET.json").read_text(encoding="utf-8"))
FIX_HINTS = ("nndl fetch-data", "NNDL_MNIST_DIR", "load_mnist(subset=True)")


@pytest.fixture(autouse=True)
def _strict_numpy():
    with np.errstate(all="raise"):
        yield


@pytest.fixture(autouse=True)
def _isolated_search(tmp_path, monkeypatch):
    """No test sees the real env var or the user's cache folder."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(scope="module")
def full_dir():
    """The full MNIST folder named by $NNDL_MNIST_DIR; skip when it is unset."""
    if FULL_DIR is None:
        pytest.skip(f"needs the full MNIST: set {ENV_VAR} to a folder holding it")
    if not FULL_DIR.is_dir():
        pytest.fail(f"{ENV_VAR}={FULL_DIR} is not a folder")
    return FULL_DIR


@pytest.fixture(scope="module")
def full_splits(full_dir):
    return load_mnist(full_dir)


@pytest.fixture(scope="module")
def raw_training_file(full_dir):
    """The training file's images as uint8, read without the library."""
    blob = gzip.decompress((full_dir / "train-images-idx3-ubyte.gz").read_bytes())
    return np.frombuffer(blob, np.uint8, offset=16).reshape(60000, 784)


def assert_message(error, *parts):
    """The error message mentions every part (file names, problems, fixes)."""
    message = str(error.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# ---------------------------------------------------------------- full data


def test_full_split_shapes_dtypes_and_ranges(full_splits):
    sizes = {"training": 50000, "validation": 10000, "test": 10000}
    for name, dataset in zip(sizes, full_splits, strict=True):
        assert dataset.images.shape == (sizes[name], 784)
        assert dataset.images.dtype == np.float64
        assert dataset.labels.shape == (sizes[name],)
        assert dataset.labels.dtype == np.int64
        assert dataset.images.min() == 0.0 and dataset.images.max() == 1.0
        assert set(np.unique(dataset.labels)) == set(range(10))


def test_full_first_labels_are_the_famous_ones(full_splits):
    assert full_splits.training.labels[:6].tolist() == [5, 0, 4, 1, 9, 2]
    assert full_splits.test.labels[:3].tolist() == [7, 2, 1]


def test_split_boundaries_follow_the_book(full_splits, raw_training_file):
    expected = raw_training_file / 255.0
    np.testing.assert_array_equal(full_splits.training.images[-1], expected[49999])
    np.testing.assert_array_equal(full_splits.validation.images[0], expected[50000])
    np.testing.assert_array_equal(full_splits.validation.images[-1], expected[59999])


def test_arrays_are_read_only_and_cached(full_dir, full_splits):
    with pytest.raises(ValueError, match="read-only"):
        full_splits.training.images[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        full_splits.test.labels[0] = 1
    assert load_mnist(full_dir) is full_splits
    assert load_data(full_dir) is full_splits


def test_env_var_is_used(full_dir, full_splits, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(full_dir))
    assert find_mnist_dir() == full_dir
    assert load_mnist() is full_splits


def test_verify_full(full_dir):
    assert set(verify_mnist(full_dir).values()) == {"ok"}
    assert len(verify_mnist(full_dir)) == 4


def test_wrapper_form_on_full_data(full_dir):
    training_data, validation_data, test_data = load_data_wrapper(full_dir)
    assert (len(training_data), len(validation_data), len(test_data)) == (
        50000,
        10000,
        10000,
    )
    x, y = training_data[0]
    assert x.shape == (784, 1) and y.shape == (10, 1) and y[5, 0] == 1.0


def test_cache_notices_a_changed_file(full_dir, tmp_path):
    for name in MNIST_FILES:
        shutil.copy(full_dir / f"{name}.gz", tmp_path / f"{name}.gz")
    first = load_mnist(tmp_path)
    labels_file = tmp_path / "t10k-labels-idx1-ubyte.gz"
    stat = labels_file.stat()
    os.utime(labels_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = load_mnist(tmp_path)
    assert second is not first
    np.testing.assert_array_equal(second.test.labels, first.test.labels)


# ---------------------------------------------------------------- the subset


def test_subset_shapes_and_split():
    training, validation, test = load_mnist(subset=True)
    split = SUBSET_META["split"]
    assert training.images.shape == (split["n_training"], 784) == (1000, 784)
    assert validation.images.shape == (split["n_validation"], 784) == (200, 784)
    assert test.images.shape == (split["n_test"], 784) == (500, 784)
    assert training.labels[:6].tolist() == [5, 0, 4, 1, 9, 2]
    assert training.images.dtype == np.float64 and training.labels.dtype == np.int64
    assert 0.0 <= training.images.min() and training.images.max() <= 1.0


def test_subset_ignores_path_and_env(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_mnist(tmp_path, subset=True).training.images.shape == (1000, 784)


def test_subset_is_a_slice_of_the_full_data(full_splits):
    training, validation, test = load_mnist(subset=True)
    np.testing.assert_array_equal(training.images, full_splits.training.images[:1000])
    np.testing.assert_array_equal(
        validation.images, full_splits.validation.images[:200]
    )
    np.testing.assert_array_equal(test.labels, full_splits.test.labels[:500])


def test_subset_provenance_records_the_sources():
    for name, (sha256, _) in MNIST_FILES.items():
        assert SUBSET_META["source"][name]["sha256"] == sha256
    assert "LeCun" in SUBSET_META["credit"]["authors"]
    assert verify_mnist(subset=True) == {f"{name}.gz": "ok" for name in MNIST_FILES}


# ---------------------------------------------------------------- book forms


def test_wrapper_form():
    training_data, validation_data, test_data = load_data_wrapper(subset=True)
    assert isinstance(training_data, list) and isinstance(test_data, list)
    assert (len(training_data), len(validation_data), len(test_data)) == (
        1000,
        200,
        500,
    )
    x, y = training_data[0]
    assert x.shape == (784, 1) and x.dtype == np.float64
    np.testing.assert_array_equal(y, vectorized_result(5))
    x, label = test_data[0]
    assert x.shape == (784, 1) and label == 7 and isinstance(label, int)


def test_from_pairs_round_trip():
    splits = load_mnist(subset=True)
    training_data, validation_data, _ = load_data_wrapper(subset=True)
    for pairs, expected in [
        (training_data, splits.training),
        (validation_data, splits.validation),
    ]:
        actual = from_pairs(pairs)
        assert isinstance(actual, Dataset)
        np.testing.assert_array_equal(actual.images, expected.images)
        np.testing.assert_array_equal(actual.labels, expected.labels)
        assert actual.labels.dtype == np.int64


def test_from_pairs_accepts_flat_x_and_iterators():
    pairs = zip([np.zeros(4), np.ones(4)], [1, 2], strict=True)
    images, labels = from_pairs(pairs)
    assert images.shape == (2, 4) and labels.tolist() == [1, 2]


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        ([], "at least one"),
        ([(np.zeros((784, 1)),)], r"\(x, y\) pairs"),
        ([(np.zeros((784, 1)), 1), (np.zeros((783, 1)), 2)], "same shape"),
        ([(np.zeros((28, 28)), 1)], r"shape \(n_in, 1\)"),
        ([(np.zeros((784, 1)), 1), (np.zeros((784, 1)), vectorized_result(2))], "y"),
        ([(np.zeros((784, 1)), 1.5)], "int labels"),
        ([(np.zeros((784, 1)), np.zeros((10, 1)))], "one-hot"),
        ([(np.zeros((784, 1)), np.ones((10, 2)))], "one-hot"),
    ],
)
def test_from_pairs_rejects_bad_shapes(pairs, match):
    with pytest.raises(ValueError, match=match):
        from_pairs(pairs)


def test_vectorized_result():
    e = vectorized_result(np.int64(3))
    assert e.shape == (10, 1) and e.dtype == np.float64
    assert e.sum() == 1.0 and e[3, 0] == 1.0
    for bad in (-1, 10):
        with pytest.raises(ValueError, match="0..9"):
            vectorized_result(bad)
    with pytest.raises(TypeError):
        vectorized_result(3.0)


# ---------------------------------------------------------------- bad input


def idx_bytes(magic, count, *, dims=(28, 28), n_present=None, fill=0):
    """A fake IDX file: header for ``count`` items, ``n_present`` items of data."""
    n_present = count if n_present is None else n_present
    if magic == 2051:
        header = struct.pack(">IIII", magic, count, *dims)
        return header + bytes([fill]) * (n_present * dims[0] * dims[1])
    return struct.pack(">II", magic, count) + bytes([fill]) * n_present


def write_fake_dir(folder, **overrides):
    """Four header-only IDX files with the right counts; ``overrides`` replace.

    Keyword names are the file names with ``-`` as ``_``; a value ending in
    ``.gz`` in its key is written gzipped.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, (_, count) in MNIST_FILES.items():
        magic = 2051 if "idx3" in name else 2049
        (folder / name).write_bytes(idx_bytes(magic, count, n_present=0))
    for key, content in overrides.items():
        name = key.replace("_", "-").replace("-gz", ".gz")
        (folder / name.removesuffix(".gz")).unlink(missing_ok=True)
        (folder / name).write_bytes(content)
    return folder


def test_wrong_magic_number(tmp_path):
    write_fake_dir(tmp_path, train_images_idx3_ubyte=idx_bytes(1234, 60000))
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(tmp_path)
    assert_message(
        error, "train-images-idx3-ubyte", "wrong magic number 1234, expected 2051"
    )
    assert_message(error, *FIX_HINTS)


def test_wrong_image_size(tmp_path):
    fake = idx_bytes(2051, 60000, dims=(27, 28), n_present=0)
    write_fake_dir(tmp_path, train_images_idx3_ubyte=fake)
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(tmp_path)
    assert_message(error, "train-images-idx3-ubyte", "27x28, expected 28x28")


def test_truncated_gzip(tmp_path):
    blob = gzip.compress(idx_bytes(2049, 60000), mtime=0)
    write_fake_dir(tmp_path, train_labels_idx1_ubyte_gz=blob[: len(blob) // 2])
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(tmp_path)
    assert_message(
        error, "train-labels-idx1-ubyte.gz", "truncated gzip stream", *FIX_HINTS
    )
    assert not isinstance(error.value, EOFError)


def test_damaged_gzip(tmp_path):
    blob = bytearray(gzip.compress(idx_bytes(2049, 60000), mtime=0))
    blob[-6] ^= 0xFF  # the stored CRC-32 no longer matches
    write_fake_dir(tmp_path, train_labels_idx1_ubyte_gz=bytes(blob))
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(tmp_path)
    assert_message(error, "train-labels-idx1-ubyte.gz", "damaged gzip stream")


def test_truncated_raw_file(tmp_path):
    fake = idx_bytes(2051, 60000, n_present=10)
    write_fake_dir(tmp_path, train_images_idx3_ubyte=fake)
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(tmp_path)
    assert_message(
        error, "train-images-idx3-ubyte", "truncated", "expected 47040016", *FIX_HINTS
    )


def test_count_mismatch_between_images_and_labels(tmp_path):
    write_fake_dir(tmp_path, train_labels_idx1_ubyte=idx_bytes(2049, 59999))
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(tmp_path)
    assert_message(
        error,
        "train-labels-idx1-ubyte",
        "holds 59999 labels but train-images-idx3-ubyte holds 60000 images",
        *FIX_HINTS,
    )


def test_unexpected_count(tmp_path):
    write_fake_dir(
        tmp_path,
        train_images_idx3_ubyte=idx_bytes(2051, 59000, n_present=0),
        train_labels_idx1_ubyte=idx_bytes(2049, 59000, n_present=0),
    )
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(tmp_path)
    assert_message(
        error, "train-images-idx3-ubyte", "holds 59000 images, expected 60000"
    )


def test_wrong_checksum(tmp_path):
    # Right header and length, wrong pixels: only the checksum can tell.
    write_fake_dir(tmp_path, train_images_idx3_ubyte=idx_bytes(2051, 60000))
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(tmp_path)
    assert_message(error, "train-images-idx3-ubyte", "checksum mismatch", *FIX_HINTS)


@pytest.fixture
def subset_copy(tmp_path, monkeypatch):
    """A private copy of the shipped subset that tests may damage."""
    folder = tmp_path / "subset"
    shutil.copytree(SUBSET_DIR, folder)
    monkeypatch.setattr(data, "_SUBSET_DIR", folder)
    data._subset_spec.cache_clear()
    yield folder
    data._subset_spec.cache_clear()


def rewrite_gz(file, change):
    """Decompress ``file``, apply ``change`` to the bytes, write it back gzipped."""
    content = change(bytearray(gzip.decompress(file.read_bytes())))
    file.write_bytes(gzip.compress(bytes(content), mtime=0))


def test_subset_copy_loads(subset_copy):
    expected = load_mnist(subset=True)  # read from the copy, a different cache key
    assert expected.training.images.shape == (1000, 784)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda content: content + b"x",
            "too long: decompresses to more than the 508 bytes expected",
        ),
        (lambda content: content[:-1], "truncated: 507 bytes, expected 508"),
        (lambda content: content[:8] + bytes([9]) + content[9:], "checksum mismatch"),
    ],
)
def test_damaged_test_labels(subset_copy, change, problem):
    rewrite_gz(subset_copy / "t10k-labels-idx1-ubyte.gz", change)
    for load in (load_mnist, verify_mnist):
        with pytest.raises(MnistCorruptError) as error:
            load(subset=True)
        assert_message(error, "t10k-labels-idx1-ubyte.gz", problem, "reinstall")


def test_subset_labels_must_match_images(subset_copy):
    rewrite_gz(
        subset_copy / "t10k-labels-idx1-ubyte.gz",
        lambda content: content[:4] + (499).to_bytes(4, "big") + content[8:-1],
    )
    with pytest.raises(MnistCorruptError) as error:
        load_mnist(subset=True)
    assert_message(error, "holds 499 labels but t10k-images-idx3-ubyte.gz holds 500")


def test_missing_file(tmp_path):
    write_fake_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(MnistNotFoundError) as error:
        load_mnist(tmp_path)
    assert_message(error, "t10k-labels-idx1-ubyte", str(tmp_path), *FIX_HINTS)
    assert isinstance(error.value, FileNotFoundError)


def test_missing_folder(tmp_path):
    with pytest.raises(MnistNotFoundError) as error:
        load_mnist(tmp_path / "nowhere")
    assert_message(error, "nowhere", "does not exist", *FIX_HINTS)


def test_env_var_pointing_at_an_empty_folder(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(ENV_VAR, str(empty))
    with pytest.raises(MnistNotFoundError) as error:
        load_mnist()
    assert_message(error, str(empty), ENV_VAR, "train-images-idx3-ubyte", *FIX_HINTS)


def test_search_order(tmp_path, monkeypatch):
    explicit = write_fake_dir(tmp_path / "explicit")
    from_env = write_fake_dir(tmp_path / "from-env")
    cached = write_fake_dir(tmp_path / "xdg-cache" / "nndl" / "mnist")
    assert find_mnist_dir() == cached
    monkeypatch.setenv(ENV_VAR, str(from_env))
    assert find_mnist_dir() == from_env
    assert find_mnist_dir(explicit) == explicit


def test_default_cache_dir_missing(tmp_path):
    with pytest.raises(MnistNotFoundError) as error:
        find_mnist_dir()
    assert_message(error, str(tmp_path / "xdg-cache" / "nndl" / "mnist"), *FIX_HINTS)


def test_a_file_given_as_the_folder(tmp_path, monkeypatch):
    file = write_fake_dir(tmp_path / "mnist") / "train-images-idx3-ubyte"
    with pytest.raises(MnistNotFoundError) as error:
        load_mnist(file)
    assert_message(error, str(file), "is a file, not a folder", str(file.parent))
    monkeypatch.setenv(ENV_VAR, str(file))
    with pytest.raises(MnistNotFoundError) as error:
        find_mnist_dir()
    assert_message(error, ENV_VAR, "is a file, not a folder", str(file.parent))


# ---------------------------------------------------------------- bounded reads

BOMB_BYTES = 64 << 20  # decompressed size of the gzip bombs below: 64 MiB


def gzip_stream(prefix, n_zeros):
    """gzip bytes of ``prefix`` + ``n_zeros`` zero bytes, built in 1 MiB pieces."""
    compressor = zlib.compressobj(1, wbits=16 + zlib.MAX_WBITS)  # gzip framing
    pieces = [compressor.compress(prefix)]
    zeros = bytes(1 << 20)
    for start in range(0, n_zeros, len(zeros)):
        pieces.append(compressor.compress(zeros[: n_zeros - start]))
    return b"".join([*pieces, compressor.flush()])


def peak_memory(call):
    """(exception raised by ``call()``, peak bytes Python allocated meanwhile)."""
    tracemalloc.start()
    try:
        with pytest.raises(MnistCorruptError) as error:
            call()
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip bomb", "raw"])
def test_oversized_file_is_refused_without_reading_it(subset_copy, compressed):
    header = struct.pack(">II", 2049, 500)  # valid labels header; 500 labels expected
    (subset_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    if compressed:
        file = subset_copy / "t10k-labels-idx1-ubyte.gz"
        file.write_bytes(gzip_stream(header, BOMB_BYTES))  # ~64 KB on disk
        problem = "too long: decompresses to more than the 508 bytes expected"
    else:
        file = subset_copy / "t10k-labels-idx1-ubyte"
        with file.open("wb") as out:
            out.write(header)
            out.truncate(BOMB_BYTES)  # sparse: no 64 MiB written
        problem = f"too long: {BOMB_BYTES} bytes, expected 508"
    for load in (load_mnist, verify_mnist):
        error, peak = peak_memory(lambda load=load: load(subset=True))
        assert_message(error, file.name, problem)
        assert peak < BOMB_BYTES // 4, f"{load.__name__} held {peak} bytes at its peak"


def test_gzip_bomb_in_the_full_data(tmp_path):
    header = struct.pack(">II", 2049, 60000)
    bomb = gzip_stream(header, BOMB_BYTES)
    write_fake_dir(tmp_path, train_labels_idx1_ubyte_gz=bomb)
    error, peak = peak_memory(lambda: load_mnist(tmp_path))
    assert_message(error, "train-labels-idx1-ubyte.gz", "more than the 60008 bytes")
    assert peak < BOMB_BYTES // 4


def test_concatenated_gzip_members_are_one_file(subset_copy):
    file = subset_copy / "t10k-labels-idx1-ubyte.gz"
    content = gzip.decompress(file.read_bytes())
    file.write_bytes(gzip.compress(content[:100]) + gzip.compress(content[100:]))
    assert verify_mnist(subset=True)[file.name] == "ok"


# ---------------------------------------------------------------- properties

SUBSET_NAMES = list(MNIST_FILES)
SUBSET_RAW = {
    name: gzip.decompress((SUBSET_DIR / f"{name}.gz").read_bytes())
    for name in SUBSET_NAMES
}
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run
    database=None,  # nothing written to .hypothesis/
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # fixtures unused
)


DAMAGE = (
    "random bytes",
    "gzipped random bytes",
    "truncated file",
    "truncated gzip stream",
    "gzipped truncated file",
    "one byte changed",
    "bytes appended",
)


def fast_gzip(content):
    return gzip.compress(content, compresslevel=1)


@st.composite
def damaged_files(draw):
    """(name, gzipped, content): one subset file, damaged in one of many ways.

    Every variant differs from the original in its decompressed content, so
    no load may succeed.
    """
    name = draw(st.sampled_from(SUBSET_NAMES))
    raw = SUBSET_RAW[name]
    kind = draw(st.sampled_from(DAMAGE))
    gzipped = kind != "truncated file" and (
        kind.startswith(("gzipped", "truncated")) or draw(st.booleans())
    )
    if kind.endswith("random bytes"):
        content = draw(st.binary(max_size=2048))
    elif kind == "truncated gzip stream":
        stored = (SUBSET_DIR / f"{name}.gz").read_bytes()
        return name, True, stored[: draw(st.integers(0, len(stored) - 1))]
    elif kind.endswith("truncated file"):
        content = raw[: draw(st.integers(0, len(raw) - 1))]
    elif kind == "one byte changed":
        content = bytearray(raw)
        content[draw(st.integers(0, len(raw) - 1))] ^= draw(st.integers(1, 255))
    else:
        content = raw + draw(st.binary(min_size=1, max_size=64))
    return name, gzipped, fast_gzip(bytes(content)) if gzipped else bytes(content)


def subset_with(name, gzipped, content, folder):
    """A copy of the subset in ``folder`` with ``name`` replaced by ``content``."""
    shutil.copytree(SUBSET_DIR, folder, dirs_exist_ok=True)
    (folder / f"{name}.gz").unlink()
    file = folder / (f"{name}.gz" if gzipped else name)
    file.write_bytes(content)
    return file


@PROPERTY_SETTINGS
@given(damaged=damaged_files())
def test_damaged_files_raise_only_mnist_corrupt_error(damaged):
    with tempfile.TemporaryDirectory() as folder:
        file = subset_with(*damaged, Path(folder))
        with mock.patch.object(data, "_SUBSET_DIR", Path(folder)):
            for load in (load_mnist, verify_mnist):
                with pytest.raises(MnistCorruptError) as error:
                    load(subset=True)
                assert file.name in str(error.value) or "holds" in str(error.value)


@PROPERTY_SETTINGS
@given(
    name=st.sampled_from(SUBSET_NAMES),
    gzipped=st.booleans(),
    content=st.binary(max_size=4096),
)
def test_random_bytes_in_the_full_data_raise_mnist_corrupt_error(
    name, gzipped, content
):
    with tempfile.TemporaryDirectory() as folder:
        key = name.replace("-", "_") + ("_gz" if gzipped else "")
        write_fake_dir(Path(folder), **{key: content})
        for load in (load_mnist, verify_mnist):
            with pytest.raises(MnistCorruptError):
                load(folder)


@PROPERTY_SETTINGS
@given(
    contents=st.lists(st.binary(max_size=3000), min_size=1, max_size=3),
    cuts=st.lists(st.integers(0, 20000), max_size=6),
)
def test_gunzip_in_any_chunks_equals_gzip_decompress(contents, cuts):
    stream = b"".join(gzip.compress(content) for content in contents)
    bounds = [0, *sorted(cut % (len(stream) + 1) for cut in cuts), len(stream)]
    chunks = [stream[start:stop] for start, stop in zip(bounds, bounds[1:])]
    expected = b"".join(contents)
    assert data._gunzip(iter(chunks), len(expected), "s", "") == expected
    if expected:
        with pytest.raises(MnistCorruptError, match="too long"):
            data._gunzip(iter(chunks), len(expected) - 1, "s", "")


@PROPERTY_SETTINGS
@given(blob=st.binary(max_size=4096), limit=st.integers(0, 10000))
def test_gunzip_of_random_bytes_raises_mnist_corrupt_error(blob, limit):
    try:
        expected = gzip.decompress(blob) if blob else None  # b"" holds no stream
    except (EOFError, OSError, zlib.error):
        expected = None
    if expected is None:
        with pytest.raises(MnistCorruptError):
            data._gunzip(iter([blob]), limit, "s", "")
        return
    # Random bytes that happen to be gzip: then it must agree with gzip.
    if len(expected) <= limit:
        assert data._gunzip(iter([blob]), limit, "s", "") == expected
