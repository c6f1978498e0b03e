"""Seconds per epoch of the book's fully connected networks on each backend.

Used by ``nndl bench`` and the book's notes on speed. One call trains the same
network (same initial weights, same shuffles) with

* ``"numba"``: ``Network(..., backend="numba")``, the kernels of
  :mod:`nndl_core.kernels.dense_sgd`, on as many threads as an epoch uses
  by default (:func:`~nndl_core.kernels.dense_threads.parts`: both cores of
  a 2-core machine);
* ``"numba-1"``: the same on one thread (the same trained network, bit for
  bit);
* ``"numpy"``: ``Network(..., backend="numpy")``, the readable reference;
* ``"torch"``: a minimal PyTorch CPU version (same layers, cost and update,
  float64 like the others), on as many threads as ``"numba"``, measured
  only if ``import torch`` works, otherwise reported as skipped with the
  reason.

Two networks are preset (:data:`NETWORKS`): ``"ch1"``, chapter 1's
[784, 30, 10] with the quadratic cost and eta = 3.0, and ``"ch3"``, chapter
3's [784, 100, 10] with the cross-entropy cost, L2 (lmbda = 5.0) and
eta = 0.5; both with mini-batches of 10.

Each backend runs one warm-up epoch and then ``epochs`` timed epochs; the
result is their median. The Numba kernels' one-off cost (compiling them, or
loading them from Numba's on-disk cache) is measured separately, before the
warm-up epoch: the first call of a cold in-process dispatcher minus a second,
warm call. :func:`measure_jit_startup` measures the same in fresh processes,
with an empty and with a filled on-disk cache.

The arithmetic bound (:func:`arithmetic_bound`) is the floating-point work
of an epoch (:func:`flops_per_epoch`) divided by the peak rate of one core,
measured with :func:`nndl_core.kernels.peak.multiply_add`; it is given for
the dense work (what a dense implementation such as PyTorch's does) and for
the work left once the zero pixels are skipped (what the Numba kernels do).
Nothing here prints; the CLI prints :func:`format_table`.
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

from .costs import COSTS
from .network import Network
from .training import one_hot
from .validation import check_dataset

__all__ = [
    "BACKENDS",
    "NETWORKS",
    "arithmetic_bound",
    "flops_per_epoch",
    "format_table",
    "measure_jit_startup",
    "measure_peak_flops",
    "run_dense_benchmark",
]

BACKENDS = ("numba", "numba-1", "numpy", "torch")

#: The preset networks: sizes, cost, learning rate, L2 parameter, initializer.
NETWORKS = {
    "ch1": {
        "sizes": (784, 30, 10),
        "cost": "quadratic",
        "eta": 3.0,
        "lmbda": 0.0,
        "initializer": "large",
    },
    "ch3": {
        "sizes": (784, 100, 10),
        "cost": "cross_entropy",
        "eta": 0.5,
        "lmbda": 5.0,
        "initializer": "default",
    },
}


def run_dense_benchmark(
    training,
    *,
    network="ch1",
    mini_batch_size=10,
    epochs=5,
    backends=BACKENDS,
    seed=0,
    torch_threads=None,
    jit_startup=False,
    bound=True,
    **overrides,
):
    """Time SGD epochs of a fully connected network on each backend, in one run.

    Parameters
    ----------
    training : Dataset or (images, labels)
        Images of shape (n, sizes[0]) and integer labels (n,), e.g.
        ``load_mnist().training`` (50,000 images).
    network : {"ch1", "ch3"}
        The preset in :data:`NETWORKS`; ``overrides`` (``sizes``, ``cost``,
        ``eta``, ``lmbda``, ``initializer``) change single settings.
    mini_batch_size : int
    epochs : int
        Timed epochs per backend, after one warm-up epoch.
    backends : sequence of {"numba", "numba-1", "numpy", "torch"}
    seed : int
        Seed of the initial weights and of the shuffles (the same for all).
    torch_threads : int or None
        Threads PyTorch may use (restored afterwards); None: as many as the
        ``"numba"`` row uses. (On a 2-core machine that is also running
        other jobs, PyTorch's per-operator parallel regions wait for
        descheduled threads: measured 20 times slower than one thread.)
    jit_startup : bool
        Also run :func:`measure_jit_startup` (two fresh processes; slow).
    bound : bool
        Also compute :func:`arithmetic_bound` (measures the peak: ~0.1 s).

    Returns
    -------
    dict
        ``config`` and ``machine`` (what was measured where); ``backends``:
        one dict per backend with ``status`` ("ok" or "skipped" with a
        ``reason``), ``seconds_per_epoch`` (median), ``epoch_seconds`` (the
        timed epochs), ``warmup_epoch_seconds``; for "numba" also ``jit``
        (first call, warm call, their difference ``warmup_seconds``, whether
        the code was compiled, loaded from the cache or already in this
        process, and ``sparse_seconds``, the one-off listing of the nonzero
        pixels that each training run starts with); ``training_accuracy``, the
        fraction of (up to 10,000) training images classified right after
        training, a check that each backend learned; ``ratios``: each
        backend's seconds per epoch divided by Numba's; ``bound``: see
        :func:`arithmetic_bound`, with ``numba_vs_dense`` and
        ``numba_vs_sparse``, Numba's seconds per epoch divided by each bound.
        (The trained parameters themselves are not compared: SGD at eta=3 on
        50,000 images is chaotic, and one ulp changed in the initial weights
        already moves them by 10% within two epochs. The tests compare the
        backends where that is meaningful.)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> data = rng.random((30, 8)), rng.integers(0, 3, 30)
    >>> results = run_dense_benchmark(data, sizes=(8, 4, 3), epochs=1,
    ...                               backends=("numpy",), bound=False)
    >>> results["backends"]["numpy"]["status"]
    'ok'
    """
    if network not in NETWORKS or set(overrides) - set(NETWORKS[network]):
        raise ValueError(
            f"network must be one of {sorted(NETWORKS)} and overrides among "
            f"{sorted(NETWORKS['ch1'])}; got {network!r} and {sorted(overrides)}"
        )
    preset = NETWORKS[network] | overrides
    sizes = preset["sizes"]
    images, labels = check_dataset(training, sizes[0], sizes[-1], "training")
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"unknown backends {sorted(unknown)}; choose from {BACKENDS}")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    threads = _numba_threads()
    config = {
        "network": network,
        "sizes": [int(s) for s in preset["sizes"]],
        "mini_batch_size": int(mini_batch_size),
        "eta": float(preset["eta"]),
        "cost": preset["cost"],
        "lmbda": float(preset["lmbda"]),
        "initializer": preset["initializer"],
        "epochs": int(epochs),
        "warmup_epochs": 1,
        "n_training": len(images),
        "seed": seed,
        "threads": threads,
        "torch_threads": threads if torch_threads is None else torch_threads,
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
    if bound:
        results["bound"] = arithmetic_bound(images, config)
        for kind in ("dense", "sparse") if base else ():
            seconds = results["bound"][f"{kind}_seconds"]
            results["bound"][f"numba_vs_{kind}"] = base / seconds
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
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }


def _numba_threads():
    """Threads the ``"numba"`` row trains on: an epoch's default."""
    from .kernels.dense_threads import parts

    return parts(0.0)  # NNDL_THREADS=3 still trains on 2


