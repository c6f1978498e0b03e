"""One mini-batch's step, layer by layer: the Numba kernels SGD's epochs share.

Used by the epochs of :mod:`nndl_core.kernels.dense.threads` (plain SGD) and
:mod:`nndl_core.kernels.dense.momentum`, which
``tests/kernels/dense/test_epoch.py`` checks against the readable references.

Two ways to step
----------------
* Plain SGD (``mu = 0``), fused (:func:`dense_sgd_step`): the weight
  penalty first shrinks every weight (L2: ``w -> (1 - eta*lmbda/n) w``; L1:
  ``w -> w - eta (lmbda/n) sgn(w)``), then each example's gradient goes
  straight into the weights, ``w_t[k] -= (eta/m) a_k delta``, for its
  nonzero inputs ``k`` only; no gradient is stored.

  L2's shrinking would touch every weight in every step, about as much
  work as the rest of the step. Instead a layer's weights are kept as a
  scale times the stored ones, ``w = s * w_t.T`` (the trick of sparse SGD
  solvers such as Bottou's ``svmsgd``): shrinking multiplies ``s`` by the
  decay, a gradient step subtracts ``(eta/m)/s`` times the gradient from
  ``w_t``, and ``s`` is folded back into ``w_t`` when it leaves [0.5, 2]
  and at the end of the epoch. That only changes where rounding happens.
* Momentum (``mu > 0``, :func:`momentum_step`): every weight moves in
  every step, so the summed gradient is stored (``dense_backward``) and
  each parameter then does exactly what ``sgd_step`` does,
  ``v -> mu v - eta (nabla/m + penalty')``, ``w -> w + v``
  (``momentum.momentum_epoch_kernel``, on one thread).
"""

from collections import namedtuple

import numpy as np
from numba import njit

from .._options import NJIT_INLINE_OPTIONS, NJIT_OPTIONS
from .layer import _add_to_rows
from .layout import biases, block, hidden_input, weights_t
from .passes import backpropagate, output_delta
from .sparse import batch_rows, prefetch_rows

__all__ = ["PENALTIES", "Rule", "dense_sgd_step", "momentum_step"]

#: Codes of the weight penalties (``regularization`` argument -> int).
PENALTIES = {"l2": 0, "l1": 1}
L2 = PENALTIES["l2"]

Rule = namedtuple("Rule", ["eta", "lmbda_n", "penalty", "decay", "mu", "cost"])
Rule.__doc__ = """How one mini-batch step changes the parameters.

``eta`` the learning rate; ``lmbda_n`` is ``lmbda / n`` and ``penalty`` its
kind (``PENALTIES``); ``decay = 1 - eta * lmbda / n`` as ``update_mini_batch``
computes it; ``mu`` the momentum coefficient (0: plain SGD); ``cost`` the
cost's code (``neurons.COSTS``).
"""


# --- one layer's step -------------------------------------------------------------


@njit(**NJIT_OPTIONS)
def _rescale(w_t, scale):
    """``w_t *= scale``: fold a layer's scale into its stored weights."""
    for k in range(w_t.shape[0]):
        for j in range(w_t.shape[1]):
            w_t[k, j] = scale * w_t[k, j]


@njit(**NJIT_OPTIONS)
def _decay_scale(scales, l, rule):
    """L2's decay of weight layer ``l``'s scale; returns what to fold in now.

    ``w -> decay * w`` (``update_mini_batch``) changes only the layer's
    scale, ``scales[l] *= decay`` (the weights are ``scales[l] * w_t.T``,
    see the module docstring). When the scale leaves [0.5, 2] it is folded
    into the stored weights, so that it never underflows: this returns the
    factor to multiply them by (and the scale is 1 again); 1.0 otherwise,
    and always for L1.
    """
    if rule.penalty != L2:
        return 1.0
    scales[l] = rule.decay * scales[l]
    if 0.5 <= abs(scales[l]) <= 2.0:
        return 1.0
    fold, scales[l] = scales[l], 1.0
    return fold


@njit(**NJIT_OPTIONS)
def _penalize_rows(w_t, fold, rule):
    """The weight penalty's work on the stored rows ``w_t`` (all or some of a layer).

    L2: multiply by ``fold`` (:func:`_decay_scale`) unless it is 1. L1,
    ``w -> w - eta (lmbda/n) sgn(w)`` with sgn(0) = 0 (``sgd_step``), changes
    every weight. The padding columns are zero and stay zero.
    """
    if fold != 1.0:
        _rescale(w_t, fold)
    if rule.penalty != L2 and rule.lmbda_n != 0.0:
        for k in range(w_t.shape[0]):
            for j in range(w_t.shape[1]):
                w_t[k, j] = w_t[k, j] - rule.eta * (rule.lmbda_n * np.sign(w_t[k, j]))


@njit(**NJIT_OPTIONS)
def _step_biases(b, delta, step):
    """``b -= step * sum_e delta[e]``: BP3 summed over the mini-batch, then the step."""
    for j in range(b.shape[0]):
        nabla_b = 0.0
        for e in range(delta.shape[0]):
            nabla_b += delta[e, j]
        b[j] = b[j] - step * nabla_b


@njit(**NJIT_OPTIONS)
def _step_weights(inputs, delta, w_t, step_w):
    """``w_t[k] -= (step_w * a_k(e)) * delta(e)`` for each example's nonzero inputs."""
    starts, stops, indices, values = inputs
    for e in range(delta.shape[0]):
        rows = indices[starts[e] : stops[e]]  # slices: no negative-index checks
        a_in = values[starts[e] : stops[e]]
        _add_to_rows(w_t, rows, a_in, -step_w, delta[e])


