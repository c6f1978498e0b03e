import os

import pytest

from nndl_core import cli


def test_list_shows_names_books_and_profile_notes(capsys):
    assert cli.main(["list", "--profile", "ci"]) == 0
    out = capsys.readouterr().out
    assert "ch1.net30" in out and "95.42 %" in out and "ci: tiny" in out


@pytest.mark.skipif(not os.environ.get("NNDL_MNIST_DIR"), reason="needs NNDL_MNIST_DIR")
def test_run_prints_ours_and_the_books(capsys, results_root):
    assert cli.main(["run", "ch1.baseline.darkness", "--profile", "ci"]) == 0
    out = capsys.readouterr().out
    assert "ch1.baseline.darkness [ci, seed 0]" in out and "2,225 / 10,000" in out
    assert cli.main(["run", "ch1.baseline.darkness", "--profile", "ci"]) == 0
    assert "(cached)" in capsys.readouterr().out


def test_errors_are_one_clear_line(capsys, tmp_path):
    assert cli.main(["verify-data", "--path", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nndl: error:") and "fetch-data" in err
    assert cli.main(["run", "ch9.nothing", "--profile", "ci"]) == 1
    assert "no experiment" in capsys.readouterr().err


def test_unknown_profile_is_refused_by_argparse():
    with pytest.raises(SystemExit):
        cli.main(["list", "--profile", "huge"])


def test_progress_starts_a_new_bar_for_each_file(capsys):
    pytest.importorskip("tqdm")
    progress = cli._Progress("MNIST", unit="B")
    for done in (0, 50, 100):
        progress(done, 100)
    first = progress.bar
    progress(10, 40)  # the next file restarts from zero
    assert progress.bar is not first and progress.bar.n == 10
    progress.close()
    assert progress.bar is None


def test_run_progress_prints_accuracies_and_the_time_left(capsys):
    ticks = iter([0.0, 10.0, 14.0, 18.0])  # start, then the end of epochs 1-3
    progress = cli._RunProgress("ch6.demo seed 0", clock=lambda: next(ticks))

    class History:
        validation_accuracy, test_accuracy = [0.9, 0.95], [0.89, 0.94]

    progress.epoch(1, 5, History, None)
    progress(1, 5)  # the first epoch also paid for start-up: 10 s
    progress(2, 5)  # from now on the mean since epoch 1: 4 s per epoch
    progress(3, 5)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "ch6.demo seed 0: epoch 1/5, validation 95.00%, test 94.00%, 10.0 s/epoch, "
        "ETA 40 s",
        "ch6.demo seed 0: epoch 2/5, 4.0 s/epoch, ETA 12 s",
        "ch6.demo seed 0: epoch 3/5, 4.0 s/epoch, ETA 8 s",
    ]


@pytest.fixture
def mnist_subset(monkeypatch):
    """Chapter 6's experiments train on the MNIST subset shipped in the package."""
    from nndl_core.data import load_mnist
    from nndl_core.experiments import conv_runs

    monkeypatch.setattr(
        conv_runs, "load_mnist", lambda *a, **k: load_mnist(subset=True)
    )


def _without_seconds(value):
    """A ch6 result without its timings (they differ from run to run)."""
    value = dict(value, history=dict(value["history"]))
    value.pop("seconds_per_epoch")
    value["history"].pop("seconds")
    return value


def test_an_interrupted_convnet_run_resumes_where_it_stopped(
    capsys, monkeypatch, results_root, mnist_subset
):
    from nndl_core import experiments

    command = ["run", "ch6.relu", "--profile", "ci", "--seed", "0"]
    report = cli._RunProgress.__call__

    def ctrl_c_after_epoch_1(self, done, total):
        report(self, done, total)
        if done == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises, here after a checkpoint

    monkeypatch.setattr(cli._RunProgress, "__call__", ctrl_c_after_epoch_1)
    assert cli.main(command) == 130
    err = capsys.readouterr().err
    assert "ch6.relu seed 0: epoch 1/2, validation " in err and ", ETA " in err
    assert "the same command resumes after epoch 1 of 2" in err
    assert err.endswith("nndl: interrupted\n")

    monkeypatch.setattr(cli._RunProgress, "__call__", report)
    assert cli.main(command) == 0
    out, err = capsys.readouterr()
    assert "resuming from epoch 1 of 2" in err
    assert "epoch 2/2, validation " in err and "epoch 1/2" not in err
    assert "ch6.relu [ci, seed 0]" in out
    resumed = experiments.cached("ch6.relu", "ci", 0).value

    assert cli.main([*command, "--rerun"]) == 0  # the same run, uninterrupted
    err = capsys.readouterr().err
    assert "resuming" not in err and "epoch 1/2" in err
    straight = experiments.cached("ch6.relu", "ci", 0).value
    assert _without_seconds(resumed) == _without_seconds(straight)
    assert len(resumed["history"]["seconds"]) == 2


def test_bench_network_conv_times_the_book_network(capsys, monkeypatch):
    from nndl_core import data

    load_mnist = data.load_mnist
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: load_mnist(subset=True))
    command = ["bench", "--network", "conv", "--images", "20", "--repeats", "2"]
    assert cli.main([*command, "--backends", "numba"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("conv 5x5x20 + pool 2 -> conv 5x5x40 + pool 2 -> FC 100")
    assert "best of 2 slices of 20 images" in out
    assert "\nnumba " in out and "torch" not in out


def test_reproduce_reports_epochs_and_resumes_too(
    capsys, monkeypatch, results_root, mnist_subset
):
    command = ["reproduce", "--profile", "ci", "--only", "ch6.conv1"]
    report = cli._RunProgress.__call__

    def ctrl_c_after_epoch_1(self, done, total):
        report(self, done, total)
        if done == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli._RunProgress, "__call__", ctrl_c_after_epoch_1)
    assert cli.main(command) == 130
    assert "resumes after epoch 1 of 2" in capsys.readouterr().err
    monkeypatch.setattr(cli._RunProgress, "__call__", report)
    assert cli.main(command) in (0, 1)  # 1: the ci numbers miss the book's
    out, err = capsys.readouterr()
    assert "ch6.conv1 seed 0: resuming from epoch 1 of 2" in err
    assert "ch6.conv1 seed 0: epoch 2/2, validation " in err and "ch6.conv1" in out


def test_bench_dense_ch3_times_the_chapter_3_network(capsys, monkeypatch):
    from nndl_core import data

    load_mnist = data.load_mnist
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: load_mnist(subset=True))
    command = ["bench", "--network", "dense-ch3", "--epochs", "1"]
    assert cli.main([*command, "--backends", "numba"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Network [784, 100, 10], cross_entropy cost, L2 lmbda 5.0")
    assert "\nnumba " in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["warm-cache", "--profile", "ci", "--chapter", "99"],
            "no experiment of chapter 99",
        ),
        (["reproduce", "--only", "no.such"], "no experiment 'no.such'"),
        (["reproduce", "--list", "--only", "no.such"], "no experiment 'no.such'"),
        (
            ["reproduce", "--chapter", "3", "--only", "ch1.net30"],
            "not an experiment of",
        ),
    ],
)
def test_filters_that_match_nothing_fail(argv, message, capsys, results_root):
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert not results_root.exists()  # nothing ran


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["run", "ch1.net30", "--seed", "-5"], "--seed"),
        (["warm-cache", "--chapter", "0"], "--chapter"),
        (["bench", "--epochs", "two"], "--epochs"),
    ],
)
def test_bad_numbers_name_their_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert f"argument {flag}: must be an integer" in capsys.readouterr().err


def test_help_is_plain_text_and_names_the_environment(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and ":func:" not in out
    for variable in (
        "NNDL_PROFILE",
        "NNDL_MNIST_DIR",
        "NNDL_RESULTS_DIR",
        "NNDL_THREADS",
    ):
        assert variable in out
    assert "(default: default)" in out


def test_run_documents_its_arguments(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = capsys.readouterr().out
    assert "the experiment, e.g. ch1.net30" in out
    assert "one seed" in out and "train again" in out and "$NNDL_PROFILE" in out
