"""Chapter 6's convolutional runs: checkpoints let an interrupted run resume."""

import os
from dataclasses import replace

import pytest

from nndl_core import experiments
from nndl_core.experiments import conv_runs


@pytest.fixture
def tiny():
    """The ReLU step's ci settings, cut to three quick epochs."""
    ci = experiments.get("ch6.relu").profile("ci").params
    return replace(ci, n_train=200, n_validation=100, n_test=100, epochs=3)


class StopTrainingError(Exception):
    pass


@pytest.mark.skipif(not os.environ.get("NNDL_MNIST_DIR"), reason="needs NNDL_MNIST_DIR")
def test_an_interrupted_run_resumes_and_matches_an_uninterrupted_one(
    results_root, tiny
):
    expected = conv_runs.train_convnet(tiny, seed=0)
    assert not conv_runs.checkpoint_folder(tiny, 0).exists()  # removed when done

    def stop_after_two(done, total):
        if done == 2:
            raise StopTrainingError

    with pytest.raises(StopTrainingError):
        conv_runs.train_convnet(tiny, seed=0, progress=stop_after_two)
    assert (conv_runs.checkpoint_folder(tiny, 0) / "state.json").exists()

    seen = []
    actual = conv_runs.train_convnet(tiny, seed=0, progress=lambda d, t: seen.append(d))
    assert seen == [3]  # only the third epoch ran again
    assert actual["history"]["validation_accuracy"] == pytest.approx(
        expected["history"]["validation_accuracy"]
    )
    assert actual["test_at_best"] == expected["test_at_best"]
    assert not conv_runs.checkpoint_folder(tiny, 0).exists()


def test_checkpoints_belong_to_one_setting_and_seed(results_root, tiny):
    folders = {
        conv_runs.checkpoint_folder(tiny, 0),
        conv_runs.checkpoint_folder(tiny, 1),
        conv_runs.checkpoint_folder(replace(tiny, eta=0.1), 0),
    }
    assert len(folders) == 3
    assert all(results_root in f.parents for f in folders)
