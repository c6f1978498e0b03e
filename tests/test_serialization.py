"""Saving and loading networks as JSON."""

import json
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


class _UnknownCost:
    name = "hinge"


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path):
    path = tmp_path / "n.json"
    save(Network([2, 3, 1], seed=0), path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="cost"):
        save(Network([2, 3, 1], seed=1, cost=_UnknownCost), path)
    assert path.read_bytes() == before and load(path).sizes == [2, 3, 1]
    assert [p.name for p in tmp_path.iterdir()] == ["n.json"]


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_save_refuses_non_finite_parameters(tmp_path, value):
    net = Network([2, 3, 1], seed=0)
    net.biases[1][0, 0] = value
    with pytest.raises(ValueError, match=r"biases\[1\].*NaN or infinite.*eta"):
        save(net, tmp_path / "n.json")
    assert not (tmp_path / "n.json").exists()


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.update(version=True), "version"),
        (lambda d: d["sizes"].__setitem__(2, True), "sizes"),  # True == 1
        (lambda d: d.update(sizes=[2, 3.0, 1]), "sizes"),
        (lambda d: d.update(cost=["quadratic"]), "cost"),
        (lambda d: d.update(activation={"a": 1}), "activation"),
        (lambda d: d["weights"][0][0].__setitem__(0, "0.5"), "finite number"),
        (lambda d: d["weights"][0][0].__setitem__(0, True), "finite number"),
        (lambda d: d["biases"][1][0].__setitem__(0, 10**400), "finite number"),
        (lambda d: d["weights"][1].append([1.0, 2.0, 3.0]), "shape"),
    ],
)
def test_wrong_types_raise_clear_errors(tmp_path, change, message):
    data = to_dict(Network([2, 3, 1], seed=0))
    change(data)
    with pytest.raises(NetworkFileError, match=message):
        load(_write(tmp_path / "bad.json", data))


@pytest.mark.parametrize(
    "content,message",
    [
        (b'{"format": "nndl-network", "sizes": "\xff\xfe"}', "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"1" * 5_000, "not valid JSON"),
        (b"", "not valid JSON"),
    ],
    ids=["not-utf8", "deep", "long-int", "empty"],
)
def test_unreadable_text_raises_network_file_error(tmp_path, content, message):
    (tmp_path / "x.json").write_bytes(content)
    with pytest.raises(NetworkFileError, match=message):
        load(tmp_path / "x.json")


def test_huge_sizes_are_refused_before_anything_is_allocated(tmp_path):
    data = to_dict(Network([2, 3, 1], seed=0))
    data["sizes"] = [10**6, 10**6, 10]
    with pytest.raises(NetworkFileError, match="parameters"):
        load(_write(tmp_path / "big.json", data))


def test_claimed_sizes_are_checked_before_they_are_allocated(tmp_path):
    data = to_dict(Network([2, 3, 1], seed=0))
    data["sizes"] = [3_000, 3_000, 10]  # 9 million parameters (72 MB) claimed
    path = _write(tmp_path / "claims.json", data)
    tracemalloc.start()
    try:
        with pytest.raises(NetworkFileError, match="shape"):
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


# --- property tests: whatever the bytes, a NetworkFileError or a network -------

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI cannot flake
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["nndl-network", "quadratic", "sigmoid"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ("format", "version", "sizes", "cost", "activation", "weights", "biases")


def _valid_text():
    return json.dumps(to_dict(Network([2, 3, 1], seed=0)))


@PROPERTY
@given(content=st.binary(max_size=300))
def test_random_bytes_raise_network_file_error(tmp_path, content):
    (tmp_path / "x.json").write_bytes(content)
    with pytest.raises(NetworkFileError):
        load(tmp_path / "x.json")


@PROPERTY
@given(data=st.data())
def test_truncated_files_raise_network_file_error(tmp_path, data):
    text = _valid_text().encode()
    cut = data.draw(st.integers(0, len(text) - 1))
    (tmp_path / "x.json").write_bytes(text[:cut])
    with pytest.raises(NetworkFileError):
        load(tmp_path / "x.json")


@PROPERTY
@given(field=st.sampled_from(FIELDS), value=JSON)
def test_any_json_in_any_field_loads_or_raises_network_file_error(
    tmp_path, field, value
):
    data = json.loads(_valid_text())
    data[field] = value
    path = _write(tmp_path / "x.json", data)
    try:
        net = load(path)
    except NetworkFileError:
        return
    assert net.sizes == data["sizes"]  # only a still-valid file may load


@PROPERTY
@given(value=JSON)
def test_any_json_document_raises_network_file_error(tmp_path, value):
    with pytest.raises(NetworkFileError):
        load(_write(tmp_path / "x.json", value))
