"""Chapter 2's experiments: how fast backpropagation is, measured.

Chapter 2 trains nothing; its two quantitative claims are about speed (see
http://neuralnetworksanddeeplearning.com/chap2.html, "In what sense is
backpropagation a fast algorithm?"):

* ``ch2.finite_diff_vs_backprop``: estimating the gradient by finite
  differences (eq. 46) needs one extra forward pass per parameter, while
  backprop costs about two passes in all;
* ``ch2.matrix_speedup``: backprop over a whole mini-batch as one matrix ran
  "about a factor of two" faster than looping over the mini-batch, on the
  author's laptop, for the chapter 1 MNIST networks.

Both return wall-clock timings, which vary from run to run and machine to
machine; the page says so.
"""

import time
from dataclasses import dataclass

import numpy as np

from ..data import load_mnist
from ..gradient_check import numerical_gradient, relative_error
from ..network import Network
from ..per_example import update_mini_batch_per_example
from ..training import minibatches
from . import BookFigure, Profile, experiment
from .runs import blas_threads, one_blas_thread

SECTION_FAST = "chap2, 'In what sense is backpropagation a fast algorithm?'"
SECTION_CODE = (
    "chap2, 'The code for backpropagation' (problem: fully matrix-based approach)"
)


def best_time(fn, repeats=5, min_seconds=0.02):
    """Smallest wall-clock time of one call of ``fn``, in seconds.

    Each of ``repeats`` rounds calls ``fn`` often enough to last at least
    ``min_seconds`` (so that timer resolution does not matter) and divides by
    the number of calls; the minimum over rounds is the least disturbed by
    whatever else the machine was doing.
    """
    number = 1
    while True:  # calibrate: how many calls make one round long enough?
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            break
        number *= 2 if elapsed == 0 else max(2, int(1.2 * min_seconds / elapsed))
    best = elapsed / number
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


@dataclass(frozen=True)
class FiniteDiffParams:
    """Networks ``[n_in, h, n_out]`` for each hidden width ``h``, one input each."""

    hidden: tuple
    n_in: int = 784
    n_out: int = 10
    eps: float = 1e-6
    repeats: int = 5


