"""The neurons and costs the dense kernels know: their codes, and the neurons.

A network reaches the kernels as integer codes (:data:`ACTIVATIONS` per
weight layer, :data:`COSTS` for the cost); :func:`check_supported` refuses,
with a message that says what to use instead, a network they cannot run.
The neurons are computed as :mod:`nndl_core.activations` computes them, one
padded row of a layer at a time.
"""

import numpy as np
from numba import njit

from .._options import NJIT_OPTIONS
from ..elementwise import exp_nonpositive

__all__ = ["ACTIVATIONS", "COSTS", "check_supported", "cost_code"]


#: Codes of the costs the kernels know (``cost.name`` -> int).
COSTS = {"quadratic": 0, "cross_entropy": 1, "log_likelihood": 2}


QUADRATIC = COSTS["quadratic"]


#: Codes of the neurons the kernels know (``Network.activation`` and
#: ``Network.output_activation`` -> int).
ACTIVATIONS = {"sigmoid": 0, "tanh": 1, "relu": 2, "softmax": 3}


SIGMOID, TANH, RELU, SOFTMAX = (ACTIVATIONS[k] for k in ACTIVATIONS)


@njit(**NJIT_OPTIONS)
def _sigmoid(z):
    """Scalar sigmoid, computed as ``activations.sigmoid`` computes it.

    ``e = exp(-|z|)`` (:func:`~nndl_core.kernels.elementwise.exp_nonpositive`,
    within an ulp of ``np.exp``) never overflows; then ``1/(1+e)`` for ``z >= 0`` and
    ``e/(1+e)`` for ``z < 0``. Both quotients come from one ``exp``, so the
    choice compiles to a select instead of a branch that mispredicts half
    the time.
    """
    e = exp_nonpositive(-abs(z))
    return (1.0 if z >= 0.0 else e) / (1.0 + e)


@njit(**NJIT_OPTIONS)
def _activate(z, n_out, code):
    """``z[:n_out] = activation(z[:n_out])`` in place, for one example.

    As ``activations.py``: the stable sigmoid, ``tanh``, ``max(z, 0)`` (NaN
    stays NaN, as in ``np.maximum``), and softmax with the maximum
    subtracted first. ``z`` is a padded row (its length a multiple of
    ``LANES``, zeros past ``n_out``): the elementwise neurons run over the
    whole row, in whole vectors with no scalar remainder, and the padding is
    zero again afterwards (the sigmoid of 0 is 1/2).
    """
    if code == SIGMOID:
        for j in range(z.shape[0]):
            z[j] = _sigmoid(z[j])
        z[n_out:] = 0.0
    elif code == TANH:
        for j in range(n_out):
            z[j] = np.tanh(z[j])
    elif code == RELU:
        for j in range(z.shape[0]):
            z[j] = 0.0 if z[j] <= 0.0 else z[j]
    else:  # SOFTMAX
        largest = z[0]
        for j in range(1, n_out):
            largest = max(largest, z[j])
        total = 0.0
        for j in range(n_out):
            z[j] = exp_nonpositive(z[j] - largest)
        for j in range(n_out):  # a separate loop: the one above vectorizes
            total += z[j]
        for j in range(n_out):
            z[j] = z[j] / total


@njit(**NJIT_OPTIONS)
def _derivative(a, code):
    """The activation's derivative at ``z``, from its output ``a`` (hidden layers).

    ``sigmoid_prime(z) = a(1 - a)``, ``tanh_prime(z) = 1 - a*a`` and
    ``relu_prime(z) = 1 if a > 0 else 0``, computed as the references compute
    them from ``z``.
    """
    if code == SIGMOID:
        return a * (1.0 - a)
    if code == TANH:
        return 1.0 - a * a
    return 1.0 if a > 0.0 else 0.0


def _codes(net):
    """Activation codes of the weight layers, and refuse what has no kernel."""
    hidden, output = net.activation, net.output_activation
    for name in (hidden, output):
        if name not in ACTIVATIONS:
            raise NotImplementedError(
                f"the numba backend has no kernel for {name!r} neurons "
                f"(it has {sorted(ACTIVATIONS)}); use backend='numpy'"
            )
    if hidden == "softmax" or output not in ("sigmoid", "softmax"):
        raise NotImplementedError(
            f"the numba backend runs softmax only as the output layer and "
            f"sigmoid or softmax output neurons, not {hidden!r} hidden and "
            f"{output!r} output neurons; use backend='numpy'"
        )
    n_weight_layers = len(net.sizes) - 1
    codes = [ACTIVATIONS[hidden]] * (n_weight_layers - 1) + [ACTIVATIONS[output]]
    return np.array(codes, dtype=np.int64)


def cost_code(net):
    """The kernels' code for ``net.cost``; refuse costs they do not know."""
    name = getattr(net.cost, "name", None)
    if name not in COSTS:
        raise NotImplementedError(
            f"the numba backend has no kernel for the cost {name!r} "
            f"(it has {sorted(COSTS)}); use backend='numpy'"
        )
    if name == "quadratic" and net.output_activation != "sigmoid":
        raise NotImplementedError(
            "the numba backend computes the quadratic cost's delta for sigmoid "
            "output neurons only; use backend='numpy'"
        )
    return COSTS[name]


def check_supported(net):
    """Raise ``NotImplementedError`` unless the kernels can run ``net``.

    They run sigmoid, tanh and ReLU hidden neurons; sigmoid outputs with the
    quadratic or cross-entropy cost; softmax outputs with the log-likelihood
    cost (or the cross-entropy's delta ``a - y``).
    """
    _codes(net)
    cost_code(net)
