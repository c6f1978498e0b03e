import numpy as np
import pytest

from nndl_core import baselines
from nndl_core.data import load_mnist


def test_random_guessing_is_near_one_in_ten(seed):
    labels = np.random.default_rng(seed).integers(0, 10, 20_000)
    assert abs(baselines.random_guess_accuracy(labels, seed=seed + 1) - 0.1) < 0.01


def test_average_darkness_picks_the_nearest_mean():
    images = np.array([[0.0, 0.1], [0.5, 0.5], [1.0, 1.0]])
    model = baselines.AverageDarkness().fit(images, np.array([7, 3, 1]))
    assert model.mean_darkness_.tolist() == [2.0, 1.0, 0.1]  # digits sorted: 1, 3, 7
    assert model.predict(np.array([[0.9, 0.9], [0.05, 0.0]])).tolist() == [1, 7]


def test_average_darkness_on_the_shipped_subset_beats_guessing():
    data = load_mnist(subset=True)
    model = baselines.AverageDarkness().fit(*data.training)
    accuracy = np.mean(model.predict(data.test.images) == data.test.labels)
    assert 0.15 < accuracy < 0.35


def test_svm_on_the_subset():
    pytest.importorskip("sklearn")
    data = load_mnist(subset=True)
    assert baselines.svm_accuracy(data.training, data.test) > 0.7  # 78.8 % seen
