"""The dense benchmark's network trained in PyTorch, for the ``"torch"`` row.

A minimal PyTorch CPU version of ``Network.SGD``: the same sigmoid layers,
cost and update, in float64 like the other backends, from the same initial
weights and with the same shuffles, so that the only difference the
benchmark measures is the implementation. PyTorch is optional: the caller
imports it and passes the module in.
"""

import time

import numpy as np

from ..training import one_hot

__all__ = ["train_in_torch"]


def _torch_cost(torch, z, y, cost):
    """The mini-batch's cost summed over examples, from the output layer's ``z``."""
    if cost == "quadratic":
        return 0.5 * ((torch.sigmoid(z) - y) ** 2).sum()
    if cost == "cross_entropy":  # sigmoid outputs; gradient a - y, as BP1 says
        return torch.nn.functional.binary_cross_entropy_with_logits(
            z, y, reduction="sum"
        )
    raise ValueError(f"no PyTorch version of the cost {cost!r}")


def train_in_torch(torch, net, images, labels, config):
    """Train ``net``'s layers in PyTorch: sigmoid layers, the same cost, SGD with L2.

    The update is ``update_mini_batch``'s: ``w -> (1 - eta*lmbda/n) w -
    (eta/m) sum_x dC_x/dw``, biases not decayed.

    Parameters
    ----------
    torch : module
        The imported ``torch``.
    net : Network
        Holds the initial weights; the trained ones replace them.
    images : ndarray, shape (n, sizes[0])
    labels : ndarray of int, shape (n,)
    config : dict
        ``sizes``, ``cost``, ``eta``, ``lmbda``, ``mini_batch_size``,
        ``seed`` (of the shuffles), ``warmup_epochs`` and ``epochs``, as
        :func:`nndl_core.bench.dense.run_dense_benchmark` sets them.

    Returns
    -------
    list of float
        The seconds of each epoch, warm-up epochs first.
    """
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
    return seconds
