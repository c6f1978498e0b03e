"""Saving and loading networks as JSON."""

import json

import numpy as np
import pytest

from nndl_core.costs import LogLikelihoodCost
from nndl_core.network import Network
from nndl_core.serialization import VERSION, NetworkFileError, load, save, to_dict


def test_round_trip(tmp_path):
    net = Network([4, 3, 2], seed=0, cost=LogLikelihoodCost, activation="tanh")
    save(net, tmp_path / "n.json")
    back = load(tmp_path / "n.json")
    assert back.sizes == net.sizes and back.cost is LogLikelihoodCost
    assert back.activation == "tanh"
    x = np.random.default_rng(0).random((4, 5))
    assert np.array_equal(back.feedforward(x), net.feedforward(x))
    assert json.loads((tmp_path / "n.json").read_text())["version"] == VERSION


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.update(version=99), "version"),
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.pop("weights"), "missing"),
        (lambda d: d.update(cost="hinge"), "cost"),
        (lambda d: d.update(sizes=[4, 9, 2]), "shape"),
        (lambda d: d["biases"].pop(), "biases"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path, change, message):
    data = to_dict(Network([4, 3, 2], seed=0))
    change(data)
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(NetworkFileError, match=message):
        load(tmp_path / "bad.json")


def test_not_json(tmp_path):
    (tmp_path / "x.json").write_text("{nope")
    with pytest.raises(NetworkFileError, match="JSON"):
        load(tmp_path / "x.json")
