"""The readable convolution and pooling references: worked examples, shapes,
and finite-difference gradients (the chain of trust starts here)."""

import numpy as np
import pytest

from nndl_core import conv


def test_conv2d_forward_worked_example():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # x[i, j] - x[i+1, j+1]
    z = conv.conv2d_forward(x, w, np.array([0.5]))
    np.testing.assert_array_equal(z, np.full((1, 1, 3, 3), -5.0 + 0.5))


def test_conv2d_sums_over_input_maps():
    x = np.ones((2, 3, 5, 5))
    w = np.ones((4, 3, 2, 2))
    z = conv.conv2d_forward(x, w, np.zeros(4))
    assert z.shape == (2, 4, 4, 4)
    np.testing.assert_array_equal(z, 12.0)


def test_maxpool_ignores_the_border():
    z = np.arange(25.0).reshape(1, 1, 5, 5)
    pooled, switches = conv.maxpool_forward(z, 2)
    np.testing.assert_array_equal(pooled[0, 0], [[6.0, 8.0], [16.0, 18.0]])
    np.testing.assert_array_equal(switches, 3)  # bottom-right of each window


def _numerical(f, array, eps=1e-6):
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + eps
        plus = f()
        array[index] = old - eps
        minus = f()
        array[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "linear"])
def test_conv_pool_backward_matches_finite_differences(seed, activation):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, 6, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    probe = rng.standard_normal((2, 3, 2, 1))  # C = sum(probe * a)

    def cost():
        return float(np.sum(probe * conv.conv_pool_forward(x, w, b, activation, 2)[0]))

    _, cache = conv.conv_pool_forward(x, w, b, activation, 2)
    nabla_x, nabla_w, nabla_b = conv.conv_pool_backward(probe, cache, w, activation, 2)
    for actual, array in ((nabla_x, x), (nabla_w, w), (nabla_b, b)):
        np.testing.assert_allclose(
            actual, _numerical(cost, array), rtol=1e-6, atol=1e-8
        )


def test_conv_pool_layer_counts_parameters_like_the_book():
    # chap6: 20 feature maps of 5x5 shared weights plus a bias: 520 parameters
    assert conv.ConvPoolLayer((20, 1, 5, 5), (1, 28, 28)).n_params == 520


def test_conv_pool_layer_init_reproduces_network3():
    layer = conv.ConvPoolLayer((20, 1, 5, 5), (1, 28, 28))
    layer.initialize(np.random.default_rng(0))
    # network3: N(0, 1/n_out) with n_out = 20 * 25 / 4 = 125
    assert abs(layer.w.std() - np.sqrt(1 / 125)) < 0.01
    fixed = conv.ConvPoolLayer((20, 1, 5, 5), (1, 28, 28), init="n_in")
    fixed.initialize(np.random.default_rng(0))
    assert abs(fixed.w.std() - np.sqrt(1 / 25)) < 0.03


def test_conv_pool_layer_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="filter_shape"):
        conv.ConvPoolLayer((20, 3, 5, 5), (1, 28, 28))


@pytest.mark.parametrize(
    "filter_shape, image_shape, pool, message",
    [
        ((20, 1, 5.5, 5), (1, 28, 28), 2, r"filter_shape\[2\] must be a whole number"),
        ((20, 1, 5, 5), (1, 28.5, 28), 2, r"image_shape\[1\] must be a whole number"),
        ((20, 1, 5, 5), (1, 28, 28), 2.5, "pool must be a whole number"),
        ((20, 1, 5), (1, 28, 28), 2, "filter_shape must hold 4 sizes"),
        ((20, 1, 5, 5), (1, 5, 5), 2, "too small for 2x2 pooling"),
    ],
)
def test_conv_pool_layer_refuses_fractional_and_impossible_shapes(
    filter_shape, image_shape, pool, message
):
    # int() once turned 5.5 into 5 without a word
    with pytest.raises(ValueError, match=message):
        conv.ConvPoolLayer(filter_shape, image_shape, pool)
