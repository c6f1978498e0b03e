"""The neurons and costs the kernels know; others are refused with advice."""

import numpy as np
import pytest

from nndl_core import Network, costs
from nndl_core.kernels import dense


def test_an_unknown_cost_is_refused_with_advice():
    class Hinge:
        name = "hinge"

    with pytest.raises(NotImplementedError, match="hinge.*backend='numpy'"):
        Network([4, 3, 2], seed=0, cost=Hinge, backend="numba")
    net = Network([4, 3, 2], seed=0, cost=Hinge)  # fine on NumPy ...
    with pytest.raises(NotImplementedError, match="hinge"):
        dense.backprop(net, np.ones((4, 1)), np.ones((2, 1)))  # ... not here


def test_the_quadratic_cost_needs_sigmoid_outputs():
    class QuadraticSoftmax(costs.QuadraticCost):
        output_activation = "softmax"

    with pytest.raises(NotImplementedError, match="quadratic"):
        Network([4, 3, 2], cost=QuadraticSoftmax, backend="numba")
