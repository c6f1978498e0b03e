"""The dense-network run machinery: what ``train_run`` records and reuses.

Training here uses the small MNIST subset shipped with the package (patched in
for ``load_mnist``).
"""

from dataclasses import replace

import numpy as np
import pytest

from nndl_core.data import load_mnist
from nndl_core.experiments import ch3, runs
from nndl_core.network import Network
from nndl_core.training import TrainingDivergedError


@pytest.fixture
def subset(monkeypatch):
    """Make the runs train on the shipped 1,000-image subset."""
    monkeypatch.setattr(runs, "load_mnist", lambda: load_mnist(subset=True))
    monkeypatch.setattr(runs, "_FINISHED", {})
    return load_mnist(subset=True)


def tiny(**changes):
    """Small chapter-3 run settings on the subset, with ``changes`` applied."""
    base = runs.RunParams(n_train=200, n_eval=100, epochs=3, evaluate_on="validation")
    return replace(base, **changes)


def test_train_network_scores_every_epoch_and_reports_progress(subset):
    params = tiny(epochs=2, mini_batch_size=10, eta=3.0)
    net = Network((784, 10, 10), seed=0, backend="numpy")
    progress = []
    history = runs.train_network(
        net,
        runs.take(subset.training, 200),
        runs.take(subset.validation, 100),
        params,
        seed=0,
        progress=lambda *a: progress.append(a),
    )
    assert progress == [(1, 2), (2, 2)]
    assert len(history.evaluation_accuracy) == 2
    assert runs.summary(history)["final"] == history.evaluation_accuracy[-1]


def test_train_run_records_first_epoch_and_weight_sizes(subset):
    params = tiny(lmbda=5.0, monitor=("evaluation_accuracy", "training_cost"))
    result = runs.train_run(params, seed=0)
    history = result["history"]
    assert result["first"] == history["evaluation_accuracy"][0]
    assert result["diverged"] == "" and result["backend"] in ("numba", "numpy")
    assert len(history["training_cost"]) == 3
    assert result["last_training_cost"] == history["training_cost"][-1]
    rms = np.array(result["weight_rms"])
    assert rms.shape == (4, 2)  # before training, then after each epoch
    assert rms[0] == pytest.approx([1.0, 1.0], abs=0.05)  # N(0, 1) weights


def test_l2_decay_dominates_the_first_epoch(subset):
    """Problem ch3-pb-9, parts (1) and (2), on 1,000 images."""
    eta, lmbda, m = 0.5, 5.0, 10
    params = tiny(n_train=1_000, epochs=1, eta=eta, lmbda=lmbda, mini_batch_size=m)
    rms = np.array(runs.train_run(params, seed=1)["weight_rms"])
    assert rms[1, 0] / rms[0, 0] == pytest.approx(np.exp(-eta * lmbda / m), abs=0.03)


def test_a_shorter_run_is_served_from_a_longer_one(subset):
    params = tiny(lmbda=1.0, monitor=("evaluation_accuracy", "training_cost"))
    fresh = runs.train_run(replace(params, epochs=2), seed=3)
    runs._FINISHED.clear()
    runs.train_run(replace(params, epochs=4), seed=3)
    progress = []
    served = runs.train_run(
        replace(params, epochs=2), seed=3, progress=lambda *a: progress.append(a)
    )
    assert progress == [(2, 2)]
    for result in (fresh, served):
        result["history"].pop("seconds")
    assert served == fresh


def test_divergence_is_recorded_when_allowed(subset):
    # eta * lmbda / n = 10: every step multiplies the weights by -9
    params = replace(ch3.STRIP, n_train=1_000, n_eval=100, allow_divergence=True)
    result = runs.train_run(params, seed=0)
    assert "diverged in epoch 3" in result["diverged"]
    history = result["history"]
    assert len(history["evaluation_correct"]) == len(history["seconds"]) == 3
    # Saturated outputs tie at 1.0 and argmax picks digit 0 for every image.
    zeros = int(np.sum(subset.validation.labels[:100] == 0))
    assert history["evaluation_correct"] == [zeros] * 3
    assert np.isfinite(result["weight_rms"]).all()
    assert result["weight_rms"][-1][0] > 1e200
    # Not allowed: the trainer's check stops the runaway weights in the first
    # epoch (NumPy's overflow warnings off, so that they do not raise first
    # under this suite's strict errstate).
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(TrainingDivergedError, match="epoch 0: a weight or bias"):
            runs.train_run(replace(params, allow_divergence=False), seed=0)


def test_rms_stays_finite_for_huge_weights():
    assert runs._rms([np.full((2, 3), 1e300), np.zeros((1, 2))]) == [1e300, 0.0]
