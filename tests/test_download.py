"""Tests for nndl_core.download: explicit, verified, atomic MNIST downloads.

Mirrors are played by a local ``http.server`` serving the subset shipped in
the package, so these tests need no internet. The site build's check
(``book/_ext/nndl_site.py``) is tested by building a one-page site with it;
the download there serves the real files from ``$NNDL_MNIST_DIR`` and is
skipped when that is unset.
"""

import functools
import gzip
import http.server
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from nndl_core import data, download
from nndl_core.data import ENV_VAR, MNIST_FILES, MnistCorruptError, MnistNotFoundError
from nndl_core.download import MnistDownloadError, ensure_mnist, fetch_mnist
from tests.test_data import gzip_stream

pytestmark = pytest.mark.filterwarnings("error")

SUBSET_DIR = Path(data.__file__).with_name("_data")
SUBSET_META = json.loads((SUBSET_DIR / "SUBSET.json").read_text(encoding="utf-8"))
SUBSET_TABLE = {
    name: (meta["sha256"], meta["n_items"])
    for name, meta in SUBSET_META["files"].items()
}
TIMEOUT = 5.0
FULL_DIR = os.environ.get(ENV_VAR)  # read before _isolated_search unsets it
EXTENSIONS_DIR = Path(__file__).resolve().parents[1] / "book" / "_ext"


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
    """``serve(folder, ...)`` starts a local server; returns (url, log).

    ``truncate``: send half of each file (Content-Length still promises all).
    ``length=False``: send no Content-Length (the body ends when the
    connection closes). ``stall=(sent, resume)``: send half of each file,
    set the event ``sent``, and wait for ``resume`` before the rest.
    """
    servers = []

    def start(folder, *, truncate=False, length=True, stall=None):
        log = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format, *args):
                log.append(self.path)

            def send_header(self, keyword, value):
                if length or keyword != "Content-Length":
                    super().send_header(keyword, value)

            def copyfile(self, source, outputfile):
                body = source.read()
                half = len(body) // 2
                if truncate:
                    body = body[:half]
                elif stall is not None:
                    outputfile.write(body[:half])
                    outputfile.flush()
                    stall[0].set()
                    stall[1].wait(TIMEOUT)
                    body = body[half:]
                outputfile.write(body)

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


def test_fetch_into_a_file_is_refused(tmp_path, serve, remote):
    url, log = serve(remote)
    file = tmp_path / "mnist.gz"
    file.write_bytes(b"not a folder")
    with pytest.raises(MnistDownloadError) as error:
        fetch(file, (url,))
    assert_message(error, str(file), "is a file, not a folder")
    assert log == []


# ---------------------------------------------------------------- bounded downloads


@pytest.mark.parametrize("length", [True, False], ids=["announced", "unannounced"])
def test_download_size_is_capped(tmp_path, serve, remote, length):
    # The subset's training images are 940,816 bytes decompressed; serve 8 MiB.
    huge = 8 << 20
    (remote / "train-images-idx3-ubyte.gz").write_bytes(bytes(huge))
    url, _ = serve(remote, length=length)
    calls = []
    with pytest.raises(MnistDownloadError) as error:
        fetch(tmp_path / "dest", (url,), progress=lambda *call: calls.append(call))
    problem = "announces 8388608 bytes, over" if length else "longer than"
    assert_message(error, "train-images-idx3-ubyte.gz", problem)
    if length:
        assert calls == []  # refused before reading the body
    else:
        assert max(done for done, _ in calls) < 2 << 20
    assert list((tmp_path / "dest").iterdir()) == []


def test_downloaded_gzip_bomb_is_refused_without_inflating(tmp_path, serve, remote):
    header = struct.pack(">IIII", 2051, 1200, 28, 28)  # the subset's training images
    bomb = gzip_stream(header, 64 << 20)  # 0.3 MB on the wire, under the 1 MB cap
    (remote / "train-images-idx3-ubyte.gz").write_bytes(bomb)
    url, _ = serve(remote)
    tracemalloc.start()
    try:
        with pytest.raises(MnistDownloadError) as error:
            fetch(tmp_path / "dest", (url,))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_message(error, "train-images-idx3-ubyte.gz", "too long")
    assert peak < 16 << 20, f"fetch_mnist held {peak} bytes at its peak"


# ---------------------------------------------------------------- nothing left behind


def test_stale_temporary_files_are_removed(tmp_path, serve, remote):
    dest = tmp_path / "dest"
    dest.mkdir()
    stale = [
        dest / ".train-images-idx3-ubyte.gz.k3j2h1.part",  # from an older version
        dest / ".t10k-labels-idx1-ubyte.gz.a8b7c6.tmp",  # from write_atomic
    ]
    for file in stale:
        file.write_bytes(b"half a download")
    (dest / ".keep.tmp").write_bytes(b"not ours")
    url, _ = serve(remote)
    fetch(dest, (url,))
    (dest / ".keep.tmp").unlink()  # left alone: only our own names are removed
    assert_fetched(dest)


@pytest.mark.parametrize(
    "signal_number", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
)
def test_killed_download_leaves_nothing(tmp_path, serve, remote, signal_number):
    sent, resume = threading.Event(), threading.Event()
    url, _ = serve(remote, stall=(sent, resume))
    dest = tmp_path / "dest"
    code = (
        "import sys, json; from nndl_core.download import fetch_mnist; "
        "fetch_mnist(sys.argv[1], mirrors=[sys.argv[2]], timeout=30, "
        "files={k: tuple(v) for k, v in json.loads(sys.argv[3]).items()})"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(dest), url, json.dumps(SUBSET_TABLE)],
        stderr=subprocess.DEVNULL,
    )
    try:
        assert sent.wait(30), "the download never started"
        process.send_signal(signal_number)
        assert process.wait(30) != 0
    finally:
        resume.set()
        process.kill()
        process.wait()
    assert list(dest.iterdir()) == []


