"""Saved conv nets and checkpoints are checked on load (nndl_core.convnet_checkpoint).

Whatever is wrong with a saved network or a checkpoint (its JSON, a layer's
description, a parameter's shape or values) raises NetworkFileError saying
what to do, and nothing is allocated from a size the file merely claims.
"""

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndl_core.conv import ConvPoolLayer
from nndl_core.convnet import Network3
from nndl_core.convnet_checkpoint import (
    build_layers,
    load_network,
    save_network,
)
from nndl_core.layers import FullyConnectedLayer, SoftmaxLayer
from nndl_core.serialization import NetworkFileError


def _layers():
    """A 6x6 image -> conv 2 maps 3x3 + pool 2 -> dense 5 -> softmax 3."""
    return [
        ConvPoolLayer((2, 1, 3, 3), (1, 6, 6), 2, "tanh"),
        FullyConnectedLayer(8, 5, "sigmoid"),
        SoftmaxLayer(5, 3),
    ]


@pytest.fixture
def saved(tmp_path):
    """A folder written by save_network, and the network."""
    net = Network3(_layers(), seed=1)
    save_network(net, tmp_path / "net")
    return tmp_path / "net", net


def _params(folder):
    with np.load(folder / "params.npz") as npz:
        return dict(npz)


def _rewrite_params(folder, change):
    arrays = _params(folder)
    change(arrays)
    np.savez(folder / "params.npz", **arrays)


def _rewrite_meta(folder, change):
    meta = json.loads((folder / "network.json").read_text())
    change(meta)
    (folder / "network.json").write_text(json.dumps(meta))


def test_a_saved_network_loads_back(saved, rng):
    folder, net = saved
    images = rng.random((4, 36))
    expected = net.feedforward(images)
    np.testing.assert_array_equal(load_network(folder).feedforward(images), expected)


@pytest.mark.parametrize(
    "change,message",
    [
        pytest.param(
            lambda a: a.update(layer1_w=np.zeros((8, 5))), "shape", id="transposed"
        ),
        pytest.param(
            lambda a: a.update(layer0_b=np.zeros((3, 1))), "shape", id="wrong bias"
        ),
        pytest.param(lambda a: a.pop("layer2_b"), "lacks layer2_b", id="missing"),
        pytest.param(
            lambda a: a.update(layer2_w=a["layer2_w"].astype(object)),
            "float",
            id="object array",
        ),
        pytest.param(
            lambda a: a.update(layer2_w=np.full((3, 5), "x")),
            "shape",
            id="strings",
        ),
        pytest.param(
            lambda a: a["layer1_w"].__setitem__((0, 0), np.nan), "NaN", id="nan"
        ),
    ],
)
def test_each_parameter_is_checked_against_its_layer(saved, change, message):
    folder, _ = saved
    _rewrite_params(folder, change)
    with pytest.raises(NetworkFileError, match=f"{message}.*save the network"):
        load_network(folder)


