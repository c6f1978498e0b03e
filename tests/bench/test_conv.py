"""``nndl_core.bench.conv`` on a tiny network: what it measures, not how fast.

No test here asserts a time: the machine is shared, and a benchmark's
numbers belong in its report, not in a pass/fail line.
"""

import sys

import numpy as np
import pytest

from nndl_core.bench import conv as bench_conv
from nndl_core.conv import ConvPoolLayer
from nndl_core.layers import FullyConnectedLayer, SoftmaxLayer


def tiny_layers():
    """6x6 images -> conv 3x3x2 + pool 2 -> FC 5 ReLU -> softmax 3."""
    return [
        ConvPoolLayer((2, 1, 3, 3), (1, 6, 6), 2, "relu"),
        FullyConnectedLayer(2 * 2 * 2, 5, "relu"),
        SoftmaxLayer(5, 3),
    ]


@pytest.fixture
def tiny_training(rng):
    return rng.random((40, 36)), rng.integers(0, 3, 40)


def test_flops_count_every_multiply_add_of_forward_and_backward():
    # conv: 2 maps x 1 channel x 3x3 weights x 4x4 positions = 288 multiply-adds,
    # forward and weight gradient only (a first layer needs no input gradient);
    # FC 8 -> 5: 40, softmax 5 -> 3: 15, each forward, weight and input gradient.
    expected = 2 * (288 * 2 + 40 * 3 + 15 * 3)
    assert bench_conv.flops_per_image(tiny_layers()) == expected == 1482


def test_rates_scale_to_a_50000_image_epoch():
    seconds_per_epoch, gflops = bench_conv.rates(0.5, 250, 4e6)
    assert seconds_per_epoch == pytest.approx(0.5 * 50_000 / 250)  # 100 s
    assert gflops == pytest.approx(4e6 * 250 / 0.5 / 1e9)  # 2 GFLOP/s


def test_the_architecture_is_described_from_the_layers():
    assert bench_conv.describe_layers(tiny_layers()) == (
        "conv 3x3x2 + pool 2 -> FC 5 relu -> softmax 3"
    )


def test_numba_reports_its_fastest_slice(tiny_training):
    results = bench_conv.run_conv_benchmark(
        tiny_training, n_images=20, backends=("numba",), layers=tiny_layers, repeats=4
    )
    config = results["config"]
    assert config["n_images"] == 20 and config["flops_per_image"] == 1482
    assert config["repeats"] == 4 and config["architecture"].startswith("conv 3x3x2")
    assert list(results["backends"]) == ["numba"] and "ratio" not in results
    ours = results["backends"]["numba"]
    assert ours["status"] == "ok" and ours["warmup_seconds"] > 0
    assert len(ours["slice_seconds"]) == 4 and min(ours["slice_seconds"]) > 0
    assert ours["seconds"] == min(ours["slice_seconds"])
    expected = bench_conv.rates(ours["seconds"], 20, 1482)
    assert (ours["seconds_per_epoch"], ours["gflops"]) == expected
    assert ours["params_rms"] > 0


def test_every_slice_trains_the_network_further(tiny_training):
    """Slices are real training steps, not the same step timed again."""
    once, twice = (
        bench_conv.run_conv_benchmark(
            tiny_training,
            n_images=20,
            backends=("numba",),
            layers=tiny_layers,
            repeats=r,
        )["backends"]["numba"]["params_rms"]
        for r in (1, 2)
    )
    assert once != twice


def test_torch_is_skipped_cleanly_when_it_cannot_be_imported(
    tiny_training, monkeypatch
):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises
    results = bench_conv.run_conv_benchmark(
        tiny_training, n_images=20, layers=tiny_layers
    )
    theirs = results["backends"]["torch"]
    assert theirs == {"status": "skipped", "reason": theirs["reason"]}
    assert theirs["reason"].startswith("PyTorch is not installed")
    assert results["backends"]["numba"]["status"] == "ok" and "ratio" not in results
    row = bench_conv.format_conv_table(results).splitlines()[-1]
    assert row.split()[:6] == ["torch", "-", "-", "skipped:", "PyTorch", "is"]


def test_torch_trains_the_same_network_as_ours(tiny_training):
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    results = bench_conv.run_conv_benchmark(
        tiny_training, n_images=20, layers=tiny_layers, torch_threads=1
    )
    ours, theirs = results["backends"]["numba"], results["backends"]["torch"]
    assert theirs["status"] == "ok" and theirs["threads"] == 1
    assert torch.get_num_threads() == threads  # restored
    # same initial weights, mini-batches and update: float32 rounding apart,
    # the trained parameters agree
    assert theirs["params_rms"] == pytest.approx(ours["params_rms"], rel=1e-5)
    assert results["ratio"] == theirs["seconds_per_epoch"] / ours["seconds_per_epoch"]


def test_bad_requests_fail_with_a_clear_message(tiny_training):
    with pytest.raises(ValueError, match="unknown backends"):
        bench_conv.run_conv_benchmark(tiny_training, backends=("gpu",))
    with pytest.raises(ValueError, match="at least one mini-batch"):
        bench_conv.run_conv_benchmark(tiny_training, n_images=5, layers=tiny_layers)
    with pytest.raises(ValueError, match="repeats"):
        bench_conv.run_conv_benchmark(tiny_training, layers=tiny_layers, repeats=0)


def test_the_table_shows_times_threads_and_the_ratio():
    results = {
        "config": dict(
            architecture="conv 3x3x2 + pool 2 -> softmax 3",
            mini_batch_size=10,
            eta=0.03,
            lmbda=0.1,
            dtype="float32",
            n_images=1_000,
            repeats=3,
            scaled_to=50_000,
        ),
        "backends": {
            "numba": dict(
                status="ok", seconds_per_epoch=9.5, gflops=48.53, params_rms=0.25
            ),
            "torch": dict(
                status="ok",
                seconds_per_epoch=28.5,
                gflops=16.18,
                threads=1,
                version="2.13.0+cpu",
                params_rms=0.25,
            ),
        },
        "ratio": 3.0,
    }
    lines = bench_conv.format_conv_table(results).splitlines()
    assert lines[0] == (
        "conv 3x3x2 + pool 2 -> softmax 3; mini-batch 10, eta 0.03, lmbda 0.1, float32"
    )
    assert lines[1] == (
        "best of 3 slices of 1,000 images after a warm-up slice, scaled to 50,000 "
        "per epoch"
    )
    assert lines[2].split() == ["backend", "s/epoch", "GFLOP/s", "notes"]
    assert lines[3].startswith("numba        9.50     48.5  parameters' rms")
    assert lines[4].startswith("torch       28.50     16.2  1 thread(s), torch 2.13.0")
    assert lines[5] == "PyTorch takes 3.00x as long as Numba"
    assert np.isclose(float(lines[5].split()[2][:-1]), results["ratio"])