# ---------------------------------------------------------------- ensure_mnist


@pytest.fixture
def subset_as_mnist(monkeypatch):
    """ensure_mnist expects the subset's checksums and sizes, not MNIST's."""
    monkeypatch.setattr(download, "MNIST_FILES", SUBSET_TABLE)


def test_ensure_downloads_once_then_only_checks_sizes(
    tmp_path, serve, remote, subset_as_mnist, monkeypatch
):
    url, log = serve(remote)
    calls = []
    folder = ensure_mnist(
        mirrors=(url,), timeout=TIMEOUT, progress=lambda *call: calls.append(call)
    )
    assert folder == tmp_path / "xdg-cache" / "nndl" / "mnist"
    assert_fetched(folder)
    assert len(log) == 4 and calls
    # Present: no request, and no file is decompressed or hashed.
    log.clear()

    def no_reading(*args):
        raise AssertionError("the check of present files read a whole file")

    with monkeypatch.context() as patch:
        patch.setattr(download, "_read_bytes", no_reading)
        patch.setattr(download, "_gunzip", no_reading)
        assert ensure_mnist(mirrors=(url,), timeout=TIMEOUT) == folder
    assert log == []
    # A file of the wrong size (a truncated copy, here) is downloaded again.
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-1]))
    ensure_mnist(mirrors=(url,), timeout=TIMEOUT)
    assert log == ["/t10k-labels-idx1-ubyte.gz"]
    assert_fetched(folder)


def test_ensure_never_downloads_into_the_env_var_folder(
    tmp_path, serve, remote, subset_as_mnist, monkeypatch
):
    url, log = serve(remote)
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    monkeypatch.setenv(ENV_VAR, str(chosen))
    with pytest.raises(MnistNotFoundError) as error:
        ensure_mnist(mirrors=(url,), timeout=TIMEOUT)
    assert_message(error, str(chosen), ENV_VAR)
    for name in MNIST_FILES:
        shutil.copy(remote / f"{name}.gz", chosen / f"{name}.gz")
    assert ensure_mnist(mirrors=(url,), timeout=TIMEOUT) == chosen
    # Two gzip members: the size in the trailer is the last one's, yet it is valid.
    labels = chosen / "t10k-labels-idx1-ubyte.gz"
    content = gzip.decompress(labels.read_bytes())
    labels.write_bytes(gzip.compress(content[:8]) + gzip.compress(content[8:]))
    assert ensure_mnist(mirrors=(url,), timeout=TIMEOUT) == chosen
    labels.write_bytes(labels.read_bytes()[:-20])
    with pytest.raises(MnistCorruptError) as error:
        ensure_mnist(mirrors=(url,), timeout=TIMEOUT)
    assert_message(error, labels.name, "truncated gzip stream")
    assert log == []


def test_ensure_without_internet(tmp_path, subset_as_mnist):
    dead = closed_port_url()
    with pytest.raises(MnistDownloadError) as error:
        ensure_mnist(mirrors=(dead,), timeout=TIMEOUT)
    assert error.value.failures[0].startswith(dead)


# ---------------------------------------------------------------- the site build


def build_site(tmp_path, mirror):
    """Build a one-page site with nndl_site; returns the finished process.

    Its conf.py checks, as each page is read, that MNIST is already there.
    """
    source = tmp_path / "site"
    source.mkdir(exist_ok=True)
    (source / "index.rst").write_text("Home\n====\n", encoding="utf-8")
    conf = f"""
        from nndl_core.data import find_mnist_dir

        extensions = ["nndl_site"]
        nndl_mnist_mirrors = [{mirror!r}]

        def _page_sees_mnist(app, docname, source):
            find_mnist_dir()  # raises when the files are not there yet

        def setup(app):
            app.connect("source-read", _page_sees_mnist)
        """
    (source / "conf.py").write_text(textwrap.dedent(conf), encoding="utf-8")
    environment = {**os.environ, "PYTHONPATH": str(EXTENSIONS_DIR)}
    command = [sys.executable, "-m", "sphinx", "-E", "-q", "-b", "dummy"]
    return subprocess.run(
        [*command, str(source), str(tmp_path / "out")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_build_fetches_mnist_before_any_page_runs(tmp_path, serve):
    if not FULL_DIR:
        pytest.skip(f"serves the real MNIST files: set {ENV_VAR} to a folder of them")
    url, log = serve(FULL_DIR)
    built = build_site(tmp_path, url)
    assert built.returncode == 0, built.stderr
    folder = tmp_path / "xdg-cache" / "nndl" / "mnist"
    for name in MNIST_FILES:
        expected = (Path(FULL_DIR) / f"{name}.gz").read_bytes()
        assert (folder / f"{name}.gz").read_bytes() == expected
    assert len(log) == 4
    log.clear()
    built = build_site(tmp_path, url)  # the data is there now: nothing to fetch
    assert built.returncode == 0, built.stderr
    assert log == []


@pytest.mark.parametrize("where", ["no internet", "empty NNDL_MNIST_DIR"])
def test_build_without_mnist_stops_with_one_line(tmp_path, monkeypatch, where):
    if where != "no internet":
        (tmp_path / "empty").mkdir()
        monkeypatch.setenv(ENV_VAR, str(tmp_path / "empty"))
    built = build_site(tmp_path, closed_port_url())
    assert built.returncode == 1
    lines = built.stderr.strip().splitlines()
    assert len(lines) == 1, built.stderr
    assert ENV_VAR in lines[0] and "internet" in lines[0]
    assert ("Connection refused" if where == "no internet" else "lacks") in lines[0]
