"""Numba kernels for the fully connected networks of chapters 1-3 (and 5).

Used by :class:`nndl_core.network.Network` and :func:`nndl_core.trainer.train`
with ``backend="numba"``: sigmoid, tanh or ReLU hidden neurons; sigmoid output
neurons with the quadratic or cross-entropy cost, or softmax output neurons
with the log-likelihood cost. Each kernel mirrors a piece of the readable
reference, and the tests under ``tests/kernels/dense/`` check that they agree.
The modules, from the bottom up:

* :mod:`~nndl_core.kernels.dense.neurons`: the codes of the neurons and costs,
  and the neurons themselves;
* :mod:`~nndl_core.kernels.dense.layout`: parameters and workspace packed
  into flat buffers, and their accessors;
* :mod:`~nndl_core.kernels.dense.sparse`: the nonzero inputs each layer
  reads, listed once per data set (:func:`to_sparse`) or per mini-batch;
* :mod:`~nndl_core.kernels.dense.layer`: one layer's forward pass and
  BP1-BP4, in explicit vectors;
* :mod:`~nndl_core.kernels.dense.passes`: the whole network's passes, and
  :func:`feedforward` / :func:`backprop`, which mirror ``Network``'s;
* :mod:`~nndl_core.kernels.dense.steps`: one mini-batch's SGD step;
* :mod:`~nndl_core.kernels.dense.threads`: plain SGD's epoch on one thread
  or two, bit for bit the same;
* :mod:`~nndl_core.kernels.dense.momentum`: the epoch with momentum;
* :mod:`~nndl_core.kernels.dense.epoch`: :func:`train_epoch`, which checks,
  packs and runs one of the two epochs.

The names below are the ones the rest of the library uses.
"""

from .epoch import train_epoch
from .layout import pack, unpack
from .neurons import check_supported, cost_code
from .passes import backprop, feedforward
from .sparse import SparseImages, to_sparse

__all__ = [
    "SparseImages",
    "backprop",
    "check_supported",
    "cost_code",
    "feedforward",
    "pack",
    "to_sparse",
    "train_epoch",
    "unpack",
]
