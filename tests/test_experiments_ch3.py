"""Chapter 3's experiments: the book's settings and the chapter's own runs.

Training here uses the small MNIST subset shipped with the package (patched in
for ``load_mnist``), except the last test, which needs the real files
(``$NNDL_MNIST_DIR``) and runs the book's tiny "broad strategy" runs.
"""

import dataclasses
import os
from dataclasses import replace

import numpy as np
import pytest

from nndl_core import experiments
from nndl_core.data import load_mnist
from nndl_core.experiments import ch3, runs
from nndl_core.experiments.ledger import ledger_rows

BOOK_SETTINGS = {
    # name: (sizes, epochs, eta, lmbda, n_train, evaluated on, n_eval, initializer)
    "ch3.xent100": ((784, 100, 10), 30, 0.5, 0.0, 50_000, "test", 10_000, "large"),
    "ch3.l2_100_60ep": (
        (784, 100, 10),
        60,
        0.1,
        5.0,
        50_000,
        "validation",
        10_000,
        "large",
    ),
    "ch3.hyper.bad": (
        (784, 30, 10),
        30,
        10.0,
        1000.0,
        50_000,
        "validation",
        10_000,
        "default",
    ),
    "ch3.hyper.strip1": (
        (784, 10),
        30,
        10.0,
        1000.0,
        1_000,
        "validation",
        100,
        "default",
    ),
    "ch3.hyper.strip2": (
        (784, 10),
        30,
        10.0,
        20.0,
        1_000,
        "validation",
        100,
        "default",
    ),
    "ch3.hyper.strip3": (
        (784, 10),
        30,
        100.0,
        20.0,
        1_000,
        "validation",
        100,
        "default",
    ),
    "ch3.hyper.strip4": ((784, 10), 30, 1.0, 20.0, 1_000, "validation", 100, "default"),
}


def settings(params):
    return (
        params.sizes,
        params.epochs,
        params.eta,
        params.lmbda,
        params.n_train,
        params.evaluate_on,
        params.n_eval,
        params.initializer,
    )


@pytest.fixture
def subset(monkeypatch):
    """Make the experiments train on the shipped 1,000-image subset."""
    for module in (ch3, runs):
        monkeypatch.setattr(module, "load_mnist", lambda: load_mnist(subset=True))
    monkeypatch.setattr(runs, "_FINISHED", {})
    return load_mnist(subset=True)


# ---------------------------------------------------------------- registry


@pytest.mark.parametrize("name", sorted(BOOK_SETTINGS))
def test_full_profile_is_the_books_run(name):
    exp = experiments.get(name)
    full = exp.profile("full").params
    assert settings(full) == BOOK_SETTINGS[name]
    assert (full.mini_batch_size, full.cost, full.regularization) == (
        10,
        "cross_entropy",
        "l2",
    )
    assert exp.is_book_settings("default"), "default should afford the book's run"
    book = exp.book
    assert book.tolerance is not None and book.tolerance > 0
    assert book.source.startswith(
        "http://neuralnetworksanddeeplearning.com/chap3.html#"
    )
    assert book.scored_on.startswith(full.evaluate_on)


def test_book_numbers_of_the_new_runs():
    values = {
        name: experiments.get(name).book.value
        for name in ("ch3.xent100", "ch3.l2_100_60ep", "ch3.init100", "ch3.hyper.bad")
    }
    assert values == {
        "ch3.xent100": 0.9682,
        "ch3.l2_100_60ep": 0.9804,
        "ch3.init100": 0.9781,
        "ch3.hyper.bad": 0.1030,
    }
    # strips: the first count of each transcript, out of 100
    for k, first in zip((1, 2, 3, 4), (10, 12, 10, 62)):
        book = experiments.get(f"ch3.hyper.strip{k}").book
        assert (book.value, book.key) == (first / 100, "first")
        assert ch3.BOOK_TRANSCRIPTS[f"ch3.hyper.strip{k}"][0][0] == first


def test_init100_compares_both_initializers_at_the_books_settings():
    exp = experiments.get("ch3.init100")
    params = exp.profile("full").params
    assert params.initializers == ("large", "default")
    assert settings(params.run)[:7] == (
        (784, 100, 10),
        30,
        0.1,
        5.0,
        50_000,
        "validation",
        10_000,
    )
    assert exp.is_book_settings("default") and not exp.is_book_settings("ci")
    assert exp.book.key is None  # the ledger reads "headline"
    assert ch3.BOOK_INIT100 == {"large": (0.8994, 0.9742), "default": (0.9295, 0.9781)}
    # Its N(0, 1) run is the first 30 epochs of ch3.l2_100_60ep: same settings.
    sixty = experiments.get("ch3.l2_100_60ep").profile("full").params
    assert replace(params.run, initializer="large") == replace(sixty, epochs=30)


def test_init30_is_scored_after_the_first_epoch():
    for init, first in (("large", 0.8643), ("default", 0.9270)):
        book = experiments.get(f"ch3.init30.{init}").book
        assert (book.value, book.key) == (first, "first")