def test_a_claimed_huge_array_is_refused_from_its_header(saved):
    folder, _ = saved
    _rewrite_params(folder, lambda a: a.update(layer1_w=np.zeros((2_000, 2_000))))
    tracemalloc.start()
    try:
        with pytest.raises(NetworkFileError, match=r"\(2000, 2000\)"):
            load_network(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000  # the array is 32 MB


@pytest.mark.parametrize(
    "change,message",
    [
        pytest.param(
            lambda m: m["layers"][0].update(type="Pickle"), "type", id="unknown type"
        ),
        pytest.param(lambda m: m["layers"][1].update(n_in=True), "n_in", id="bool"),
        pytest.param(lambda m: m["layers"][1].update(n_out=5.0), "n_out", id="float"),
        pytest.param(
            lambda m: m["layers"][0].update(filter_shape=[2, 1, 3]),
            "filter_shape",
            id="short shape",
        ),
        pytest.param(
            lambda m: m["layers"][1].update(activation=["tanh"]),
            "activation",
            id="list name",
        ),
        pytest.param(
            lambda m: m["layers"][1].update(activation="swish"),
            "activation must be one of",
            id="unknown name",
        ),
        pytest.param(lambda m: m["layers"][1].pop("init"), "needs exactly", id="few"),
        pytest.param(
            lambda m: m["layers"][1].update(n_in=7), "unusable", id="no chain"
        ),
        pytest.param(lambda m: m.update(dtype="int8"), "dtype", id="dtype"),
        pytest.param(lambda m: m.update(layers={}), "non-empty list", id="layers"),
    ],
)
def test_each_layer_description_is_checked(saved, change, message):
    folder, _ = saved
    _rewrite_meta(folder, change)
    with pytest.raises(NetworkFileError, match=message):
        load_network(folder)


def test_huge_layers_are_refused_before_anything_is_allocated():
    specs = [
        {"type": "FullyConnectedLayer", "n_in": 10**6, "n_out": 10**6}
        | {"activation": "sigmoid", "p_drop": 0.0, "init": "n_out"},
        {"type": "SoftmaxLayer", "n_in": 10**6, "n_out": 10, "p_drop": 0.0},
    ]
    with pytest.raises(NetworkFileError, match="parameters"):
        build_layers(specs)


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe{", b"[" * 100_000, b'{"layers": [', b""],
    ids=["not-utf8", "deep", "truncated", "empty"],
)
def test_unreadable_network_json_raises_network_file_error(saved, content):
    folder, _ = saved
    (folder / "network.json").write_bytes(content)
    with pytest.raises(NetworkFileError, match="not readable JSON"):
        load_network(folder)


def test_saving_refuses_nan_and_keeps_the_previous_files(saved):
    folder, net = saved
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    net.layers[1].w[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite.*eta"):
        save_network(net, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# --- checkpoints ----------------------------------------------------------------


class _StopError(Exception):
    pass


def _stop(epoch, history):
    raise _StopError


def _checkpointed(tmp_path, rng):
    """A folder holding epoch 1 of 2 (training stopped), and a resuming call."""
    train = (rng.random((8, 36)), rng.integers(0, 3, 8))
    folder = tmp_path / "ckpt"

    def train_2_epochs(callback=None):
        net = Network3(_layers(), seed=0)
        return net.SGD(
            train, 2, 4, 0.1, train, train, checkpoint=folder, callback=callback
        )

    with pytest.raises(_StopError):
        train_2_epochs(_stop)
    return folder, train_2_epochs


def _edit_state(folder, change):
    state = json.loads((folder / "state.json").read_text())
    change(state)
    (folder / "state.json").write_text(json.dumps(state))


@pytest.mark.parametrize(
    "damage,message",
    [
        pytest.param(
            lambda f: (f / "state.json").write_text('{"epoch": 1'),
            "not readable JSON",
            id="truncated",
        ),
        pytest.param(
            lambda f: _edit_state(f, lambda s: s.update(params="../params-1.npz")),
            "names no parameter file",
            id="path escape",
        ),
        pytest.param(
            lambda f: _edit_state(f, lambda s: s.update(epoch=True)),
            "fields",
            id="bool epoch",
        ),
        pytest.param(
            lambda f: _edit_state(f, lambda s: s.update(epoch=3)),
            "history of 3 epochs",
            id="history",
        ),
        pytest.param(
            lambda f: _edit_state(f, lambda s: s["rng_state"].update(state=None)),
            "generator state",
            id="rng",
        ),
        pytest.param(
            lambda f: (f / "params-1.npz").write_bytes(b"PK\x03\x04 not a zip"),
            "not a readable .npz",
            id="params",
        ),
        pytest.param(
            lambda f: _rewrite_params_file(f / "params-1.npz"),
            "shape",
            id="params shape",
        ),
    ],
)
def test_a_damaged_checkpoint_says_to_delete_it(tmp_path, rng, damage, message):
    folder, resume = _checkpointed(tmp_path, rng)
    damage(folder)
    with pytest.raises(NetworkFileError, match=f"{message}.*delete .*ckpt"):
        resume()


def _rewrite_params_file(path):
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["layer0_w"] = arrays["layer0_w"][:1]
    np.savez(path, **arrays)


def test_a_sound_checkpoint_still_resumes(tmp_path, rng):
    folder, resume = _checkpointed(tmp_path, rng)
    assert resume().epochs == 2
    assert json.loads((folder / "state.json").read_text())["epoch"] == 2


# --- property tests: whatever the bytes, a network or NetworkFileError ------------

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI cannot flake
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def good_params():
    """The bytes of a good ``params.npz`` (stored, so truncation hits data)."""
    net = Network3(_layers(), seed=1)
    buffer = io.BytesIO()
    arrays = {}
    for l, layer in enumerate(net.layers):  # noqa: E741
        arrays[f"layer{l}_w"], arrays[f"layer{l}_b"] = layer.w, layer.b
    np.savez(buffer, **arrays)
    assert zipfile.is_zipfile(buffer)
    return buffer.getvalue()


@PROPERTY
@given(
    content=st.binary(max_size=300) | st.binary(max_size=300).map(b"PK\x03\x04".__add__)
)
def test_random_params_bytes_raise_network_file_error(saved, content):
    folder, _ = saved
    (folder / "params.npz").write_bytes(content)
    with pytest.raises(NetworkFileError):
        load_network(folder)


@PROPERTY
@given(data=st.data())
def test_truncated_params_raise_network_file_error(saved, good_params, data):
    folder, _ = saved
    cut = data.draw(st.integers(0, len(good_params) - 1))
    (folder / "params.npz").write_bytes(good_params[:cut])
    with pytest.raises(NetworkFileError):
        load_network(folder)


@PROPERTY
@given(content=st.binary(max_size=200))
def test_random_network_json_raises_network_file_error(saved, content):
    folder, _ = saved
    (folder / "network.json").write_bytes(content)
    with pytest.raises(NetworkFileError):
        load_network(folder)
