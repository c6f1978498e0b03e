"""``nndl_core.bench.peak``: the flops of an epoch, counted by hand, and the bound."""

import numpy as np
import pytest

from nndl_core.bench.peak import arithmetic_bound, flops_per_epoch, measure_peak_flops
from nndl_core.data import Dataset


@pytest.fixture
def tiny_training(rng):
    images = rng.random((23, 12))
    images[rng.random(images.shape) < 0.7] = 0.0  # mostly zeros, like MNIST
    return Dataset(images, rng.integers(0, 4, 23))


def test_flops_count_every_product_by_hand():
    # [3, 2, 1], 4 examples, mini-batches of 2, L2: per example the forward
    # pass and BP4 cost 2*(6 + 2) each, BP2 into the hidden layer 2*2; each
    # mini-batch's step costs 3 per weight (decay, scale, subtract), 2 per bias.
    per_example = 2 * 2 * (6 + 2) + 2 * 2
    per_batch = 3 * 8 + 2 * 3
    assert (
        flops_per_epoch([3, 2, 1], 4, 2, lmbda=1.0) == 4 * per_example + 2 * per_batch
    )
    assert flops_per_epoch([3, 2, 1], 4, 2) == 4 * per_example + 2 * (2 * 8 + 2 * 3)
    # One nonzero input of three: the first layer's products shrink to 1 * 2;
    # the fused step leaves L2's decay of every weight and the biases' step.
    sparse = 4 * (2 * 2 * (2 + 2) + 2 * 2) + 2 * (8 + 2 * 3)
    assert flops_per_epoch([3, 2, 1], 4, 2, lmbda=1.0, n_inputs=1) == sparse


def test_the_bound_divides_the_flops_by_the_peak(tiny_training):
    config = {"sizes": [12, 5, 4], "n_training": 23, "mini_batch_size": 5, "lmbda": 5.0}
    bound = arithmetic_bound(tiny_training.images, config, peak_flops=1e9)
    nonzero = np.count_nonzero(tiny_training.images) / 23
    assert bound["nonzero_inputs"] == pytest.approx(nonzero)
    assert bound["dense_seconds"] == bound["dense_flops"] / 1e9
    assert bound["sparse_flops"] < bound["dense_flops"]
    expected = flops_per_epoch([12, 5, 4], 23, 5, 5.0, n_inputs=nonzero)
    assert bound["sparse_flops"] == pytest.approx(expected)


def test_the_measured_peak_is_a_rate():
    assert measure_peak_flops(repeats=1, n=1000) > 0
