"""Seconds per epoch of chapter 1's network on each backend, side by side.

Used by ``nndl bench`` and the book's notes on speed. One call trains the same
network (same initial weights, same shuffles) with

* ``"numba"``: ``Network(..., backend="numba")``, the kernels of
  :mod:`nndl_core.kernels.dense`;
* ``"numpy"``: ``Network(..., backend="numpy")``, the readable reference;
* ``"torch"``: a minimal PyTorch CPU version (sigmoid layers, quadratic cost,
  plain SGD, float64 like the others), measured only if ``import torch``
  works, otherwise reported as skipped with the reason.

Each backend runs one warm-up epoch and then ``epochs`` timed epochs; the
result is their median. The Numba kernels' one-off cost (compiling them, or
loading them from Numba's on-disk cache) is measured separately, before the
warm-up epoch: the first call of a cold in-process dispatcher minus a second,
warm call. :func:`measure_jit_startup` measures the same in fresh processes,
with an empty and with a filled on-disk cache. Nothing here prints; the CLI
prints :func:`format_table`.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from .network import Network
from .training import as_dataset, one_hot

__all__ = ["BACKENDS", "format_table", "measure_jit_startup", "run_dense_benchmark"]

BACKENDS = ("numba", "numpy", "torch")


def run_dense_benchmark(
    training,
    *,
    sizes=(784, 30, 10),
    mini_batch_size=10,
    eta=3.0,
    epochs=3,
    backends=BACKENDS,
    seed=0,
    torch_threads=1,
    jit_startup=False,
):
    """Time SGD epochs of a sigmoid network on each backend, in one run.

    Parameters
    ----------
    training : Dataset or (images, labels)
        Images of shape (n, sizes[0]) and integer labels (n,), e.g.
        ``load_mnist().training`` (50,000 images).
    sizes : sequence of int
        Layer sizes, input first.
    mini_batch_size : int
    eta : float
        Learning rate. The cost is quadratic, as in chapter 1.
    epochs : int
        Timed epochs per backend, after one warm-up epoch.
    backends : sequence of {"numba", "numpy", "torch"}
    seed : int
        Seed of the initial weights and of the shuffles (the same for all).
    torch_threads : int or None
        Threads PyTorch may use (restored afterwards); None keeps its default
        of one per core. One, like the Numba path: on a 2-core machine that
        is also running other jobs, PyTorch's per-operator parallel regions
        wait for descheduled threads (measured: 20 times slower).
    jit_startup : bool
        Also run :func:`measure_jit_startup` (two fresh processes; slow).

    Returns
    -------
    dict
        ``config`` and ``machine`` (what was measured where); ``backends``:
        one dict per backend with ``status`` ("ok" or "skipped" with a
        ``reason``), ``seconds_per_epoch`` (median), ``epoch_seconds`` (the
        timed epochs), ``warmup_epoch_seconds``; for "numba" also ``jit``
        (first call, warm call, their difference ``warmup_seconds``, and
        whether the code was compiled, loaded from the cache or already in
        this process); ``training_accuracy``, the fraction of (up to 10,000)
        training images classified right after training, a check that each
        backend learned; ``ratios``: each backend's seconds per epoch divided
        by Numba's. (The trained parameters themselves are not compared: SGD
        at eta=3 on 50,000 images is chaotic, and one ulp changed in the
        initial weights already moves them by 10% within two epochs. The
        tests compare the backends where that is meaningful.)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> data = rng.random((30, 8)), rng.integers(0, 3, 30)
    >>> results = run_dense_benchmark(data, sizes=(8, 4, 3), epochs=1,
    ...                               backends=("numpy",))
    >>> results["backends"]["numpy"]["status"]
    'ok'
    """
    images, labels = as_dataset(training, sizes[0], "training")
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"unknown backends {sorted(unknown)}; choose from {BACKENDS}")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    config = {
        "sizes": [int(s) for s in sizes],
        "mini_batch_size": int(mini_batch_size),
        "eta": float(eta),
        "cost": "quadratic",
        "epochs": int(epochs),
        "warmup_epochs": 1,
        "n_training": len(images),
        "seed": seed,
        "torch_threads": torch_threads,
    }
    results = {"config": config, "machine": _machine(), "backends": {}}
    for backend in backends:
        if backend == "torch":
            result = _time_torch(images, labels, config)
        else:
            result = _time_network(images, labels, config, backend)
        results["backends"][backend] = result
    if jit_startup:
        results["jit_startup"] = measure_jit_startup()
    base = results["backends"].get("numba", {}).get("seconds_per_epoch")
    results["ratios"] = {
        name: result["seconds_per_epoch"] / base
        for name, result in results["backends"].items()
        if base and result["status"] == "ok"
    }
    return results


def _machine():
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for name in ("numba", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "versions": versions,
    }


def _time_network(images, labels, config, backend):
    """Train ``Network`` on one backend; return its timings."""
    result = {"status": "ok"}
    if backend == "numba":
        result["jit"] = _time_jit_warmup(images, labels, config)
    net = Network(config["sizes"], seed=config["seed"], backend=backend)
    history = net.SGD(
        (images, labels),
        config["warmup_epochs"] + config["epochs"],
        config["mini_batch_size"],
        config["eta"],
        seed=config["seed"],
    )
    result.update(_summary(history.seconds, config["warmup_epochs"]))
    result["training_accuracy"] = _accuracy(net, images, labels)
    return result


def _accuracy(net, images, labels, n=10_000):
    """Fraction of the first ``n`` training images that ``net`` gets right."""
    return net.evaluate((images[:n], labels[:n])) / min(n, len(images))


def _summary(seconds, warmup_epochs):
    timed = seconds[warmup_epochs:]
    return {
        "seconds_per_epoch": statistics.median(timed),
        "epoch_seconds": timed,
        "warmup_epoch_seconds": seconds[0] if warmup_epochs else None,
    }


def _time_jit_warmup(images, labels, config):
    """First call of the Numba epoch kernel vs a second call, on two mini-batches."""
    start = time.perf_counter()
    from .kernels import dense  # imported on demand, as in Network

    import_seconds = time.perf_counter() - start
    dispatcher = dense.train_epoch_kernel
    stats = getattr(dispatcher, "stats", None)  # None under NUMBA_DISABLE_JIT=1
    already_compiled = bool(getattr(dispatcher, "signatures", ()))
    hits = sum(stats.cache_hits.values()) if stats else 0
    misses = sum(stats.cache_misses.values()) if stats else 0
    n = min(2 * config["mini_batch_size"], len(images))
    calls = []
    for _ in range(2):
        net = Network(config["sizes"], seed=config["seed"])
        start = time.perf_counter()
        dense.train_epoch(
            net, images[:n], labels[:n], np.arange(n), config["mini_batch_size"], 1.0
        )
        calls.append(time.perf_counter() - start)
    if stats is None:
        source = "not compiled (NUMBA_DISABLE_JIT is set)"
    elif already_compiled:
        source = "already compiled in this process"
    elif sum(stats.cache_misses.values()) > misses:
        source = "compiled (no usable on-disk cache)"
    elif sum(stats.cache_hits.values()) > hits:
        source = "loaded from the on-disk cache"
    else:
        source = "unknown"
    return {
        "import_seconds": import_seconds,
        "first_call_seconds": calls[0],
        "warm_call_seconds": calls[1],
        "warmup_seconds": max(calls[0] - calls[1], 0.0),
        "source": source,
        "cache_dir": stats.cache_path if stats else None,
    }


def _time_torch(images, labels, config):
    """Minimal PyTorch CPU training of the same network; skipped without torch."""
    try:
        import torch  # an optional dependency
    except ImportError as err:
        return {"status": "skipped", "reason": f"PyTorch is not installed ({err})"}
    threads = torch.get_num_threads()
    if config["torch_threads"] is not None:
        torch.set_num_threads(config["torch_threads"])
    try:
        result = {"status": "ok", "threads": torch.get_num_threads()}
        net, seconds = _train_torch(torch, images, labels, config)
    finally:
        torch.set_num_threads(threads)
    result.update(_summary(seconds, config["warmup_epochs"]))
    result["training_accuracy"] = _accuracy(net, images, labels)
    return result


def _train_torch(torch, images, labels, config):
    """Chapter 1's training in PyTorch: sigmoid layers, quadratic cost, SGD.

    Float64 like the other backends, from the same initial weights and with
    the same shuffles. Returns a ``Network`` holding the trained parameters
    (for the accuracy check) and the seconds of each epoch.
    """
    net = Network(config["sizes"], seed=config["seed"])  # same initial weights
    weights = [torch.tensor(w, requires_grad=True) for w in net.weights]
    biases = [torch.tensor(b[:, 0], requires_grad=True) for b in net.biases]
    x_all = torch.tensor(images)  # a copy: load_mnist's arrays are read-only
    y_all = torch.tensor(one_hot(labels, config["sizes"][-1]).T)
    rng = np.random.default_rng(config["seed"])
    n, m, eta = len(images), config["mini_batch_size"], config["eta"]
    seconds = []
    for _ in range(config["warmup_epochs"] + config["epochs"]):
        start = time.perf_counter()
        order = torch.from_numpy(rng.permutation(n))
        for k in range(0, n, m):
            idx = order[k : k + m]
            a = x_all[idx]  # rows are examples, as PyTorch has them
            for w, b in zip(weights, biases, strict=True):
                a = torch.sigmoid(a @ w.T + b)
            cost = 0.5 * ((a - y_all[idx]) ** 2).sum() / len(idx)  # mean over batch
            cost.backward()
            with torch.no_grad():
                for p in weights + biases:
                    p -= eta * p.grad  # w - (eta/m) sum_x dC_x/dw
                    p.grad = None
        seconds.append(time.perf_counter() - start)
    net.weights = [w.detach().numpy().copy() for w in weights]
    net.biases = [b.detach().numpy().reshape(-1, 1).copy() for b in biases]
    return net, seconds


_STARTUP_SCRIPT = """
import json, time
import numpy as np
start = time.perf_counter()
from nndl_core import Network
from nndl_core.kernels import dense
imported = time.perf_counter()
images = np.zeros((20, 784)); images[:, ::5] = 0.5
net = Network([784, 30, 10], seed=0)
begin = time.perf_counter()
dense.train_epoch(net, images, np.zeros(20, dtype=np.int64), np.arange(20), 10, 3.0)
end = time.perf_counter()
seconds = {"import_seconds": imported - start, "first_call_seconds": end - begin}
print(json.dumps(seconds))
"""


def measure_jit_startup(python=None, cache_dir=None):
    """Time the Numba kernels' start-up in fresh processes: cold, then warm cache.

    Runs the first ``train_epoch`` call twice in a new interpreter with
    ``NUMBA_CACHE_DIR`` pointing at an empty folder: the first run compiles
    and writes the cache, the second loads it.

    Returns
    -------
    dict
        ``cold_cache`` and ``warm_cache``, each with ``import_seconds`` and
        ``first_call_seconds``.
    """
    package_parent = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_parent, env.get("PYTHONPATH")) if p
    )
    with tempfile.TemporaryDirectory(prefix="nndl-numba-cache-") as tmp:
        env["NUMBA_CACHE_DIR"] = cache_dir or tmp
        runs = {}
        for name in ("cold_cache", "warm_cache"):
            done = subprocess.run(
                [python or sys.executable, "-c", _STARTUP_SCRIPT],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return runs


def format_table(results):
    """The results of :func:`run_dense_benchmark` as a plain-text table.

    Examples
    --------
    >>> results = {
    ...     "config": {"sizes": [2, 1], "mini_batch_size": 1, "eta": 1.0,
    ...                "cost": "quadratic", "epochs": 1, "warmup_epochs": 1,
    ...                "n_training": 5},
    ...     "backends": {"torch": {"status": "skipped", "reason": "no torch"}},
    ...     "ratios": {},
    ... }
    >>> print(format_table(results))
    Network [2, 1], mini-batch 1, eta 1.0, quadratic cost, 5 training images;
    seconds per epoch: median of 1 after 1 warm-up epoch
    backend   s/epoch  x numba  warm-up s  accuracy  notes
    torch           -        -          -         -  skipped: no torch
    """
    c = results["config"]
    lines = [
        f"Network {c['sizes']}, mini-batch {c['mini_batch_size']}, eta {c['eta']}, "
        f"{c['cost']} cost, {c['n_training']} training images;",
        f"seconds per epoch: median of {c['epochs']} after {c['warmup_epochs']} "
        "warm-up epoch",
        "backend   s/epoch  x numba  warm-up s  accuracy  notes",
    ]
    for name, r in results["backends"].items():
        if r["status"] != "ok":
            dashes = f"{'-':>8}  {'-':>7}  {'-':>9}  {'-':>8}"
            lines.append(f"{name:7}  {dashes}  skipped: {r['reason']}")
            continue
        ratio = results["ratios"].get(name)
        ratio = f"{ratio:6.2f}x" if ratio is not None else "-"
        notes = ""
        if "jit" in r:
            notes = (
                f"JIT warm-up {r['jit']['warmup_seconds']:.2f} s ({r['jit']['source']})"
            )
        if "threads" in r:
            notes = f"{r['threads']} thread(s), float64"
        lines.append(
            f"{name:7}  {r['seconds_per_epoch']:8.4f}  {ratio:>7}  "
            f"{r['warmup_epoch_seconds']:9.4f}  {r['training_accuracy']:8.2%}  {notes}"
        )
    if "jit_startup" in results:
        s = results["jit_startup"]
        lines.append(
            "Numba start-up in a fresh process: first call "
            f"{s['cold_cache']['first_call_seconds']:.2f} s with an empty cache, "
            f"{s['warm_cache']['first_call_seconds']:.2f} s with a filled one"
        )
    return "\n".join(line.rstrip() for line in lines)
