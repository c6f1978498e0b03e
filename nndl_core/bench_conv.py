"""Seconds per epoch of the book's chapter-6 convolutional network, ours vs PyTorch.

Used by ``nndl bench`` and chap6's "why it works" section. The network is
the one of the book's final runs: conv 5x5x20 + max-pool 2x2 -> conv 5x5x40
+ max-pool 2x2 -> dense 100 ReLU -> softmax 10, trained with mini-batches
of 10, eta = 0.03, lmbda = 0.1 (network3's L2 scaling).

* ``"numba"``: :class:`nndl_core.convnet.Network3` with ``backend="numba"``
  (float32; the convolutional layers on ``nndl_core.kernels.conv``);
* ``"torch"``: the same network, initialisation, mini-batches and update in
  PyTorch on the CPU (float32), measured only if ``import torch`` works,
  otherwise reported as skipped with the reason.

To keep a run short, each backend trains one warm-up slice and then one
timed slice of ``n_images`` images (5,000 by default); seconds per epoch are
that time scaled to 50,000 images, which is exact up to scoring (an epoch
is a fixed sequence of identical mini-batch steps). GFLOP/s counts the
arithmetic of dense forward and backward passes (2 flops per multiply-add;
the input gradient of the first layer is not needed). Nothing here prints;
the CLI prints :func:`format_conv_table`.
"""

import time

import numpy as np

from .bench import _machine
from .conv import ConvPoolLayer
from .convnet import Network3
from .layers import FullyConnectedLayer, SoftmaxLayer

__all__ = ["book_layers", "flops_per_image", "format_conv_table", "run_conv_benchmark"]

EPOCH_IMAGES = 50_000


def book_layers(activation="relu", n_hidden=100):
    """The chapter's two-conv-layer network (fresh, uninitialised layers)."""
    return [
        ConvPoolLayer((20, 1, 5, 5), (1, 28, 28), 2, activation),
        ConvPoolLayer((40, 20, 5, 5), (20, 12, 12), 2, activation),
        FullyConnectedLayer(40 * 4 * 4, n_hidden, activation),
        SoftmaxLayer(n_hidden, 10),
    ]


def flops_per_image(layers):
    """Floating-point operations of one SGD step per image (dense count).

    Forward: 2 per multiply-add. Backward: the same again for the weight
    gradient, and again for the input gradient of every layer but the first.

    Examples
    --------
    >>> round(flops_per_image(book_layers()) / 1e6, 2)
    9.22
    """
    total = 0
    for i, layer in enumerate(layers):
        if layer.kind == "images":
            f, c, k, _ = layer.filter_shape
            oh, ow = layer.image_shape[1] - k + 1, layer.image_shape[2] - k + 1
            macs = f * c * k * k * oh * ow
        else:
            macs = layer.n_in * layer.n_out
        total += 2 * macs * (2 if i == 0 else 3)
    return total


def run_conv_benchmark(
    training, *, n_images=5_000, backends=("numba", "torch"), seed=0
):
    """Time SGD on the book's convolutional network on each backend.

    Parameters
    ----------
    training : Dataset or (images, labels)
        At least ``n_images`` MNIST rows (n, 784) and labels.
    n_images : int
        Images in the timed slice (and in the warm-up slice before it).
    backends : sequence of {"numba", "torch"}
    seed : int

    Returns
    -------
    dict
        ``config``, ``machine``, and per backend ``status`` ("ok" or
        "skipped" with a ``reason``), ``seconds`` (the timed slice),
        ``seconds_per_epoch`` (scaled to 50,000 images) and ``gflops``;
        ``ratio``: PyTorch's seconds per epoch divided by ours.
    """
    images = np.asarray(training[0][:n_images], dtype=np.float32)
    labels = np.asarray(training[1][:n_images])
    config = dict(
        architecture="conv 5x5x20 + pool 2 -> conv 5x5x40 + pool 2 -> FC 100 ReLU "
        "-> softmax 10",
        mini_batch_size=10,
        eta=0.03,
        lmbda=0.1,
        n_images=len(images),
        scaled_to=EPOCH_IMAGES,
        flops_per_image=flops_per_image(book_layers()),
        dtype="float32",
    )
    results = {"config": config, "machine": _machine(), "backends": {}}
    for backend in backends:
        timer = _time_numba if backend == "numba" else _time_torch
        result = timer(images, labels, config, seed)
        if result["status"] == "ok":
            scale = EPOCH_IMAGES / len(images)
            result["seconds_per_epoch"] = result["seconds"] * scale
            result["gflops"] = (
                config["flops_per_image"] * len(images) / result["seconds"] / 1e9
            )
        results["backends"][backend] = result
    ours = results["backends"].get("numba", {})
    theirs = results["backends"].get("torch", {})
    if ours.get("status") == "ok" and theirs.get("status") == "ok":
        results["ratio"] = theirs["seconds_per_epoch"] / ours["seconds_per_epoch"]
    return results


