"""The chapter-6 dense and softmax kernels equal the readable references.

``nndl_core.kernels.layers`` against ``nndl_core.layers``: forward outputs
and all gradients, with and without dropout masks, at evaluation time, for
every activation and softmax, over sizes from 1x1 to the book's 2880 -> 100,
and batches that fill one block of 16 examples, part of one, or more than
one; inputs that are transposed views of feature maps, as ``Network3``
passes them.

Tolerances. float64: ``rtol=1e-12`` with ``atol="scaled"`` (1e-12 times the
array's largest entry): the kernels sum in another order than NumPy's
``@``, so they agree to rounding, and a gradient entry that cancels to
nearly zero carries rounding relative to the array's scale. float32 (the
training fast path): ``rtol=2e-5`` scaled, against the float64 reference.
"""

import numpy as np
import pytest

from nndl_core import layers
from nndl_core._testing import assert_matches_reference
from nndl_core.kernels import layers as kernels

RTOL = 1e-12
RTOL_FLOAT32 = 2e-5
ACTIVATIONS = ("sigmoid", "relu", "tanh", "linear")

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
    x = rng.standard_normal((5, 16))  # exactly one block of 16 examples
    w, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 1))
    first, _ = kernels.fully_connected_forward(x, w, b, "linear")
    kernels.fully_connected_forward(2 * x, w, b, "linear")
    np.testing.assert_allclose(first, w @ x + b, rtol=RTOL)
