"""Smoke test of ``nndl_core.bench`` on tiny data: structure, not speed."""

import numpy as np
import pytest

from nndl_core.bench import BACKENDS, format_table, run_dense_benchmark
from nndl_core.data import Dataset


@pytest.fixture
def tiny_training(rng):
    images = rng.random((23, 12))
    images[rng.random(images.shape) < 0.7] = 0.0  # mostly zeros, like MNIST
    return Dataset(images, rng.integers(0, 4, 23))


def test_every_backend_is_timed_or_skipped_with_a_reason(tiny_training):
    results = run_dense_benchmark(
        tiny_training, sizes=(12, 5, 4), mini_batch_size=5, epochs=2
    )
    assert results["config"]["n_training"] == 23
    assert results["config"]["epochs"] == 2
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
    assert results["ratios"]["numba"] == 1.0
    jit = results["backends"]["numba"]["jit"]
    assert jit["first_call_seconds"] > 0 and jit["warm_call_seconds"] > 0
    assert jit["warmup_seconds"] >= 0 and jit["source"]
    for result in results["backends"].values():
        if result["status"] == "ok":
            assert 0.0 <= result["training_accuracy"] <= 1.0


def test_the_table_names_every_backend(tiny_training):
    results = run_dense_benchmark(
        tiny_training, sizes=(12, 5, 4), mini_batch_size=5, epochs=1
    )
    table = format_table(results)
    assert isinstance(table, str)
    for name in BACKENDS:
        assert name in table
    assert "s/epoch" in table


def test_one_backend_alone_has_no_ratio_to_numba(tiny_training):
    results = run_dense_benchmark(
        tiny_training, sizes=(12, 5, 4), epochs=1, backends=("numpy",)
    )
    assert list(results["backends"]) == ["numpy"]
    assert results["ratios"] == {}
    assert "numpy" in format_table(results)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"backends": ("jax",)}, "jax"), ({"epochs": 0}, "epochs")],
)
def test_bad_arguments_are_rejected(tiny_training, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_dense_benchmark(tiny_training, sizes=(12, 5, 4), **kwargs)
