"""The arithmetic bound: how fast an epoch could be if arithmetic were all.

One core's peak rate (:func:`measure_peak_flops`, timing the loop of fused
multiply-adds ``nndl_core.kernels.peak.multiply_add``) and the
floating-point work of an SGD epoch of a fully connected network counted
from the equations (:func:`flops_per_epoch`); their quotient
(:func:`arithmetic_bound`) is given for the dense work (what a dense
implementation such as PyTorch's does) and for the work left once the zero
pixels are skipped (what the Numba kernels do).
"""

import time

import numpy as np

__all__ = ["arithmetic_bound", "flops_per_epoch", "measure_peak_flops"]


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

    The best of ``repeats`` runs of ``nndl_core.kernels.peak.multiply_add``
    (float64 fused multiply-adds, counted as two flops each, kept in vector
    registers, as many as the core's units can take per cycle). The best run
    is the one least disturbed by other jobs on a shared machine.
    """
    from ..kernels import peak

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
