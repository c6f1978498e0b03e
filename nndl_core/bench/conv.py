"""Seconds per epoch of the book's chapter-6 convolutional network, ours vs PyTorch.

Used by ``nndl bench --network conv`` and chap6's "why it works" section.
The network is the one of the book's final runs: conv 5x5x20 + max-pool 2x2
-> conv 5x5x40 + max-pool 2x2 -> dense 100 ReLU -> softmax 10, trained
with mini-batches of 10, eta = 0.03, lmbda = 0.1 (network3's L2 scaling).

* ``"numba"``: :class:`nndl_core.convnet.Network3` with ``backend="numba"``
  (float32, every layer on the kernels of ``nndl_core.kernels.conv`` and
  ``nndl_core.kernels.layers``);
* ``"torch"``: the same network, initialisation, mini-batches and update in
  PyTorch on the CPU (float32), measured only if ``import torch`` works,
  otherwise reported as skipped with the reason. It runs on
  ``torch_threads`` threads (1 by default: ours runs on one core).

To keep a run short, each backend trains one warm-up slice and then, taking
turns with the other backend, ``repeats`` timed slices of ``n_images``
images (5,000 by default); seconds per epoch are its fastest slice scaled
to 50,000 images, which is exact up to scoring (an epoch is a fixed
sequence of identical mini-batch steps). GFLOP/s counts the
arithmetic of dense forward and backward passes (2 flops per multiply-add;
the input gradient of the first layer is not needed). After training, each
backend reports the root-mean-square of all its parameters, so that a
reader can see that both trained the same network. Nothing here prints;
the CLI prints :func:`format_conv_table`.
"""

import time

import numpy as np

from ..conv import ConvPoolLayer
from ..convnet import Network3
from ..layers import FullyConnectedLayer, SoftmaxLayer
from .machine import describe_machine

__all__ = [
    "book_layers",
    "describe_layers",
    "flops_per_image",
    "format_conv_table",
    "rates",
    "run_conv_benchmark",
]

EPOCH_IMAGES = 50_000
BACKENDS = ("numba", "torch")


def book_layers(activation="relu", n_hidden=100):
    """The chapter's two-conv-layer network (fresh, uninitialised layers)."""
    return [
        ConvPoolLayer((20, 1, 5, 5), (1, 28, 28), 2, activation),
        ConvPoolLayer((40, 20, 5, 5), (20, 12, 12), 2, activation),
        FullyConnectedLayer(40 * 4 * 4, n_hidden, activation),
        SoftmaxLayer(n_hidden, 10),
    ]


def describe_layers(layers):
    """A one-line description such as ``conv 5x5x20 + pool 2 -> softmax 10``.

    Examples
    --------
    >>> describe_layers(book_layers())
    'conv 5x5x20 + pool 2 -> conv 5x5x40 + pool 2 -> FC 100 relu -> softmax 10'
    """
    parts = []
    for layer in layers:
        if layer.kind == "images":
            f, _, k, _ = layer.filter_shape
            parts.append(f"conv {k}x{k}x{f} + pool {layer.pool}")
        elif layer.activation == "softmax":
            parts.append(f"softmax {layer.n_out}")
        else:
            parts.append(f"FC {layer.n_out} {layer.activation}")
    return " -> ".join(parts)


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


def rates(seconds, n_images, flops_per_image):
    """``(seconds per 50,000-image epoch, GFLOP/s)`` of ``n_images`` in ``seconds``.

    Examples
    --------
    >>> rates(2.0, 5_000, 9.22e6)
    (20.0, 23.05)
    """
    return seconds * EPOCH_IMAGES / n_images, flops_per_image * n_images / seconds / 1e9


