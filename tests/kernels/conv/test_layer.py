"""The chapter-6 conv-pool kernels equal the readable references.

Conv-pool layers against ``nndl_core.conv``: forward outputs and all
gradients, over shapes with odd sizes, several channels, a batch of 1, 1x1
filters, borders that pooling ignores, the book's two layers, and real
MNIST digits; for every activation. The dense and softmax layers' kernels
are tested in ``tests/kernels/test_layers.py``.

Tolerances. float64: ``rtol=1e-12`` with ``atol="scaled"`` (1e-12 times the
array's largest entry): the kernels sum in another order than ``einsum``, so
they agree to rounding (seen: below 1e-14), and a gradient entry that
cancels to nearly zero carries rounding relative to the array's scale.
float32 (the training fast path): ``rtol=2e-5`` scaled, against the float64
reference.
"""

import numpy as np
import pytest

from nndl_core import conv
from nndl_core._testing import assert_matches_reference
from nndl_core.data import load_mnist
from nndl_core.kernels.conv import layer as kernels

RTOL = 1e-12
RTOL_FLOAT32 = 2e-5
ACTIVATIONS = ("sigmoid", "relu", "tanh", "linear")

# name: (m, c, h, w, f, k, pool)
SHAPES = {
    "batch of 1, 1 channel": (1, 1, 6, 6, 1, 3, 2),
    "odd sizes, border ignored": (3, 2, 9, 7, 3, 2, 2),
    "several channels, odd maps": (2, 3, 8, 8, 5, 3, 2),
    "1x1 filters, pool 3": (2, 4, 7, 7, 3, 1, 3),
    "no pooling": (2, 2, 5, 6, 3, 3, 1),
    "book layer 1": (10, 1, 28, 28, 20, 5, 2),
    "book layer 2": (4, 20, 12, 12, 40, 5, 2),
}


def _cases(seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    for name, (m, c, h, w, f, k, pool) in SHAPES.items():
        x = rng.standard_normal((m, c, h, w)).astype(dtype)
        weights = (rng.standard_normal((f, c, k, k)) / k).astype(dtype)
        b = rng.standard_normal(f).astype(dtype)
        yield name, x, weights, b, pool


@pytest.fixture(scope="module")
def digits():
    images = load_mnist(subset=True).training.images[:10]
    return images.reshape(10, 1, 28, 28)


def test_conv2d_forward_matches_reference(seed, digits):
    cases = [(name, (x, w, b)) for name, x, w, b, _ in _cases(seed)]
    w = np.random.default_rng(seed).standard_normal((4, 1, 5, 5))
    cases.append(("mnist", (digits, w, np.zeros(4))))
    assert_matches_reference(
        kernels.conv2d_forward, conv.conv2d_forward, cases, rtol=RTOL, atol="scaled"
    )


def test_conv2d_backward_matches_reference(seed):
    rng = np.random.default_rng(seed)
    cases = []
    for name, x, w, b, _ in _cases(seed):
        delta = rng.standard_normal(conv.conv2d_forward(x, w, b).shape)
        cases.append((name, (x, w, delta)))
    assert_matches_reference(
        kernels.conv2d_backward, conv.conv2d_backward, cases, rtol=RTOL, atol="scaled"
    )


def test_maxpool_matches_reference(seed):
    rng = np.random.default_rng(seed)
    for name, x, _, _, pool in _cases(seed):
        expected, expected_switches = conv.maxpool_forward(x, pool)
        actual, switches = kernels.maxpool_forward(x, pool)
        np.testing.assert_array_equal(actual, expected, err_msg=name)
        np.testing.assert_array_equal(switches, expected_switches, err_msg=name)
        delta = rng.standard_normal(expected.shape)
        np.testing.assert_array_equal(
            kernels.maxpool_backward(delta, switches, pool, x.shape),
            conv.maxpool_backward(delta, switches, pool, x.shape),
            err_msg=name,
        )


def test_maxpool_ties_go_to_the_first_maximum():
    z = np.zeros((1, 1, 2, 2))
    for impl in (conv, kernels):
        _, switches = impl.maxpool_forward(z, 2)
        assert switches[0, 0, 0, 0] == 0


def _fused(impl, activation, need_input_grad):
    def run(x, w, b, pool, delta_seed):
        a, cache = impl.conv_pool_forward(x, w, b, activation, pool)
        delta = np.random.default_rng(delta_seed).standard_normal(a.shape)
        delta = delta.astype(x.dtype)
        grads = impl.conv_pool_backward(
            delta, cache, w, activation, pool, need_input_grad
        )
        return [a, *(g for g in grads if g is not None)]

    return run


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("need_input_grad", [True, False])
def test_conv_pool_matches_reference(seed, activation, need_input_grad):
    cases = [(name, (x, w, b, pool, seed)) for name, x, w, b, pool in _cases(seed)]
    assert_matches_reference(
        _fused(kernels, activation, need_input_grad),
        _fused(conv, activation, need_input_grad),
        cases,
        rtol=RTOL,
        atol="scaled",
    )


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_float32_fast_path_matches_float64_reference(seed, activation):
    for name, x, w, b, pool in _cases(seed):
        expected = _fused(conv, activation, True)(x, w, b, pool, seed)
        actual = _fused(kernels, activation, True)(
            x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), pool, seed
        )
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert a.dtype == np.float32
            if activation == "relu" and i > 0:
                # a float32 rounding can flip a pooled winner or a ReLU at
                # exactly 0; compare where both paths agree on the winners
                same = np.isclose(actual[0], expected[0], atol=1e-4).all()
                if not same:
                    continue
            np.testing.assert_allclose(
                a,
                e,
                rtol=RTOL_FLOAT32,
                atol=RTOL_FLOAT32 * np.abs(e).max(),
                err_msg=f"{name}[{i}]",
            )


def test_results_never_share_memory_with_the_kernels_workspace(seed):
    """The wrappers reuse temporaries; what they return must be fresh arrays."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, 6, 6))  # a batch of 1: a transpose is a view
    w, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    first = kernels.conv2d_forward(x, w, b)
    kernels.conv2d_forward(2 * x, w, b)
    np.testing.assert_allclose(first, conv.conv2d_forward(x, w, b), rtol=RTOL)
