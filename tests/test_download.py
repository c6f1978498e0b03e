"""Tests for nndl_core.download: explicit, verified, atomic MNIST downloads.

Mirrors are played by a local ``http.server`` serving the subset shipped in
the package, so these tests need no internet.
"""

import functools
import gzip
import http.server
import json
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from nndl_core import data
from nndl_core.data import ENV_VAR, MNIST_FILES
from nndl_core.download import MnistDownloadError, fetch_mnist

pytestmark = pytest.mark.filterwarnings("error")

SUBSET_DIR = Path(data.__file__).with_name("_data")
SUBSET_META = json.loads((SUBSET_DIR / "SUBSET.json").read_text(encoding="utf-8"))
SUBSET_TABLE = {
    name: (meta["sha256"], meta["n_items"])
    for name, meta in SUBSET_META["files"].items()
}
TIMEOUT = 5.0


@pytest.fixture(autouse=True)
def _strict_numpy():
    with np.errstate(all="raise"):
        yield


@pytest.fixture(autouse=True)
def _isolated_search(tmp_path, monkeypatch):
    """No test sees the real env var or the user's cache folder."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def assert_message(error, *parts):
    """The error message mentions every part (file names, problems, fixes)."""
    message = str(error.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.fixture
def serve():
    """``serve(folder, truncate=False)`` starts a local server; returns (url, log)."""
    servers = []

    def start(folder, *, truncate=False):
        log = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format, *args):
                log.append(self.path)

            def copyfile(self, source, outputfile):
                body = source.read()
                # Content-Length still promises the whole file.
                outputfile.write(body[: len(body) // 2] if truncate else body)

        handler = functools.partial(Handler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), daemon=True
        )
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/", log

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


@pytest.fixture
def remote(tmp_path):
    """A folder holding the subset's gz files, standing in for a mirror."""
    folder = tmp_path / "remote"
    folder.mkdir()
    for name in MNIST_FILES:
        shutil.copy(SUBSET_DIR / f"{name}.gz", folder / f"{name}.gz")
    return folder


def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def fetch(dest, mirrors, **kwargs):
    return fetch_mnist(
        dest, mirrors=mirrors, files=SUBSET_TABLE, timeout=TIMEOUT, **kwargs
    )


def assert_fetched(dest):
    for name in MNIST_FILES:
        expected = (SUBSET_DIR / f"{name}.gz").read_bytes()
        assert (dest / f"{name}.gz").read_bytes() == expected
    assert sorted(path.name for path in dest.iterdir()) == sorted(
        f"{name}.gz" for name in MNIST_FILES
    )


def test_fetch_success(tmp_path, serve, remote):
    url, log = serve(remote)
    calls = []
    dest = tmp_path / "dest" / "deep"
    assert fetch(dest, (url,), progress=lambda *call: calls.append(call)) == dest
    assert_fetched(dest)
    assert len(log) == 4
    size = (remote / "train-images-idx3-ubyte.gz").stat().st_size
    assert (size, size) in calls
    assert all(done <= total for done, total in calls)


def corrupt_gzip(blob):
    blob = bytearray(blob)
    blob[len(blob) // 2] ^= 0xFF
    return bytes(blob)


def wrong_content(blob):
    content = bytearray(gzip.decompress(blob))
    content[-1] ^= 0xFF  # valid gzip, valid IDX, wrong checksum
    return gzip.compress(bytes(content))


@pytest.mark.parametrize("damage", [corrupt_gzip, wrong_content])
def test_fetch_falls_back_after_a_corrupt_response(tmp_path, serve, remote, damage):
    bad = tmp_path / "bad"
    bad.mkdir()
    for file in remote.iterdir():
        (bad / file.name).write_bytes(damage(file.read_bytes()))
    bad_url, bad_log = serve(bad)
    good_url, good_log = serve(remote)
    dest = tmp_path / "dest"
    fetch(dest, (bad_url, good_url))
    assert_fetched(dest)
    assert len(bad_log) == len(good_log) == 4


@pytest.mark.parametrize("how", ["connection closed early", "truncated file"])
def test_truncated_download_leaves_nothing(tmp_path, serve, remote, how):
    if how == "truncated file":
        for file in remote.iterdir():
            file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    url, _ = serve(remote, truncate=how == "connection closed early")
    dest = tmp_path / "dest"
    with pytest.raises(MnistDownloadError) as error:
        fetch(dest, (url,))
    assert_message(error, "train-images-idx3-ubyte.gz", url, ENV_VAR)
    assert list(dest.iterdir()) == []


def test_unreachable_mirror(tmp_path, serve, remote):
    dead = closed_port_url()
    dest = tmp_path / "dest"
    with pytest.raises(MnistDownloadError) as error:
        fetch(dest, (dead,))
    assert_message(error, dead, "train-images-idx3-ubyte.gz")
    assert list(dest.iterdir()) == []
    url, _ = serve(remote)
    fetch(dest, (dead, url))
    assert_fetched(dest)


def test_missing_on_mirror_and_no_mirrors(tmp_path, serve):
    empty = tmp_path / "empty"
    empty.mkdir()
    url, _ = serve(empty)
    with pytest.raises(MnistDownloadError, match="404"):
        fetch(tmp_path / "dest", (url,))
    with pytest.raises(MnistDownloadError, match="no mirrors"):
        fetch(tmp_path / "dest", ())


def test_valid_files_are_not_downloaded_again(tmp_path, serve, remote):
    url, log = serve(remote)
    dest = tmp_path / "dest"
    fetch(dest, (url,))
    stamps = {file.name: file.stat().st_mtime_ns for file in dest.iterdir()}
    log.clear()
    fetch(dest, (url,))
    assert log == []
    assert {file.name: file.stat().st_mtime_ns for file in dest.iterdir()} == stamps
    # A damaged local file is replaced; the others are left alone.
    (dest / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    fetch(dest, (url,))
    assert log == ["/t10k-labels-idx1-ubyte.gz"]
    assert_fetched(dest)


def test_fetch_defaults_to_the_cache_folder(tmp_path, serve, remote):
    url, _ = serve(remote)
    dest = fetch_mnist(mirrors=(url,), files=SUBSET_TABLE, timeout=TIMEOUT)
    assert dest == tmp_path / "xdg-cache" / "nndl" / "mnist"
    assert_fetched(dest)
