"""Write the small real MNIST subset shipped in ``nndl_core/_data/``.

Run by hand, from anywhere, with the folder holding the full MNIST files::

    python _build_tools/make_mnist_subset.py /path/to/mnist

The subset is training images 0..999 followed by validation images
50000..50199 of the original training file, and test images 0..499. It is
written as IDX files gzipped with ``mtime=0`` (so the output is
byte-reproducible for a given zlib) plus ``SUBSET.json`` recording where every
byte came from. ``nndl_core.load_mnist(subset=True)`` reads it with the same
reader as the full files and splits it with ``split.n_validation``.
"""

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "nndl_core" / "_data"

# (first, stop) index ranges taken from each original file, in output order.
TRAIN_RANGES = ((0, 1000), (50000, 50200))
TEST_RANGES = ((0, 500),)
SPLIT = {"n_training": 1000, "n_validation": 200, "n_test": 500}


def _count(ranges):
    return sum(stop - first for first, stop in ranges)


assert _count(TRAIN_RANGES) == SPLIT["n_training"] + SPLIT["n_validation"]
assert _count(TEST_RANGES) == SPLIT["n_test"]

CREDIT = {
    "dataset": "MNIST",
    "authors": "Yann LeCun, Corinna Cortes, Christopher J. C. Burges",
    "homepage": "http://yann.lecun.com/exdb/mnist/",
    "licence": (
        "Yann LeCun and Corinna Cortes hold the copyright of MNIST, a derivative "
        "work of NIST Special Databases 1 and 3; it is made available under the "
        "Creative Commons Attribution-Share Alike 3.0 licence (CC BY-SA 3.0). "
        "This subset is redistributed under the same licence."
    ),
}


def read_source(source_dir, name, expected_sha256):
    """Decompressed bytes of ``name`` (``.gz`` or raw), checked against its SHA-256."""
    gz_file, raw_file = source_dir / f"{name}.gz", source_dir / name
    if gz_file.is_file():
        data = gzip.decompress(gz_file.read_bytes())
    else:
        data = raw_file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise SystemExit(f"{name}: SHA-256 {digest}, expected {expected_sha256}")
    return data


def take(data, header_bytes, item_bytes, ranges):
    """A new IDX file holding the items in ``ranges`` of the IDX file ``data``."""
    items = np.frombuffer(data, dtype=np.uint8, offset=header_bytes)
    items = items.reshape(-1, item_bytes)
    chosen = np.concatenate([items[first:stop] for first, stop in ranges])
    header = bytearray(data[:header_bytes])
    header[4:8] = len(chosen).to_bytes(4, "big")  # the item count
    return bytes(header) + chosen.tobytes()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source_dir", type=Path, help="folder with the full MNIST")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO_ROOT))  # use this checkout's checksum table
    from nndl_core.data import MNIST_FILES

    args.out.mkdir(parents=True, exist_ok=True)
    sources, outputs = {}, {}
    for name, (sha256, _) in MNIST_FILES.items():
        data = read_source(args.source_dir, name, sha256)
        header, item = (16, 28 * 28) if "idx3" in name else (8, 1)
        ranges = TRAIN_RANGES if name.startswith("train") else TEST_RANGES
        subset = take(data, header, item, ranges)
        (args.out / f"{name}.gz").write_bytes(
            gzip.compress(subset, compresslevel=9, mtime=0)
        )
        sources[name] = {"sha256": sha256, "ranges": [list(r) for r in ranges]}
        outputs[name] = {
            "sha256": hashlib.sha256(subset).hexdigest(),
            "n_items": _count(ranges),
            "bytes_decompressed": len(subset),
        }
    provenance = {
        "description": (
            "A small real subset of MNIST for offline use and CI: training images "
            "0..999 then validation images 50000..50199 of the original training "
            "file, and test images 0..499. Made by _build_tools/make_mnist_subset.py."
        ),
        "credit": CREDIT,
        "split": SPLIT,
        "source": sources,
        "files": outputs,
    }
    text = json.dumps(provenance, indent=2) + "\n"
    (args.out / "SUBSET.json").write_text(text, encoding="utf-8")
    total = sum(file.stat().st_size for file in args.out.iterdir())
    print(f"wrote {len(outputs) + 1} files, {total} bytes, to {args.out}")


if __name__ == "__main__":
    main()
