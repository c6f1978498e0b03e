"""The chapter-6 kernels equal the readable references.

Conv-pool layers against ``nndl_core.conv``: forward outputs and all
gradients, over shapes with odd sizes, several channels, a batch of 1, 1x1
filters, borders that pooling ignores, the book's two layers, and real
MNIST digits; for every activation. Dense and softmax layers against
``nndl_core.layers``: with and without dropout masks, at evaluation time,
over sizes from 1x1 to the book's 2880 -> 100, and batches that fill one
block of 16 examples, part of one, or more than one.

Tolerances. float64: ``rtol=1e-12`` with ``atol="scaled"`` (1e-12 times the
array's largest entry): the kernels sum in another order than ``einsum``, so
they agree to rounding (seen: below 1e-14), and a gradient entry that
cancels to nearly zero carries rounding relative to the array's scale.
float32 (the training fast path): ``rtol=2e-5`` scaled, against the float64
reference.
"""

import numpy as np
import pytest

from nndl_core import conv, layers
from nndl_core._testing import assert_matches_reference
from nndl_core.data import load_mnist
from nndl_core.kernels import conv as kernels

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


# --- the dense layers' kernels (FullyConnectedLayer, SoftmaxLayer) ---------------

# name: (n_in, n_out, m); LANES = 16 examples per block in the forward kernel
DENSE_SHAPES = {
    "1x1, batch of 1": (1, 1, 1),
    "odd sizes": (7, 5, 3),
    "rows not a multiple of 4": (9, 6, 16),
    "two blocks, the second partial": (13, 4, 17),
    "book conv1 FC": (2880, 100, 10),
    "book conv2 FC": (640, 100, 10),
    "softmax of the book": (100, 10, 10),
    "evaluation chunk": (64, 12, 100),
}


def _dense_cases(seed, dtype=np.float64, p_drop=0.0, masked=True):
    rng = np.random.default_rng(seed)
    for name, (n_in, n_out, m) in DENSE_SHAPES.items():
        x = rng.standard_normal((n_in, m)).astype(dtype)
        w = (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(dtype)
        b = rng.standard_normal((n_out, 1)).astype(dtype)
        mask = (rng.random((n_in, m)) >= p_drop).astype(dtype) if masked else None
        labels = rng.integers(0, n_out, m)
        yield name, (x, w, b, p_drop, mask, labels)


def _dense(impl, activation, need_input_grad):
    """Forward then backward through one layer of ``impl`` (layers or kernels)."""

    def run(x, w, b, p_drop, mask, labels):
        if activation == "softmax":
            a, cache = impl.softmax_forward(x, w, b, p_drop, mask)
            nabla_x, grads = impl.softmax_backward(labels, cache, w, need_input_grad)
        else:
            a, cache = impl.fully_connected_forward(x, w, b, activation, p_drop, mask)
            delta_a = np.cos(np.arange(a.size)).reshape(a.shape).astype(a.dtype)
            nabla_x, grads = impl.fully_connected_backward(
                delta_a, cache, w, activation, need_input_grad
            )
        out = [a, grads["w"], grads["b"]]
        return out if nabla_x is None else [*out, nabla_x]

    return run


@pytest.mark.parametrize("activation", [*ACTIVATIONS, "softmax"])
@pytest.mark.parametrize("need_input_grad", [True, False])
def test_dense_layers_match_reference(seed, activation, need_input_grad):
    cases = list(_dense_cases(seed, p_drop=0.3))
    name, (x, *rest) = cases[3]
    cases.append((f"{name}, saturating", (300 * x, *rest)))  # |z| in the hundreds
    assert_matches_reference(
        _dense(kernels, activation, need_input_grad),
        _dense(layers, activation, need_input_grad),
        cases,
        rtol=RTOL,
        atol="scaled",
    )


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_dense_evaluation_scales_by_the_keep_probability(seed, activation):
    """No mask: network3's evaluation pass, ``(1 - p_drop) * w @ x``."""
    cases = list(_dense_cases(seed, p_drop=0.5, masked=False))
    assert_matches_reference(
        _dense(kernels, activation, True),
        _dense(layers, activation, True),
        cases,
        rtol=RTOL,
        atol="scaled",
    )


def test_dense_inputs_may_be_views_of_feature_maps(seed):
    """Network3 hands a dense layer ``maps.reshape(m, -1).T``, a transposed view."""
    rng = np.random.default_rng(seed)
    maps = rng.standard_normal((10, 40, 4, 4))
    x = maps.reshape(10, -1).T  # (640, 10), not contiguous
    w, b = rng.standard_normal((100, 640)) / 25, rng.standard_normal((100, 1))
    for impl_x in (x, np.ascontiguousarray(x)):
        actual = _dense(kernels, "relu", True)(impl_x, w, b, 0.0, None, None)
        expected = _dense(layers, "relu", True)(impl_x, w, b, 0.0, None, None)
        for a, e in zip(actual, expected, strict=True):
            np.testing.assert_allclose(a, e, rtol=RTOL, atol=RTOL * np.abs(e).max())


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "softmax"])
def test_dense_float32_fast_path_matches_float64_reference(seed, activation):
    for name, args in _dense_cases(seed, p_drop=0.3):
        expected = _dense(layers, activation, True)(*args)
        x, w, b, p_drop, mask, labels = args
        small = [a.astype(np.float32) for a in (x, w, b, mask)]
        actual = _dense(kernels, activation, True)(*small[:3], p_drop, small[3], labels)
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert a.dtype == np.float32, f"{name}[{i}]"
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
    x = rng.standard_normal((5, 16))  # exactly one block of 16 examples
    w, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 1))
    first, _ = kernels.fully_connected_forward(x, w, b, "linear")
    kernels.fully_connected_forward(2 * x, w, b, "linear")
    np.testing.assert_allclose(first, w @ x + b, rtol=RTOL)
