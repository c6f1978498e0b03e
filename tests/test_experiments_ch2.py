"""Chapter 2's timing experiments: registered, well-formed, and honest."""

import pytest

from nndl_core import experiments
from nndl_core.experiments import ch2


def test_both_experiments_are_registered_with_three_profiles():
    for name in ("ch2.finite_diff_vs_backprop", "ch2.matrix_speedup"):
        exp = experiments.get(name)
        assert set(exp.profiles) == set(experiments.PROFILES)
        assert exp.book.value == 2.0
    assert experiments.get("ch2.matrix_speedup").is_book_settings("default")


def test_best_time_is_positive_and_small_for_a_cheap_call():
    seconds = ch2.best_time(lambda: sum(range(100)), repeats=2, min_seconds=0.001)
    assert 0 < seconds < 0.01


def test_finite_diff_vs_backprop_on_tiny_networks():
    params = ch2.FiniteDiffParams(hidden=(1, 3), n_in=5, n_out=2, repeats=1)
    rows = ch2.finite_diff_vs_backprop(params, seed=0)["rows"]
    assert [r["hidden"] for r in rows] == [1, 3]
    assert [r["n_params"] for r in rows] == [1 * 6 + 2 * 2, 3 * 6 + 2 * 4]
    for r in rows:
        assert r["t_finite_diff"] > r["t_forward"] > 0
        assert r["speedup"] == pytest.approx(r["t_finite_diff"] / r["t_backprop"])
        assert r["finite_diff_error"] < 1e-4  # eq. (46) is first-order accurate


def test_matrix_speedup_on_the_shipped_subset():
    params = ch2.MatrixSpeedupParams(
        sizes=((784, 5, 10),), n_train=100, repeats=1, subset=True
    )
    progress = []
    rows = ch2.matrix_speedup(params, seed=0, progress=lambda *a: progress.append(a))[
        "rows"
    ]
    assert progress == [(1, 1)]
    (row,) = rows
    assert row["n_batches"] == 10 and row["sizes"] == [784, 5, 10]
    assert row["t_loop"] > 0 and row["t_matrix"] > 0
    assert row["first_step_difference"] < 1e-13  # the same computation
    assert row["after_pass_difference"] < 1e-9  # 10 steps: no time to drift


@pytest.mark.slow
def test_ci_profile_runs_through_load_or_run(results_root):
    result = experiments.load_or_run("ch2.finite_diff_vs_backprop", "ci")
    assert result.profile == "ci"
    assert [r["hidden"] for r in result.value["rows"]] == [1, 2, 4, 8, 16]