def run_conv_benchmark(
    training,
    *,
    n_images=5_000,
    backends=BACKENDS,
    seed=0,
    layers=book_layers,
    torch_threads=1,
    repeats=3,
):
    """Time SGD on the book's convolutional network on each backend.

    Each backend first trains one warm-up slice of ``n_images`` images; then
    the backends take turns, one timed slice each, ``repeats`` times, and
    each reports its fastest slice. Taking turns matters on a shared
    machine: a burst of someone else's work slows both alike instead of
    whichever backend happened to run during it.

    Parameters
    ----------
    training : Dataset or (images, labels)
        At least ``n_images`` image rows (n, n_pixels) and labels (MNIST for
        the book's network).
    n_images : int
        Images in each slice.
    backends : sequence of {"numba", "torch"}
    seed : int
        Seed of the initial weights (the same for every backend).
    layers : callable
        Returns fresh layers; :func:`book_layers` by default (tests pass a
        tiny network).
    torch_threads : int
        ``torch.set_num_threads`` while PyTorch trains.
    repeats : int
        Timed slices per backend.

    Returns
    -------
    dict
        ``config``, ``machine``, and per backend ``status`` ("ok" or
        "skipped" with a ``reason``), ``slice_seconds`` (every timed
        slice), ``seconds`` (the fastest), ``warmup_seconds``,
        ``seconds_per_epoch`` (scaled to 50,000 images), ``gflops`` and
        ``params_rms``; ``ratio``: PyTorch's seconds per epoch divided by ours.
    """
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise ValueError(f"unknown backends {sorted(unknown)}; choose from {BACKENDS}")
    images = np.asarray(training[0][:n_images], dtype=np.float32)
    labels = np.asarray(training[1][:n_images])
    config = dict(
        architecture=describe_layers(layers()),
        mini_batch_size=10,
        eta=0.03,
        lmbda=0.1,
        n_images=len(images),
        repeats=int(repeats),
        scaled_to=EPOCH_IMAGES,
        flops_per_image=flops_per_image(layers()),
        dtype="float32",
    )
    if len(images) < config["mini_batch_size"]:
        raise ValueError(f"need at least one mini-batch of images, got {len(images)}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    results = {"config": config, "machine": describe_machine(), "backends": {}}
    trainers = {}
    for backend in backends:
        if backend == "numba":
            trainers[backend] = _NumbaTrainer(images, labels, config, seed, layers)
        else:
            trainer = _torch_trainer(
                images, labels, config, seed, layers, torch_threads
            )
            if isinstance(trainer, dict):  # skipped, with the reason
                results["backends"][backend] = trainer
                continue
            trainers[backend] = trainer
    timings = {backend: [_timed(trainer)] for backend, trainer in trainers.items()}
    for _ in range(repeats):
        for backend, trainer in trainers.items():
            timings[backend].append(_timed(trainer))
    for backend, trainer in trainers.items():
        warmup, *timed = timings[backend]
        result = {"status": "ok", "seconds": min(timed), "slice_seconds": timed}
        result["seconds_per_epoch"], result["gflops"] = rates(
            result["seconds"], len(images), config["flops_per_image"]
        )
        result.update(warmup_seconds=warmup, params_rms=_rms(trainer.params()))
        results["backends"][backend] = {**result, **trainer.info}
    results["backends"] = {b: results["backends"][b] for b in backends}  # in order
    ours = results["backends"].get("numba", {})
    theirs = results["backends"].get("torch", {})
    if ours.get("status") == "ok" and theirs.get("status") == "ok":
        results["ratio"] = theirs["seconds_per_epoch"] / ours["seconds_per_epoch"]
    return results


def _timed(trainer):
    """Seconds that ``trainer`` takes to train one slice."""
    start = time.perf_counter()
    trainer.train_slice()
    return time.perf_counter() - start


def _decay(config, n):
    """network3's weight decay per step, ``1 - eta * lmbda * m / n``."""
    return 1 - config["eta"] * config["lmbda"] * config["mini_batch_size"] / n


def _rms(arrays):
    arrays = [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    return float(np.sqrt(np.mean(np.concatenate(arrays) ** 2)))


class _NumbaTrainer:
    """Our network on the Numba path; one call of :meth:`train_slice` per slice."""

    info = {}

    def __init__(self, images, labels, config, seed, layers):
        self.net = Network3(layers(), seed=seed, backend="numba")
        self.images, self.labels, self.config = images, labels, config
        self.decay = _decay(config, len(images))

    def train_slice(self):
        m, eta = self.config["mini_batch_size"], self.config["eta"]
        for k in range(0, len(self.images) - m + 1, m):
            batch = self.images[k : k + m], self.labels[k : k + m]
            self.net.update_mini_batch(*batch, eta, self.decay)

    def params(self):
        return [p for layer in self.net.layers for p in (layer.w, layer.b)]


def _torch_forward(torch, layers, params, x):
    """Logits of the PyTorch copy of ``layers`` for a batch ``x``."""
    functional = torch.nn.functional
    activations = {
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "linear": lambda a: a,
    }
    a = x
    for layer, (w, b) in zip(layers, params):
        if layer.kind == "images":
            a = functional.max_pool2d(functional.conv2d(a, w, b), layer.pool)
            a = activations[layer.activation](a)  # after pooling, as network3
            continue
        a = a.reshape(len(a), -1) @ w.T + b
        if layer.activation != "softmax":
            a = activations[layer.activation](a)
    return a


def _torch_trainer(images, labels, config, seed, layers, threads):
    """A :class:`_TorchTrainer`, or a "skipped" result when torch is missing."""
    try:
        import torch  # an optional dependency
    except ImportError as err:
        return {"status": "skipped", "reason": f"PyTorch is not installed ({err})"}
    return _TorchTrainer(torch, images, labels, config, seed, layers, threads)


class _TorchTrainer:
    """The same network, initial weights, mini-batches and update in PyTorch."""

    def __init__(self, torch, images, labels, config, seed, layers, threads):
        start_net = Network3(layers(), seed=seed)  # the same initial weights as ours
        if any(getattr(layer, "p_drop", 0) for layer in start_net.layers):
            raise ValueError("the PyTorch benchmark has no dropout")
        self.torch, self.layers, self.threads, self.config = (
            torch,
            start_net.layers,
            threads,
            config,
        )
        self.weights = [
            tuple(
                torch.tensor(p, dtype=torch.float32, requires_grad=True)
                for p in (layer.w, layer.b.reshape(-1))
            )
            for layer in start_net.layers
        ]
        self.x = torch.from_numpy(images).reshape((-1,) + start_net.input_shape)
        self.y = torch.from_numpy(labels.astype(np.int64))
        self.decay = _decay(config, len(images))
        self.info = {"threads": threads, "version": torch.__version__}

    def train_slice(self):
        torch, m, eta = self.torch, self.config["mini_batch_size"], self.config["eta"]
        threads_before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            for k in range(0, len(self.x) - m + 1, m):
                logits = _torch_forward(
                    torch, self.layers, self.weights, self.x[k : k + m]
                )
                cost = torch.nn.functional.cross_entropy(logits, self.y[k : k + m])
                cost.backward()  # the mean over the batch: the step is eta * grad
                with torch.no_grad():
                    for w, b in self.weights:
                        w.mul_(self.decay)  # L2 on weights only, as network3
                        for p in (w, b):
                            p -= eta * p.grad
                            p.grad = None
        finally:
            torch.set_num_threads(threads_before)

    def params(self):
        return [p.detach().numpy() for pair in self.weights for p in pair]


def format_conv_table(results):
    """The results of :func:`run_conv_benchmark` as a plain-text table.

    Examples
    --------
    >>> results = {
    ...     "config": dict(architecture="FC 10 relu -> softmax 10",
    ...                    mini_batch_size=10, eta=0.03, lmbda=0.1,
    ...                    dtype="float32", n_images=500, repeats=3,
    ...                    scaled_to=50_000),
    ...     "backends": {
    ...         "numba": dict(status="ok", seconds_per_epoch=12.0, gflops=38.4),
    ...         "torch": dict(status="skipped", reason="PyTorch is not installed"),
    ...     },
    ... }
    >>> print(format_conv_table(results))
    FC 10 relu -> softmax 10; mini-batch 10, eta 0.03, lmbda 0.1, float32
    best of 3 slices of 500 images after a warm-up slice, scaled to 50,000 per epoch
    backend   s/epoch  GFLOP/s  notes
    numba       12.00     38.4
    torch           -        -  skipped: PyTorch is not installed
    """
    c = results["config"]
    lines = [
        f"{c['architecture']}; mini-batch {c['mini_batch_size']}, eta {c['eta']}, "
        f"lmbda {c['lmbda']}, {c['dtype']}",
        f"best of {c['repeats']} slices of {c['n_images']:,} images after a warm-up "
        f"slice, scaled to {c['scaled_to']:,} per epoch",
        f"{'backend':7}  {'s/epoch':>8}  {'GFLOP/s':>7}  notes",
    ]
    for name, r in results["backends"].items():
        if r["status"] != "ok":
            lines.append(f"{name:7}  {'-':>8}  {'-':>7}  skipped: {r['reason']}")
            continue
        notes = []
        if "threads" in r:
            notes.append(f"{r['threads']} thread(s), torch {r['version']}")
        if "params_rms" in r:
            notes.append(f"parameters' rms after training {r['params_rms']:.6f}")
        row = f"{name:7}  {r['seconds_per_epoch']:8.2f}  {r['gflops']:7.1f}"
        lines.append(f"{row}  {'; '.join(notes)}".rstrip())
    if "ratio" in results:
        lines.append(f"PyTorch takes {results['ratio']:.2f}x as long as Numba")
    return "\n".join(lines)
