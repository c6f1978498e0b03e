"""L2, L1, dropout and the expanded data of chapter 3."""

import numpy as np
import pytest

from nndl_core.costs import CrossEntropyCost
from nndl_core.expand import rotate_images
from nndl_core.network import Network
from nndl_core.regularization import (
    dropout_backprop,
    penalty,
    penalty_gradient,
    sgd_step,
)


def _opts(**kw):
    base = dict(lmbda=0.0, n=100, regularization="l2", dropout=0.0, mu=0.0)
    base.update(kw)
    return base


def test_penalties():
    w = [np.array([[3.0, -4.0]])]
    assert penalty(w, 2.0, 10, "l2") == pytest.approx(2.5)
    assert penalty(w, 2.0, 10, "l1") == pytest.approx(1.4)
    assert np.allclose(
        penalty_gradient(np.array([0.0, -2.0]), 1.0, 1, "l1"), [0.0, -1.0]
    )
    with pytest.raises(ValueError):
        penalty(w, 1.0, 1, "l3")


def test_plain_step_equals_update_mini_batch_with_l2():
    a = Network([5, 4, 3], seed=0, cost=CrossEntropyCost)
    b = Network([5, 4, 3], seed=0, cost=CrossEntropyCost)
    x, y = np.random.default_rng(0).random((5, 6)), np.eye(3)[:, [0, 1, 2, 0, 1, 2]]
    a.update_mini_batch(x, y, 0.5, lmbda=2.0, n=100)
    vel = ([np.zeros_like(w) for w in b.weights], [np.zeros_like(v) for v in b.biases])
    sgd_step(b, x, y, 0.5, _opts(lmbda=2.0), vel, np.random.default_rng(0))
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        assert np.allclose(wa, wb)


def test_dropout_zero_is_backprop_and_masks_are_seeded():
    net = Network([5, 4, 3], seed=0, cost=CrossEntropyCost)
    x, y = np.random.default_rng(0).random((5, 6)), np.eye(3)[:, [0, 1, 2, 0, 1, 2]]
    nb, nw = dropout_backprop(net, x, y, 0.0, np.random.default_rng(0))
    rb, rw = net.backprop(x, y)
    assert all(np.allclose(p, q) for p, q in zip(nw + nb, rw + rb))
    g1 = dropout_backprop(net, x, y, 0.5, np.random.default_rng(3))[1]
    g2 = dropout_backprop(net, x, y, 0.5, np.random.default_rng(3))[1]
    assert all(np.array_equal(p, q) for p, q in zip(g1, g2))
    assert np.any(np.all(g1[0] == 0, axis=1))  # some hidden neuron was dropped


def test_rotation_keeps_shape_and_range():
    img = np.random.default_rng(0).random((3, 784))
    out = rotate_images(img, 10)
    assert out.shape == img.shape and out.min() >= 0 and out.max() <= 1
    assert np.allclose(rotate_images(img, 0), img)
