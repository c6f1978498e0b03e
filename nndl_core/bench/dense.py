"""Seconds per epoch of the book's fully connected networks on each backend.

Used by ``nndl bench`` and the book's notes on speed. One call trains the same
network (same initial weights, same shuffles) with

* ``"numba"``: ``Network(..., backend="numba")``, the kernels of
  ``nndl_core.kernels.dense``, on as many threads as an epoch uses
  by default (``nndl_core.kernels.dense.threads.parts``: both cores
  of a 2-core machine);
* ``"numba-1"``: the same on one thread (the same trained network, bit for
  bit);
* ``"numpy"``: ``Network(..., backend="numpy")``, the readable reference;
* ``"torch"``: a minimal PyTorch CPU version
  (:mod:`nndl_core.bench.dense_torch`: same layers, cost and update,
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
warm call. :func:`nndl_core.bench.startup.measure_jit_startup` measures the
same in fresh processes, with an empty and with a filled on-disk cache.
The arithmetic bound that Numba's time is compared with comes from
:mod:`nndl_core.bench.peak`. Nothing here prints; the CLI prints
:func:`format_table`.
"""

import statistics
import time

import numpy as np

from ..costs import COSTS
from ..network import Network
from ..validation import check_dataset
from .dense_torch import train_in_torch
from .machine import describe_machine
from .peak import arithmetic_bound

__all__ = ["BACKENDS", "NETWORKS", "format_table", "run_dense_benchmark"]

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
        Also run :func:`nndl_core.bench.startup.measure_jit_startup` (two
        fresh processes; slow).
    bound : bool
        Also compute :func:`nndl_core.bench.peak.arithmetic_bound` (measures
        the peak: ~0.1 s).

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
        :func:`nndl_core.bench.peak.arithmetic_bound`, with ``numba_vs_dense`` and
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
    results = {"config": config, "machine": describe_machine(), "backends": {}}
    for backend in backends:
        if backend == "torch":
            result = _time_torch(images, labels, config)
        else:
            result = _time_network(images, labels, config, backend)
        results["backends"][backend] = result
    if jit_startup:
        from .startup import measure_jit_startup  # on demand: `-m` runs it too

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


def _numba_threads():
    """Threads the ``"numba"`` row trains on: an epoch's default."""
    from ..kernels.dense.threads import parts

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
    from ..kernels import dense  # on demand, as Network
    from ..kernels.dense.threads import train_epoch_part

    import_seconds = time.perf_counter() - start
    dispatcher = train_epoch_part
    stats = getattr(dispatcher, "stats", None)  # None under NUMBA_DISABLE_JIT=1
    already_compiled = bool(getattr(dispatcher, "signatures", ()))
    hits = sum(stats.cache_hits.values()) if stats else 0
    misses = sum(stats.cache_misses.values()) if stats else 0
    n = min(2 * config["mini_batch_size"], len(images))
    calls = []
    for _ in range(2):
        net = _new_network(config)
        start = time.perf_counter()
        dense.train_epoch(
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
        net = _new_network(config)  # same initial weights
        seconds = train_in_torch(torch, net, images, labels, config)
    finally:
        torch.set_num_threads(threads)
    result.update(_summary(seconds, config["warmup_epochs"]))
    result["training_accuracy"] = _accuracy(net, images, labels)
    return result


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
