import numpy as np
import pytest

from nndl_core.initializers import default_weight_initializer, large_weight_initializer
from nndl_core.network import Network


def test_shapes_and_scales():
    rng = np.random.default_rng(0)
    w, b = default_weight_initializer([400, 300, 10], rng)
    assert [x.shape for x in w] == [(300, 400), (10, 300)]
    assert [x.shape for x in b] == [(300, 1), (10, 1)]
    assert abs(w[0].std() - 1 / np.sqrt(400)) < 0.002
    assert abs(b[0].std() - 1.0) < 0.15
    w, _ = large_weight_initializer([400, 300], rng)
    assert abs(w[0].std() - 1.0) < 0.01


def test_network_uses_the_named_initializer():
    large = Network([100, 5], seed=1)
    default = Network([100, 5], seed=1, initializer="default")
    np.testing.assert_allclose(default.weights[0], large.weights[0] / 10, rtol=1e-15)
    with pytest.raises(ValueError, match="initializer must be one of"):
        Network([2, 1], initializer="xavier")