@njit(**NJIT_OPTIONS)
def dense_sgd_step(inputs, delta, w_t, b, scales, l, step, rule):
    """``dense_backward`` folded into a plain SGD step of weight layer ``l``, in place.

    ``update_mini_batch`` computes ``w -> decay * w - step * sum_e a_k(e)
    delta(e)`` (``step = eta/m``). Here the penalty comes first
    (:func:`_decay_scale`, :func:`_penalize_rows`), then each example's term
    is subtracted as soon as it is known, ``w_t[k] -= (step / scale * a_k(e))
    * delta(e)`` (:func:`_step_weights`), so no gradient is stored and only
    the rows of nonzero inputs are touched. That rounds differently from
    subtracting the sum once; the tests find the two within 1e-14 of each
    other after several epochs. The biases ``b`` are summed first and not
    penalized, as in the reference.
    """
    _step_biases(b, delta, step)
    _penalize_rows(w_t, _decay_scale(scales, l, rule), rule)
    _step_weights(inputs, delta, w_t, step / scales[l])  # step itself without L2


@njit(**NJIT_OPTIONS)
def momentum_step(params, velocities, nabla, layout, m, rule):
    """``sgd_step``'s update of every layer from the summed gradient ``nabla``.

    For weights ``v -> mu v - eta (nabla/m + penalty')`` with ``penalty' =
    (lmbda/n) w`` (L2) or ``(lmbda/n) sgn(w)`` (L1); for biases ``v -> mu v -
    eta nabla/m``; then ``w -> w + v`` and ``b -> b + v``: the reference's
    operations in the reference's order. ``params``, ``velocities`` and
    ``nabla`` share the layout of :func:`layout.pack`; ``nabla`` is left zeroed
    for the next mini-batch.
    """
    mu, eta, lmbda_n = rule.mu, rule.eta, rule.lmbda_n
    for l in range(layout.sizes.shape[0] - 1):
        w, v, g = (
            weights_t(params, layout, l),
            weights_t(velocities, layout, l),
            weights_t(nabla, layout, l),
        )
        for k in range(w.shape[0]):
            w_k, v_k, g_k = w[k], v[k], g[k]
            if rule.penalty == L2:  # one loop per penalty: both vectorize
                for j in range(w_k.shape[0]):
                    v_k[j] = mu * v_k[j] - eta * (g_k[j] / m + lmbda_n * w_k[j])
                    w_k[j] = w_k[j] + v_k[j]
                    g_k[j] = 0.0
            else:
                for j in range(w_k.shape[0]):
                    reg = lmbda_n * np.sign(w_k[j])
                    v_k[j] = mu * v_k[j] - eta * (g_k[j] / m + reg)
                    w_k[j] = w_k[j] + v_k[j]
                    g_k[j] = 0.0
        b, v, g = (
            biases(params, layout, l),
            biases(velocities, layout, l),
            biases(nabla, layout, l),
        )
        for j in range(b.shape[0]):
            v[j] = mu * v[j] - eta * (g[j] / m)
            b[j] = b[j] + v[j]
            g[j] = 0.0


# --- the whole network, one mini-batch ----------------------------------------


@njit(**NJIT_OPTIONS)
def backpropagate_upper_layers(params, layout, mask, y, rule, workspace):
    """BP1, then BP2 down through every weight layer but the first.

    Leaves each neuron layer's delta in the workspace, down to neuron layer
    1's; every layer passes its delta back with the weights from before the
    step (:func:`step_upper_layers` steps them afterwards).
    """
    m = y.shape[0]
    output_delta(layout, y, rule.cost, workspace)
    for l in range(layout.sizes.shape[0] - 2, 0, -1):
        backpropagate(params, layout, mask, l, m, workspace)


@njit(**NJIT_OPTIONS)
def step_upper_layers(params, layout, m, rule, workspace):
    """Plain SGD's step of every weight layer but the first (their deltas known).

    Each layer's step touches only its own parameters, so the steps may come
    after all of BP2 (:func:`backpropagate_upper_layers`): the same numbers
    as stepping each layer right after it passed its delta back.
    """
    for l in range(layout.sizes.shape[0] - 2, 0, -1):
        dense_sgd_step(
            hidden_input(workspace, layout, l, m),
            block(workspace.deltas, layout, l + 1, m),
            weights_t(params, layout, l),
            biases(params, layout, l),
            workspace.scales,
            l,
            rule.eta / m,
            rule,
        )


# --- a mini-batch's bookkeeping ------------------------------------------------


@njit(**NJIT_INLINE_OPTIONS)
def one_hot_batch(labels, order, start, y):
    """``y[e]`` = the one-hot desired output of example ``order[start + e]``."""
    y[:] = 0.0
    for e in range(y.shape[0]):
        y[e, labels[order[start + e]]] = 1.0


@njit(**NJIT_INLINE_OPTIONS)
def prefetch_next_batch(listed, batch, mini_batch_size, half):
    """Ask for half ``half`` (0 or 1) of the next mini-batch's listed pixels.

    Asked for in two halves, before the forward pass and before the step:
    all at once, the requests filled the queue of outstanding misses.
    """
    start = (batch + 1) * mini_batch_size
    middle = start + mini_batch_size // 2
    if half == 0:
        prefetch_rows(batch_rows(listed, start, middle))
    else:
        prefetch_rows(batch_rows(listed, middle, start + mini_batch_size))
