"""Helpers the tests share: compare a kernel with its reference, build fixtures.

The chain of trust is numbers -> readable reference -> kernel: the reference
(``network.py`` and friends) is checked against worked examples and finite
differences, and every Numba kernel is checked against the reference with
:func:`assert_matches_reference`, over several shapes and three value ranges
(:data:`VALUE_RANGES`).
"""

import numpy as np

__all__ = [
    "VALUE_RANGES",
    "assert_matches_reference",
    "make_inputs",
    "make_targets",
]

VALUE_RANGES = ("normal", "saturating", "zeros")


def assert_matches_reference(kernel, reference, cases, *, rtol=1e-12, atol=0.0):
    """Assert that ``kernel(*args)`` equals ``reference(*args)`` for every case.

    Parameters
    ----------
    kernel, reference : callable
        Called with the same arguments. They may return an array, a number,
        or nested lists/tuples of them (``(nabla_b, nabla_w)``, say); the
        structures must match and every leaf is compared with
        ``numpy.testing.assert_allclose(actual, expected, rtol, atol)``.
    cases : iterable of (label, args)
        ``label`` names the case in failure messages; ``args`` is a tuple.
        Each side gets its own deep copy of ``args``, so a kernel that works
        in place cannot change what the reference sees.
    rtol, atol : float
        Tolerances. ``atol`` may also be ``"scaled"``: ``rtol`` times the
        largest ``|expected|`` of each array, for sums that cancel to nearly
        zero (their rounding error is relative to the terms, not the result).

    Examples
    --------
    >>> assert_matches_reference(np.cumsum, lambda a: np.add.accumulate(a),
    ...                          [("three", (np.array([1.0, 2.0, 3.0]),))])
    """
    n_cases = 0
    for label, args in cases:
        n_cases += 1
        expected = reference(*_copy(args))
        actual = kernel(*_copy(args))
        _compare(actual, expected, rtol, atol, str(label))
    if n_cases == 0:
        raise ValueError("assert_matches_reference got no cases to compare")


def _copy(args):
    return tuple(
        a.copy() if isinstance(a, np.ndarray) else _copy_nested(a) for a in args
    )


def _copy_nested(value):
    if isinstance(value, list):
        return [_copy_nested(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _compare(actual, expected, rtol, atol, where):
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)), (
            f"{where}: kernel returned {type(actual).__name__}, "
            f"reference a {type(expected).__name__}"
        )
        assert len(actual) == len(expected), (
            f"{where}: kernel returned {len(actual)} items, reference {len(expected)}"
        )
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _compare(a, e, rtol, atol, f"{where}[{i}]")
        return
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (
        f"{where}: kernel shape {actual.shape}, reference shape {expected.shape}"
    )
    if isinstance(atol, str):
        if atol != "scaled":
            raise ValueError(f"atol must be a number or 'scaled', got {atol!r}")
        finite = np.abs(expected[np.isfinite(expected)])
        tolerance = rtol * finite.max() if finite.size else 0.0
    else:
        tolerance = atol
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=tolerance, err_msg=where
    )


def make_inputs(rng, n_in, batch, kind):
    """Inputs of shape (n_in, batch), one example per column, of a given kind.

    ``"normal"``: standard normal. ``"saturating"``: entries of magnitude
    30-700 divided by ``sqrt(n_in)``, so that with N(0, 1) weights the first
    layer's weighted inputs ``|z|`` are typically between about 30 and 700,
    where the sigmoid saturates and only a stable form avoids overflow.
    ``"zeros"``: standard normal with about 80% exact zeros, as in MNIST, and
    the first input zero in every example.

    Examples
    --------
    >>> x = make_inputs(np.random.default_rng(0), 4, 3, "zeros")
    >>> x.shape, bool((x[0] == 0).all())
    ((4, 3), True)
    """
    if kind == "normal":
        return rng.standard_normal((n_in, batch))
    if kind == "saturating":
        magnitude = rng.uniform(30.0, 700.0, (n_in, batch)) / np.sqrt(n_in)
        return rng.choice([-1.0, 1.0], (n_in, batch)) * magnitude
    if kind == "zeros":
        x = rng.standard_normal((n_in, batch))
        x[rng.random((n_in, batch)) < 0.8] = 0.0
        x[0] = 0.0
        return x
    raise ValueError(f"kind must be one of {VALUE_RANGES}, got {kind!r}")


def make_targets(rng, n_out, batch):
    """One-hot desired outputs of shape (n_out, batch) for random labels.

    Examples
    --------
    >>> make_targets(np.random.default_rng(0), 3, 2).sum(axis=0)
    array([1., 1.])
    """
    y = np.zeros((n_out, batch))
    y[rng.integers(0, n_out, batch), np.arange(batch)] = 1.0
    return y