def test_eta_runs_are_compared_on_the_training_cost():
    for eta, (_, last) in ch3.BOOK_ETA_COST.items():
        book = experiments.get(f"ch3.eta.{eta}").book
        assert (book.value, book.key, book.unit) == (last, "last_training_cost", "")
        monitor = experiments.get(f"ch3.eta.{eta}").profile("full").params.monitor
        assert "training_cost" in monitor


def test_l2_1000_monitors_what_the_page_draws():
    params = experiments.get("ch3.l2_1000").profile("full").params
    assert set(params.monitor) == {"evaluation_accuracy", "training_cost"}
    assert (params.epochs, params.n_train, params.lmbda) == (400, 1_000, 0.1)


# ---------------------------------------------------------------- the chapter's runs


def tiny(**changes):
    """Small chapter-3 run settings on the subset, with ``changes`` applied."""
    base = runs.RunParams(n_train=200, n_eval=100, epochs=3, evaluate_on="validation")
    return replace(base, **changes)


def test_init_comparison_trains_both(subset):
    params = ch3.InitParams(tiny(epochs=2, eta=0.1, lmbda=5.0))
    progress = []
    result = ch3.init_comparison(params, 0, lambda *a: progress.append(a))
    assert set(result) == {"large", "default", "headline"}
    assert result["headline"] == result["default"]["final"]
    assert progress[-1] == (4, 4) and [p[0] for p in progress] == [1, 2, 3, 4]
    # N(0, 1/n_in) weights start small: RMS about 1/sqrt(784)
    assert result["default"]["weight_rms"][0][0] == pytest.approx(
        1 / np.sqrt(784), rel=0.05
    )


def test_params_stay_json_ready():
    for name in ("ch3.init100", "ch3.hyper.strip1"):
        params = experiments.get(name).profile("ci").params
        assert dataclasses.asdict(params)


# ---------------------------------------------------------------- real MNIST


@pytest.mark.skipif(not os.environ.get("NNDL_MNIST_DIR"), reason="needs NNDL_MNIST_DIR")
def test_broad_strategy_strips_reproduce_the_book(results_root):
    """The four tiny runs are the book's settings even in ci; all within tolerance."""
    with np.errstate(over="ignore", invalid="ignore"):
        for k in (1, 2, 3, 4):
            experiments.load_or_run(f"ch3.hyper.strip{k}", "ci")
    rows = {
        row.name: row
        for row in ledger_rows("ci", chapter=3, root=results_root)
        if row.name.startswith("ch3.hyper.strip")
    }
    assert {name: row.status for name, row in rows.items()} == {
        f"ch3.hyper.strip{k}": "ok" for k in (1, 2, 3, 4)
    }
    strip1 = experiments.load_or_run("ch3.hyper.strip1", "ci").value
    assert "diverged in epoch 3" in strip1["diverged"]
    assert strip1["history"]["evaluation_correct"] == [10, 10, 10]  # the book's


# ------------------------------------------- the lambda and mini-batch runs


def test_lambda_sweep_moves_by_factors_of_ten_from_one():
    exp = experiments.get("ch3.lambda")
    for profile in ("ci", "default", "full"):
        lmbdas = exp.profile(profile).params.lmbdas
        assert 1.0 in lmbdas
        assert np.allclose(np.diff(np.log10(lmbdas)), 1.0)
    full = exp.profile("full").params.run
    assert (full.n_train, full.epochs, full.eta) == (50_000, 30, 0.5)
    assert exp.book.value is None


def test_lambda_sweep_trains_one_network_per_lambda(subset):
    params = ch3.LambdaParams(tiny(epochs=2), lmbdas=(0.1, 1.0))
    progress = []
    result = ch3.lambda_sweep(params, 0, lambda *a: progress.append(a))
    assert progress == [(1, 2), (2, 2)]
    assert {"0.1", "1", "best_lmbda", "headline"} <= set(result)
    best = result["best_lmbda"]
    assert result["headline"] == result[f"{best:g}"]["best"]
    assert result["headline"] == max(result[k]["best"] for k in ("0.1", "1"))


def test_mini_batch_runs_rescale_eta_as_eq_102_says():
    params = experiments.get("ch3.minibatch").profile("default").params
    rescaled = [(m, eta) for m, eta in params.settings if eta != 1.0]
    assert [eta / m for m, eta in rescaled] == pytest.approx([0.05] * 3)
    assert set(params.backends) == {"numpy", "numba"}


def test_mini_batch_runs_time_each_epoch(subset):
    run = tiny(epochs=2, n_train=200)
    params = ch3.MiniBatchParams(run, settings=((1, 0.05), (20, 1.0)))
    result = ch3.mini_batch_timing(params, 0)
    runs = result["runs"]
    assert [(r["backend"], r["m"]) for r in runs] == [
        ("numpy", 1),
        ("numpy", 20),
        ("numba", 1),
        ("numba", 20),
    ]
    for r in runs:
        assert len(r["history"]["seconds"]) == 2
        assert all(s > 0 for s in r["history"]["seconds"])
    assert result["headline"] == max(r["best"] for r in runs)
    # Both backends train the same network from the same seeds.
    by_key = {(r["backend"], r["m"]): r["history"]["evaluation_correct"] for r in runs}
    assert by_key[("numpy", 20)] == by_key[("numba", 20)]
