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
