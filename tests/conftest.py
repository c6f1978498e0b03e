"""Shared fixtures: seeded generators, strict floating point, headless plots.

``NNDL_TEST_SEED=all`` runs seed-parametrised tests over seeds 0..99
(scikit-learn's ``global_random_seed`` idea); the default is one seed.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def _seeds():
    value = os.environ.get("NNDL_TEST_SEED", "0")
    return list(range(100)) if value == "all" else [int(value)]


@pytest.fixture(params=_seeds())
def seed(request):
    """An integer seed; every value under ``NNDL_TEST_SEED=all``."""
    return request.param


@pytest.fixture
def rng(seed):
    """A generator seeded by :func:`seed`."""
    return np.random.default_rng(seed)


@pytest.fixture(autouse=True)
def _strict_floating_point():
    """Overflow or invalid operations in library code fail the test."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        yield


@pytest.fixture
def results_root(tmp_path, monkeypatch):
    """A private results cache for tests that run experiments."""
    root = tmp_path / "results"
    monkeypatch.setenv("NNDL_RESULTS_DIR", str(root))
    return root
