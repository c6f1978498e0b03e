"""Gradient checking: backpropagation against finite differences.

Used in chap2 (section "The code for backpropagation" runs it on random
networks, and "In what sense is backpropagation a fast algorithm?" times
finite differences against backprop) and by the tests of every cost and
activation function. One piece of code serves both the page and the tests.

The idea is the book's eq. (46): nudge one parameter by a small ``eps``,
recompute the cost, and divide the change in the cost by ``eps``. That costs
one or two forward passes *per parameter*, which is why nobody trains this
way, but it needs nothing except the cost function itself, so it is an
independent witness for the gradient that backprop returns.
"""

import numpy as np

__all__ = ["check_gradients", "numerical_gradient", "relative_error"]

METHODS = ("central", "forward")


def numerical_gradient(f, params, eps=1e-6, method="central"):
    r"""Finite-difference estimate of the gradient of ``f`` over a list of arrays.

    For each entry :math:`p` of each array the estimate is

    * ``"central"``: :math:`\bigl(f(p + \epsilon) - f(p - \epsilon)\bigr) / 2\epsilon`,
      whose error shrinks like :math:`\epsilon^2` (two calls of ``f`` per entry);
    * ``"forward"``: :math:`\bigl(f(p + \epsilon) - f(p)\bigr) / \epsilon`, the
      book's eq. (46), whose error shrinks only like :math:`\epsilon` (one call
      per entry plus one for :math:`f(p)`).

    Parameters
    ----------
    f : callable
        Called with no arguments; returns a float. It must read the arrays in
        ``params`` (for a network: ``lambda: net.cost.fn(net.feedforward(x), y)``
        with ``params = net.biases + net.weights``).
    params : list of ndarray
        Float64 arrays that ``f`` depends on. Each entry is changed in place
        while its partial derivative is estimated, then restored exactly.
    eps : float
        Step size. With float64 and ``"central"``, 1e-6 balances the truncation
        error (about ``eps**2``) against rounding error (about 1e-16 / ``eps``).
    method : {"central", "forward"}

    Returns
    -------
    list of ndarray
        One array per entry of ``params``, of the same shape.

    Examples
    --------
    The gradient of :math:`f(p) = \sum p^2` is :math:`2p`:

    >>> p = np.array([1.0, -2.0, 0.5])
    >>> (grad,) = numerical_gradient(lambda: float(np.sum(p**2)), [p])
    >>> print(grad.round(6))
    [ 2. -4.  1.]
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    for p in params:
        if not (isinstance(p, np.ndarray) and p.dtype == np.float64):
            raise TypeError(
                "numerical_gradient perturbs the arrays in place: pass float64 "
                f"ndarrays, got {type(p).__name__} of dtype {getattr(p, 'dtype', '?')}"
            )
    f_here = f() if method == "forward" else None  # eq. (46) needs C(w) once
    grads = []
    for p in params:
        grad = np.empty_like(p)
        flat = p.reshape(-1)  # a view: writing flat[i] writes p
        grad_flat = grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            try:
                flat[i] = original + eps
                f_plus = f()
                if method == "central":
                    flat[i] = original - eps
                    grad_flat[i] = (f_plus - f()) / (2 * eps)
                else:
                    grad_flat[i] = (f_plus - f_here) / eps
            finally:
                flat[i] = original  # restore exactly, even if f raised
        grads.append(grad)
    return grads


def relative_error(expected, actual, scale=0.0):
    r"""Largest entrywise relative difference between two lists of arrays.

    .. math::

       \max_i \frac{|e_i - a_i|}{\max(|e_i|,\ |a_i|,\ s)}

    over every entry :math:`i` of every array, where :math:`s` is ``scale``.
    Entries whose numerator and denominator are both zero count as 0; a NaN or
    infinity anywhere gives ``inf``.

    Why the floor :math:`s`? A plain relative error :math:`|e-a|/|e|` breaks
    down for the tiny gradients of saturated neurons: finite differences of a
    cost :math:`C` carry rounding noise of roughly
    :math:`10^{-16}|C|/\epsilon \approx 10^{-10}|C|`, so an entry of size
    :math:`10^{-13}` cannot be resolved at all (its numerical estimate is often
    exactly 0, a "relative error" of 1). :func:`check_gradients` therefore
    passes :math:`s = |C|`: entries much larger than the cost are compared
    relatively, smaller ones relative to the cost itself, which is the scale
    of the noise. A wrong gradient still shows up unless it is wrong by less
    than about :math:`10^{-7}|C|`, below what finite differences can see.

    Parameters
    ----------
    expected, actual : list of ndarray
        Matching shapes.
    scale : float
        The floor :math:`s \ge 0` of the denominator.

    Returns
    -------
    float

    Examples
    --------
    >>> e, a = [np.array([1.0, 1e-12])], [np.array([1.001, 0.0])]
    >>> print(f"{relative_error(e, a):.1e} {relative_error(e, a, scale=1.0):.1e}")
    1.0e+00 1.0e-03
    """
    if len(expected) != len(actual):
        raise ValueError(
            f"got {len(expected)} expected arrays but {len(actual)} actual ones"
        )
    worst = 0.0
    for e, a in zip(expected, actual):
        e, a = np.asarray(e, dtype=np.float64), np.asarray(a, dtype=np.float64)
        if e.shape != a.shape:
            raise ValueError(f"shape mismatch: expected {e.shape}, actual {a.shape}")
        if not (np.isfinite(e).all() and np.isfinite(a).all()):
            return float("inf")  # a NaN must never pass a check
        difference = np.abs(e - a)
        denominator = np.maximum(np.maximum(np.abs(e), np.abs(a)), scale)
        ratio = np.divide(
            difference,
            denominator,
            out=np.zeros_like(difference),
            where=denominator > 0,
        )  # 0/0 (both entries 0) counts as 0
        if ratio.size:
            worst = max(worst, float(ratio.max()))
    return worst


def check_gradients(net, x, y, eps=1e-6):
    r"""Compare ``net.backprop`` with central differences of the cost; return the error.

    The cost is ``net.cost.fn(net.feedforward(x), y)``, summed over the
    columns of ``x`` exactly as ``net.backprop`` sums its gradients. Every
    weight and bias is perturbed in turn (and restored), so this costs
    :math:`2P` forward passes for :math:`P` parameters: use small networks.

    The backprop side is whatever ``net.backprop`` computes: BP1 (see chap2,
    eq. ch2-bp1) for the output error, BP2 (eq. ch2-bp2) to move it back
    through the layers, then BP3 (eq. ch2-bp3) and BP4 (eq. ch2-bp4) for the
    gradients. Any cost with the ``fn``/``delta`` interface can be checked.

    Parameters
    ----------
    net : Network
        Any object with ``biases``, ``weights`` (lists of float64 arrays),
        ``feedforward``, ``backprop`` and ``cost``.
    x : ndarray of shape (n_in,) or (n_in, m)
        Inputs, one example per column.
    y : ndarray of shape (n_out,) or (n_out, m)
        Desired outputs.
    eps : float
        Step of the central differences.

    Returns
    -------
    float
        :func:`relative_error` between the two gradients with the floor
        ``scale = |C|``: below 1e-7 for a correct backprop in float64 (the
        tests assert this over many random networks).

    Examples
    --------
    >>> from nndl_core.network import Network
    >>> net = Network([3, 4, 2], seed=1)
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal((3, 5)), rng.random((2, 5))
    >>> check_gradients(net, x, y) < 1e-7
    True
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)  # one example becomes one column
    y = y.reshape(y.shape[0], -1)
    nabla_b, nabla_w = net.backprop(x, y)
    params = list(net.biases) + list(net.weights)

    def cost():
        return net.cost.fn(net.feedforward(x), y)

    numerical = numerical_gradient(cost, params, eps=eps, method="central")
    return relative_error(numerical, list(nabla_b) + list(nabla_w), scale=abs(cost()))