def _time_numba(images, labels, config, seed):
    net = Network3(book_layers(), seed=seed, backend="numba")
    m, eta = config["mini_batch_size"], config["eta"]
    decay = 1 - eta * config["lmbda"] * m / len(images)
    seconds = []
    for _ in range(2):  # warm-up (compiles or loads the kernels), then timed
        start = time.perf_counter()
        for k in range(0, len(images) - m + 1, m):
            net.update_mini_batch(images[k : k + m], labels[k : k + m], eta, decay)
        seconds.append(time.perf_counter() - start)
    return {"status": "ok", "seconds": seconds[1], "warmup_seconds": seconds[0]}


def _time_torch(images, labels, config, seed):
    try:
        import torch  # an optional dependency
        import torch.nn.functional as F  # noqa: N812 (PyTorch's convention)
    except ImportError as err:
        return {"status": "skipped", "reason": f"PyTorch is not installed ({err})"}
    start_net = Network3(book_layers(), seed=seed)  # same initial weights
    params = []
    for layer in start_net.layers:
        w = torch.tensor(layer.w, dtype=torch.float32, requires_grad=True)
        b = torch.tensor(layer.b.reshape(-1), dtype=torch.float32, requires_grad=True)
        params += [w, b]
    x_all = torch.from_numpy(images).reshape(-1, 1, 28, 28)
    y_all = torch.from_numpy(labels.astype(np.int64))
    m, eta = config["mini_batch_size"], config["eta"]
    decay = 1 - eta * config["lmbda"] * m / len(images)
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        for k in range(0, len(images) - m + 1, m):
            w1, b1, w2, b2, w3, b3, w4, b4 = params
            a = F.relu(F.max_pool2d(F.conv2d(x_all[k : k + m], w1, b1), 2))
            a = F.relu(F.max_pool2d(F.conv2d(a, w2, b2), 2))
            a = F.relu(a.reshape(m, -1) @ w3.T + b3)
            cost = F.cross_entropy(a @ w4.T + b4, y_all[k : k + m])  # mean over batch
            cost.backward()
            with torch.no_grad():
                for i, p in enumerate(params):
                    if i % 2 == 0:
                        p.mul_(decay)  # L2 on weights only, as network3
                    p -= eta * p.grad
                    p.grad = None
        seconds.append(time.perf_counter() - start)
    return {
        "status": "ok",
        "seconds": seconds[1],
        "warmup_seconds": seconds[0],
        "threads": torch.get_num_threads(),
        "version": torch.__version__,
    }


def format_conv_table(results):
    """The results of :func:`run_conv_benchmark` as a plain-text table."""
    c = results["config"]
    lines = [
        f"{c['architecture']}; mini-batch {c['mini_batch_size']}, eta {c['eta']}, "
        f"lmbda {c['lmbda']}, {c['dtype']}",
        f"timed on {c['n_images']:,} images after a warm-up slice, scaled to "
        f"{c['scaled_to']:,} images per epoch",
        f"{'backend':7}  {'s/epoch':>8}  {'GFLOP/s':>7}  notes",
    ]
    for name, r in results["backends"].items():
        if r["status"] != "ok":
            lines.append(f"{name:7}  {'-':>8}  {'-':>7}  skipped: {r['reason']}")
            continue
        notes = (
            f"{r['threads']} threads, torch {r['version']}" if "threads" in r else ""
        )
        lines.append(
            f"{name:7}  {r['seconds_per_epoch']:8.2f}  {r['gflops']:7.1f}  {notes}"
        )
    if "ratio" in results:
        lines.append(f"PyTorch takes {results['ratio']:.2f}x as long as Numba")
    return "\n".join(lines)
