"""Smoke test of ``nndl_core.bench.dense`` on tiny data: structure, not speed."""

import numpy as np
import pytest

from nndl_core.bench.dense import (
    BACKENDS,
    NETWORKS,
    format_table,
    run_dense_benchmark,
)
from nndl_core.data import Dataset


@pytest.fixture
def tiny_training(rng):
    images = rng.random((23, 12))
    images[rng.random(images.shape) < 0.7] = 0.0  # mostly zeros, like MNIST
    return Dataset(images, rng.integers(0, 4, 23))


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_every_backend_is_timed_or_skipped_with_a_reason(tiny_training, network):
    results = run_dense_benchmark(
        tiny_training, network=network, sizes=(12, 5, 4), mini_batch_size=5, epochs=2
    )
    config = results["config"]
    assert config["n_training"] == 23 and config["epochs"] == 2
    assert config["network"] == network and config["sizes"] == [12, 5, 4]
    assert config["cost"] == NETWORKS[network]["cost"]
    assert config["lmbda"] == NETWORKS[network]["lmbda"]
    assert list(results["backends"]) == list(BACKENDS)
    for name, result in results["backends"].items():
        if result["status"] == "skipped":
            assert name == "torch" and result["reason"]
            continue
        assert result["status"] == "ok"
        assert len(result["epoch_seconds"]) == 2
        assert all(seconds > 0 for seconds in result["epoch_seconds"])
        assert result["seconds_per_epoch"] == np.median(result["epoch_seconds"])
        assert result["warmup_epoch_seconds"] > 0
        assert results["ratios"][name] > 0
        assert 0.0 <= result["training_accuracy"] <= 1.0
    assert results["ratios"]["numba"] == 1.0
    jit = results["backends"]["numba"]["jit"]
    assert jit["first_call_seconds"] > 0 and jit["warm_call_seconds"] > 0
    assert jit["warmup_seconds"] >= 0 and jit["source"] and jit["sparse_seconds"] > 0
    bound = results["bound"]
    numba = results["backends"]["numba"]["seconds_per_epoch"]
    assert bound["numba_vs_dense"] == pytest.approx(numba / bound["dense_seconds"])
    assert bound["numba_vs_sparse"] == pytest.approx(numba / bound["sparse_seconds"])


def test_torch_trains_the_same_network_as_numpy(tiny_training):
    pytest.importorskip("torch")
    # Same initial weights, shuffles, cost and L2 update: after one epoch at a
    # small learning rate the two agree closely (float64 both, different sums).
    results = run_dense_benchmark(
        tiny_training,
        network="ch3",
        sizes=(12, 5, 4),
        mini_batch_size=5,
        epochs=1,
        backends=("numpy", "torch"),
        bound=False,
    )
    accuracies = {
        name: r["training_accuracy"] for name, r in results["backends"].items()
    }
    assert accuracies["torch"] == accuracies["numpy"]
    threads = results["config"]["threads"]  # as many as the Numba row's
    assert results["backends"]["torch"]["threads"] == threads


def test_both_numba_rows_train_the_same_network(tiny_training):
    results = run_dense_benchmark(
        tiny_training,
        sizes=(12, 5, 4),
        mini_batch_size=5,
        epochs=1,
        backends=("numba", "numba-1"),
        bound=False,
    )
    numba, one = results["backends"]["numba"], results["backends"]["numba-1"]
    assert one["threads"] == 1
    assert numba["threads"] == results["config"]["threads"] >= 1
    assert numba["training_accuracy"] == one["training_accuracy"]
    assert "1 thread," in format_table(results)


def test_the_numba_row_says_the_threads_it_trained_on(tiny_training, monkeypatch):
    monkeypatch.setenv("NNDL_THREADS", "3")  # an epoch uses two at most
    results = run_dense_benchmark(
        tiny_training, sizes=(12, 5, 4), epochs=1, backends=("numba",), bound=False
    )
    assert results["config"]["threads"] == results["backends"]["numba"]["threads"] == 2


def test_the_table_names_every_backend_and_the_bound(tiny_training):
    results = run_dense_benchmark(
        tiny_training, network="ch3", sizes=(12, 5, 4), mini_batch_size=5, epochs=1
    )
    table = format_table(results)
    for name in BACKENDS:
        assert name in table
    assert "s/epoch" in table and "L2 lmbda 5.0" in table
    assert "Arithmetic bound at" in table and "numba takes" in table
    assert "zero pixels skipped" in table


def test_one_backend_alone_has_no_ratio_to_numba(tiny_training):
    results = run_dense_benchmark(
        tiny_training, sizes=(12, 5, 4), epochs=1, backends=("numpy",)
    )
    assert list(results["backends"]) == ["numpy"]
    assert results["ratios"] == {}
    assert "numba_vs_dense" not in results["bound"]
    assert "numpy" in format_table(results)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"backends": ("jax",)}, "jax"),
        ({"epochs": 0}, "epochs"),
        ({"network": "ch9"}, "network"),
        ({"depth": 3}, "overrides"),
    ],
)
def test_bad_arguments_are_rejected(tiny_training, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_dense_benchmark(tiny_training, sizes=(12, 5, 4), **kwargs)