def _new_network(config, backend="numpy", threads=None):
    return Network(
        config["sizes"],
        seed=config["seed"],
        cost=COSTS[config["cost"]],
        backend=backend,
        initializer=config["initializer"],
        threads=threads,
    )


def _time_network(images, labels, config, backend):
    """Train ``Network`` on one backend; return its timings."""
    result = {"status": "ok"}
    threads = None
    if backend == "numba":
        result["jit"] = _time_jit_warmup(images, labels, config)
        threads = config["threads"]
    elif backend == "numba-1":
        backend, threads = "numba", 1
    if threads is not None:
        result["threads"] = threads
    net = _new_network(config, backend, threads)
    history = net.SGD(
        (images, labels),
        config["warmup_epochs"] + config["epochs"],
        config["mini_batch_size"],
        config["eta"],
        seed=config["seed"],
        lmbda=config["lmbda"],
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
    from .kernels import dense, dense_sgd, dense_threads  # on demand, as Network

    import_seconds = time.perf_counter() - start
    dispatcher = dense_threads.train_epoch_part
    stats = getattr(dispatcher, "stats", None)  # None under NUMBA_DISABLE_JIT=1
    already_compiled = bool(getattr(dispatcher, "signatures", ()))
    hits = sum(stats.cache_hits.values()) if stats else 0
    misses = sum(stats.cache_misses.values()) if stats else 0
    n = min(2 * config["mini_batch_size"], len(images))
    calls = []
    for _ in range(2):
        net = _new_network(config)
        start = time.perf_counter()
        dense_sgd.train_epoch(
            net, images[:n], labels[:n], np.arange(n), config["mini_batch_size"], 1.0
        )
        calls.append(time.perf_counter() - start)
    start = time.perf_counter()
    dense.to_sparse(images)
    sparse_seconds = time.perf_counter() - start
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
        "sparse_seconds": sparse_seconds,
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


def _torch_cost(torch, z, y, cost):
    """The mini-batch's cost summed over examples, from the output layer's ``z``."""
    if cost == "quadratic":
        return 0.5 * ((torch.sigmoid(z) - y) ** 2).sum()
    if cost == "cross_entropy":  # sigmoid outputs; gradient a - y, as BP1 says
        return torch.nn.functional.binary_cross_entropy_with_logits(
            z, y, reduction="sum"
        )
    raise ValueError(f"no PyTorch version of the cost {cost!r}")


def _train_torch(torch, images, labels, config):
    """The same training in PyTorch: sigmoid layers, the same cost, SGD with L2.

    Float64 like the other backends, from the same initial weights and with
    the same shuffles. The update is ``update_mini_batch``'s: ``w -> (1 -
    eta*lmbda/n) w - (eta/m) sum_x dC_x/dw``, biases not decayed. Returns a
    ``Network`` holding the trained parameters (for the accuracy check) and
    the seconds of each epoch.
    """
    net = _new_network(config)  # same initial weights
    weights = [torch.tensor(w, requires_grad=True) for w in net.weights]
    biases = [torch.tensor(b[:, 0], requires_grad=True) for b in net.biases]
    x_all = torch.tensor(images)  # a copy: load_mnist's arrays are read-only
    y_all = torch.tensor(one_hot(labels, config["sizes"][-1]).T)
    rng = np.random.default_rng(config["seed"])
    n, m, eta = len(images), config["mini_batch_size"], config["eta"]
    decay = 1.0 - eta * config["lmbda"] / n
    seconds = []
    for _ in range(config["warmup_epochs"] + config["epochs"]):
        start = time.perf_counter()
        order = torch.from_numpy(rng.permutation(n))
        for k in range(0, n, m):
            idx = order[k : k + m]
            a = x_all[idx]  # rows are examples, as PyTorch has them
            for w, b in zip(weights[:-1], biases[:-1], strict=True):
                a = torch.sigmoid(a @ w.T + b)
            z = a @ weights[-1].T + biases[-1]
            cost = _torch_cost(torch, z, y_all[idx], config["cost"]) / len(idx)
            cost.backward()
            with torch.no_grad():
                for w in weights:
                    if decay != 1.0:
                        w.mul_(decay)
                    w -= eta * w.grad
                    w.grad = None
                for b in biases:
                    b -= eta * b.grad
                    b.grad = None
        seconds.append(time.perf_counter() - start)
    net.weights = [w.detach().numpy().copy() for w in weights]
    net.biases = [b.detach().numpy().reshape(-1, 1).copy() for b in biases]
    return net, seconds


def flops_per_epoch(sizes, n, mini_batch_size, lmbda=0.0, n_inputs=None):
    """Floating-point operations of one SGD epoch, counted from the equations.

    Per example, each weight layer costs ``2 n_in n_out`` (a multiply and an
    add per weight) in the forward pass (eq. 25) and again for BP4's weight
    gradient; every layer but the first also passes its delta back (BP2).
    Per mini-batch, each weight costs 2 in the step (``w - (eta/m) nabla``),
    plus 1 for L2's decay; each bias 2. Activations, biases and the cost
    (a few operations per neuron) are left out: under 1% of the total.

    Parameters
    ----------
    sizes : sequence of int
    n : int
        Examples per epoch.
    mini_batch_size : int
    lmbda : float
        L2 parameter (only whether it is zero matters).
    n_inputs : float, optional
        Inputs per example that take part in the first layer's products:
        ``sizes[0]`` for dense arithmetic, or the mean number of nonzero
        inputs when zeros are skipped. Then BP4 and the step are one fused
        multiply-and-subtract per nonzero input and output, and only L2's
        decay still touches every weight each mini-batch.

    Examples
    --------
    >>> print(f"{flops_per_epoch([784, 30, 10], 50_000, 10) / 1e9:.2f}")
    5.03
    """
    n_batches = -(-n // mini_batch_size)
    pairs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]  # weights per layer
    n_weights, n_biases = sum(pairs), sum(sizes[1:])
    if n_inputs is None:  # dense: every product, then a separate step
        per_example = 4 * sum(pairs) + 2 * sum(pairs[1:])
        per_batch = (2 + (lmbda != 0)) * n_weights + 2 * n_biases
        return float(n * per_example + n_batches * per_batch)
    sparse_pairs = [n_inputs * sizes[1], *pairs[1:]]
    per_example = 4 * sum(sparse_pairs) + 2 * sum(pairs[1:])
    per_batch = (lmbda != 0) * n_weights + 2 * n_biases
    return float(n * per_example + n_batches * per_batch)


def measure_peak_flops(repeats=5, n=200_000):
    """The floating-point rate of one core at its peak, in flop/s.

    The best of ``repeats`` runs of :func:`nndl_core.kernels.peak.multiply_add`
    (float64 fused multiply-adds, counted as two flops each, kept in vector
    registers, as many as the core's units can take per cycle). The best run
    is the one least disturbed by other jobs on a shared machine.
    """
    from .kernels import peak

    acc = np.ones(peak.LANES)
    peak.multiply_add(acc, 10, 0.5, 1.0)  # compile, or load from the cache
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        peak.multiply_add(acc, n, 0.5, 1.0)
        best = min(best, time.perf_counter() - start)
    return 2 * peak.LANES * n / best


def arithmetic_bound(images, config, peak_flops=None):
    """Seconds per epoch that the arithmetic alone takes at the peak rate.

    Returns
    -------
    dict
        ``peak_flops`` (flop/s, :func:`measure_peak_flops` unless given);
        ``dense_flops`` and ``dense_seconds``: every product of the equations;
        ``nonzero_inputs``, the mean number of nonzero pixels per image, and
        ``sparse_flops`` and ``sparse_seconds``: the work left when products
        with zero pixels are skipped (:func:`flops_per_epoch`).
    """
    peak_flops = measure_peak_flops() if peak_flops is None else peak_flops
    nonzero = float(np.count_nonzero(images)) / max(len(images), 1)
    args = (config["sizes"], config["n_training"], config["mini_batch_size"])
    dense_flops = flops_per_epoch(*args, config["lmbda"])
    sparse_flops = flops_per_epoch(*args, config["lmbda"], n_inputs=nonzero)
    return {
        "peak_flops": peak_flops,
        "dense_flops": dense_flops,
        "dense_seconds": dense_flops / peak_flops,
        "nonzero_inputs": nonzero,
        "sparse_flops": sparse_flops,
        "sparse_seconds": sparse_flops / peak_flops,
    }


_STARTUP_SCRIPT = """
import json, time
import numpy as np
start = time.perf_counter()
from nndl_core import Network
from nndl_core.kernels import dense_sgd
imported = time.perf_counter()
images = np.zeros((20, 784)); images[:, ::5] = 0.5
net = Network([784, 30, 10], seed=0)
begin = time.perf_counter()
dense_sgd.train_epoch(
    net, images, np.zeros(20, dtype=np.int64), np.arange(20), 10, 3.0
)
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
    ...                "cost": "quadratic", "lmbda": 0.0, "epochs": 1,
    ...                "warmup_epochs": 1, "n_training": 5},
    ...     "backends": {"torch": {"status": "skipped", "reason": "no torch"}},
    ...     "ratios": {},
    ... }
    >>> print(format_table(results))
    Network [2, 1], quadratic cost, mini-batch 1, eta 1.0, 5 training images;
    seconds per epoch: median of 1 after 1 warm-up epoch
    backend   s/epoch  x numba  warm-up s  accuracy  notes
    torch           -        -          -         -  skipped: no torch
    """
    c = results["config"]
    l2 = f", L2 lmbda {c['lmbda']}" if c.get("lmbda") else ""
    lines = [
        f"Network {c['sizes']}, {c['cost']} cost{l2}, mini-batch "
        f"{c['mini_batch_size']}, eta {c['eta']}, {c['n_training']} training images;",
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
            jit = r["jit"]
            notes = (
                f"JIT warm-up {jit['warmup_seconds']:.2f} s ({jit['source']}); "
                f"nonzero pixels listed once per run in {jit['sparse_seconds']:.2f} s"
            )
        if "threads" in r:
            threads = f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}"
            notes = f"{threads}; {notes}" if notes else f"{threads}, float64"
        lines.append(
            f"{name:7}  {r['seconds_per_epoch']:8.4f}  {ratio:>7}  "
            f"{r['warmup_epoch_seconds']:9.4f}  {r['training_accuracy']:8.2%}  {notes}"
        )
    if "bound" in results:
        lines += _bound_lines(results["bound"], c["sizes"][0])
    if "jit_startup" in results:
        s = results["jit_startup"]
        lines.append(
            "Numba start-up in a fresh process: first call "
            f"{s['cold_cache']['first_call_seconds']:.2f} s with an empty cache, "
            f"{s['warm_cache']['first_call_seconds']:.2f} s with a filled one"
        )
    return "\n".join(line.rstrip() for line in lines)


def _bound_lines(b, n_in):
    """The arithmetic bound, and how far Numba is from it."""
    lines = [
        f"Arithmetic bound at {b['peak_flops'] / 1e9:.1f} GFLOP/s (one core's "
        "measured peak of float64 fused multiply-adds; with two cores, half "
        "the seconds):"
    ]
    for kind, label in (
        ("dense", f"every product ({n_in} inputs)"),
        ("sparse", f"zero pixels skipped ({b['nonzero_inputs']:.1f} inputs)"),
    ):
        versus = b.get(f"numba_vs_{kind}")
        versus = f"; numba takes {versus:.2f}x that" if versus is not None else ""
        lines.append(
            f"  {label}: {b[f'{kind}_flops'] / 1e9:.2f} GFLOP/epoch -> "
            f"{b[f'{kind}_seconds']:.4f} s{versus}"
        )
    return lines
