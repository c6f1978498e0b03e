"""Dense and softmax layers: worked examples, dropout semantics, gradients."""

import numpy as np
import pytest

from nndl_core import layers


def test_dense_layer_worked_example():
    w, b = np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([[0.5], [0.0]])
    a, _ = layers.fully_connected_forward(np.array([[1.0], [1.0]]), w, b, "relu")
    np.testing.assert_array_equal(a, [[3.5], [0.0]])


def test_dropout_masks_inputs_in_training_and_scales_at_evaluation():
    w, b = np.ones((1, 4)), np.zeros((1, 1))
    x = np.ones((4, 1))
    mask = np.array([[1.0], [0.0], [1.0], [0.0]])
    trained, _ = layers.fully_connected_forward(x, w, b, "linear", 0.5, mask)
    evaluated, _ = layers.fully_connected_forward(x, w, b, "linear", 0.5)
    assert trained[0, 0] == 2.0  # two inputs kept, no rescaling (network3)
    assert evaluated[0, 0] == 2.0  # all four inputs, times 1 - p_drop


def test_softmax_columns_sum_to_one_and_survive_large_inputs():
    z = np.array([[1000.0, -5.0], [0.0, -5.0]])
    a = layers.softmax(z)
    np.testing.assert_allclose(a.sum(axis=0), 1.0)
    assert a[0, 0] == 1.0


def test_softmax_backward_is_a_minus_y_weighted_by_inputs(rng):
    x = rng.standard_normal((3, 4))
    w, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    labels = np.array([0, 4, 2, 2])
    a, cache = layers.softmax_forward(x, w, b)
    _, grads = layers.softmax_backward(labels, cache, w)
    y = np.zeros((5, 4))
    y[labels, np.arange(4)] = 1
    np.testing.assert_allclose(grads["w"], (a - y) @ x.T)


def test_dense_and_softmax_gradients_match_finite_differences(rng):
    x = rng.standard_normal((4, 3))
    w1, b1 = rng.standard_normal((5, 4)), rng.standard_normal((5, 1))
    w2, b2 = rng.standard_normal((3, 5)), rng.standard_normal((3, 1))
    labels = np.array([1, 0, 2])
    mask = (rng.random((4, 3)) > 0.3).astype(float)

    def cost():
        h, _ = layers.fully_connected_forward(x, w1, b1, "sigmoid", 0.3, mask)
        a, _ = layers.softmax_forward(h, w2, b2)
        return layers.log_likelihood(a, labels)

    h, cache1 = layers.fully_connected_forward(x, w1, b1, "sigmoid", 0.3, mask)
    _, cache2 = layers.softmax_forward(h, w2, b2)
    delta, grads2 = layers.softmax_backward(labels, cache2, w2)
    nabla_x, grads1 = layers.fully_connected_backward(delta, cache1, w1, "sigmoid")
    eps = 1e-6
    for actual, array in (
        (grads1["w"], w1),
        (grads1["b"], b1),
        (grads2["w"], w2),
        (nabla_x, x),
    ):
        expected = np.zeros_like(array)
        for i in np.ndindex(array.shape):
            old = array[i]
            array[i] = old + eps
            plus = cost()
            array[i] = old - eps
            expected[i] = (plus - cost()) / (2 * eps)
            array[i] = old
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)


def test_network3_initialisation_quirk_and_fix():
    quirk = layers.FullyConnectedLayer(640, 100)
    quirk.initialize(np.random.default_rng(0))
    fixed = layers.FullyConnectedLayer(640, 100, init="n_in")
    fixed.initialize(np.random.default_rng(0))
    assert abs(quirk.w.std() - 0.1) < 0.005  # network3's N(0, 1/n_out)
    assert abs(fixed.w.std() - 1 / np.sqrt(640)) < 0.005
    soft = layers.SoftmaxLayer(100, 10)
    soft.initialize(np.random.default_rng(0))
    assert not soft.w.any() and not soft.b.any()


def test_a_first_layer_skips_its_input_gradient(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 4)), np.ones((5, 1))
    a, cache = layers.fully_connected_forward(x, w, b, "tanh")
    delta_a = rng.standard_normal(a.shape)
    full_x, full = layers.fully_connected_backward(delta_a, cache, w, "tanh")
    none_x, grads = layers.fully_connected_backward(delta_a, cache, w, "tanh", False)
    assert none_x is None and full_x.shape == x.shape
    np.testing.assert_array_equal(grads["w"], full["w"])
    np.testing.assert_array_equal(grads["b"], full["b"])
    _, cache = layers.softmax_forward(x, w, b)
    assert layers.softmax_backward(np.array([0, 1, 4]), cache, w, False)[0] is None


def test_layers_choose_their_backend_in_one_place():
    layer = layers.FullyConnectedLayer(3, 2)
    layer.initialize(np.random.default_rng(0))
    a, _ = layer.forward(np.ones((3, 2)), backend="numba")
    np.testing.assert_allclose(a, layer.forward(np.ones((3, 2)))[0], rtol=1e-12)
    with pytest.raises(ValueError, match="backend"):
        layer.forward(np.ones((3, 2)), backend="cuda")


@pytest.mark.parametrize("make", [layers.FullyConnectedLayer, layers.SoftmaxLayer])
def test_layer_sizes_must_be_whole_numbers(make):
    with pytest.raises(ValueError, match="n_out must be a whole number, got 2.7"):
        make(784, 2.7)  # was silently int(2.7) == 2 neurons
    with pytest.raises(ValueError, match="n_in must be at least 1"):
        make(0, 10)
    assert make(784.0, 10).n_in == 784