def _fd_profiles():
    full = FiniteDiffParams(hidden=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
    return {
        "ci": Profile(
            FiniteDiffParams(hidden=(1, 2, 4, 8, 16), repeats=3),
            "small: hidden widths 1 to 16 (up to 12,730 parameters)",
        ),
        "default": Profile(
            FiniteDiffParams(hidden=(1, 2, 4, 8, 16, 32, 64, 128)),
            "hidden widths 1 to 128 (up to 101,770 parameters)",
        ),
        "full": Profile(full, "hidden widths 1 to 512 (up to 407,050 parameters)"),
    }


@experiment(
    "ch2.finite_diff_vs_backprop",
    title="One example's gradient: finite differences (eq. 46) against backprop",
    profiles=_fd_profiles(),
    book=BookFigure(
        2.0,
        "backprop costs about as much as two forward passes; finite "
        "differences need one forward pass per weight plus one",
        "(timing)",
        SECTION_FAST,
        unit="x",
    ),
)
def finite_diff_vs_backprop(params, seed, progress=None):
    """Time forward pass, backprop and forward differences for growing networks.

    For each hidden width the input is one random image-like vector (uniform
    in [0, 1)) with a one-hot desired output; the values do not affect the
    timings. Finite differences use eq. (46) over every weight *and* bias:
    one forward pass for :math:`C(w)` plus one per parameter. All timing runs
    on one BLAS thread (see :func:`~nndl_core.experiments.runs.one_blas_thread`).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for done, h in enumerate(params.hidden):
        net = Network([params.n_in, h, params.n_out], seed=seed)
        x = rng.random((params.n_in, 1))
        y = np.zeros((params.n_out, 1))
        y[rng.integers(params.n_out)] = 1.0
        with one_blas_thread():
            row = _time_gradients(net, x, y, params)
        rows.append({"hidden": h, **row})
        if progress is not None:
            progress(done + 1, len(params.hidden))
    # the ledger compares the smallest network's cost with the book's "about two"
    headline = rows[0]["backprop_in_forward_passes"]
    return {"rows": rows, "blas_threads": blas_threads(), "headline": headline}


def _time_gradients(net, x, y, params):
    """One row of ``ch2.finite_diff_vs_backprop`` for one network and input."""

    def cost():
        return net.cost.fn(net.feedforward(x), y)

    def finite_differences():
        params_list = net.biases + net.weights
        return numerical_gradient(cost, params_list, params.eps, "forward")

    t_forward = best_time(cost, params.repeats)
    t_backprop = best_time(lambda: net.backprop(x, y), params.repeats)
    start = time.perf_counter()
    fd_gradient = finite_differences()
    t_fd = time.perf_counter() - start
    if t_fd < 1.0:  # cheap enough to repeat; keep the best round
        t_fd = min(t_fd, best_time(finite_differences, params.repeats, 0.0))
    nabla_b, nabla_w = net.backprop(x, y)
    return {
        "n_params": sum(p.size for p in net.weights + net.biases),
        "t_forward": t_forward,
        "t_backprop": t_backprop,
        "t_finite_diff": t_fd,
        "speedup": t_fd / t_backprop,
        "backprop_in_forward_passes": t_backprop / t_forward,
        "finite_diff_error": relative_error(
            fd_gradient, nabla_b + nabla_w, scale=abs(cost())
        ),
    }


@dataclass(frozen=True)
class MatrixSpeedupParams:
    """Time one pass of SGD updates, loop over examples against one matrix."""

    sizes: tuple = ((784, 30, 10), (784, 100, 10))
    mini_batch_size: int = 10
    n_train: int = 50_000
    eta: float = 3.0
    repeats: int = 3
    subset: bool = False  # the small MNIST copy shipped with the package (for tests)


def _matrix_profiles():
    book = MatrixSpeedupParams()
    return {
        "ci": Profile(
            MatrixSpeedupParams(sizes=((784, 30, 10),), n_train=2_000, repeats=2),
            "small: the 30-hidden network only, 200 mini-batches of 10",
        ),
        "default": Profile(
            book,
            "the book's problems: one epoch (5,000 mini-batches of 10) "
            "for each chapter 1 network",
        ),
        "full": Profile(
            book,
            "the book's problems: one epoch (5,000 mini-batches of 10) "
            "for each chapter 1 network",
        ),
    }


@experiment(
    "ch2.matrix_speedup",
    title="Mini-batch backprop as one matrix against a loop over the examples",
    profiles=_matrix_profiles(),
    book=BookFigure(
        2.0,
        "about a factor of two (the author's laptop)",
        "(timing)",
        SECTION_CODE,
        unit="x",
    ),
)
def matrix_speedup(params, seed, progress=None):
    """Seconds per mini-batch update for both forms, and their ratio.

    Both forms see the same shuffled MNIST mini-batches and start from the
    same weights. Each repeat times a full pass of the loop form
    (:func:`~nndl_core.per_example.update_mini_batch_per_example`) and then of
    the matrix form (:meth:`~nndl_core.network.Network.update_mini_batch`); the
    fastest repeat of each is kept. Two parameter differences are recorded:
    after one update (rounding only: the forms compute the same thing) and
    after the whole pass (where SGD may have amplified those rounding
    differences).
    """
    training = load_mnist(subset=params.subset).training
    images = training.images[: params.n_train]
    labels = training.labels[: params.n_train]
    rng = np.random.default_rng(seed)
    batches = list(minibatches(images, labels, params.mini_batch_size, rng))
    rows = []
    for done, sizes in enumerate(params.sizes):
        loop_net, matrix_net = Network(sizes, seed=seed), Network(sizes, seed=seed)
        update_mini_batch_per_example(loop_net, *batches[0], params.eta)
        matrix_net.update_mini_batch(*batches[0], params.eta)
        first_step = _largest_difference(loop_net, matrix_net)
        loop_times, matrix_times = [], []
        with one_blas_thread():
            for _ in range(params.repeats):
                loop_net = Network(sizes, seed=seed)
                matrix_net = Network(sizes, seed=seed)
                start = time.perf_counter()
                for x, y in batches:
                    update_mini_batch_per_example(loop_net, x, y, params.eta)
                loop_times.append((time.perf_counter() - start) / len(batches))
                start = time.perf_counter()
                for x, y in batches:
                    matrix_net.update_mini_batch(x, y, params.eta)
                matrix_times.append((time.perf_counter() - start) / len(batches))
        rows.append({
            "sizes": list(sizes), "n_batches": len(batches),
            "t_loop": min(loop_times), "t_matrix": min(matrix_times),
            "speedup": min(loop_times) / min(matrix_times),
            "first_step_difference": first_step,
            "after_pass_difference": _largest_difference(loop_net, matrix_net),
        })  # fmt: skip
        if progress is not None:
            progress(done + 1, len(params.sizes))
    # the ledger compares the chapter-1 network's speed-up with the book's
    headline = rows[0]["speedup"]
    return {"rows": rows, "blas_threads": blas_threads(), "headline": headline}


def _largest_difference(net_a, net_b):
    """Largest absolute difference between two networks' weights and biases."""
    return max(
        float(np.max(np.abs(p - q)))
        for p, q in zip(net_a.weights + net_a.biases, net_b.weights + net_b.biases)
    )
