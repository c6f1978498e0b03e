from dataclasses import dataclass

import pytest

from nndl_core import cli, experiments
from nndl_core.experiments import BookFigure, Profile, ledger


@dataclass(frozen=True)
class Run:
    score: float
    epochs: int = 1
    n_train: int = 10


def _fake(params, seed, progress=None):
    return {"best": params.score + seed / 1000, "final": 0.5}


experiments.experiment(
    "test.ledger_ok",
    title="matches the book",
    profiles={
        "ci": Profile(Run(0.9), "tiny"),
        "default": Profile(Run(0.95, epochs=2), "reduced"),
        "full": Profile(Run(0.95, epochs=4), "the book's settings", seeds=(0, 1)),
    },
    book=BookFigure(0.951, "95.1 %", "test", "test section", 0.002),
)(_fake)

experiments.experiment(
    "test.ledger_off",
    title="misses the book",
    profiles={p: Profile(Run(0.5), "x") for p in experiments.PROFILES},
    book=BookFigure(0.9, "90 %", "test", "test section", 0.01, key="final"),
)(_fake)


def _rows(**kwargs):
    return {
        r.name: r for r in ledger.ledger_rows(**kwargs) if r.name.startswith("test.")
    }


def test_rows_start_missing_and_fill_after_reproduce(results_root):
    before = _rows(profile="full", only="test.ledger_ok")["test.ledger_ok"]
    assert before.status == "missing" and before.ours is None and before.n_runs == 0
    rows = ledger.reproduce("full", only="test.ledger_ok")
    (row,) = rows
    assert row.n_runs == 2 and row.ours == pytest.approx(0.951)  # best of the seeds
    assert row.status == "ok" and row.difference == pytest.approx(0.0)


def test_the_books_key_picks_the_compared_number(results_root):
    (row,) = ledger.reproduce("ci", only="test.ledger_off")
    assert row.ours == 0.5 and row.status == "off"


def test_a_reduced_profile_is_not_judged_by_the_tolerance(results_root):
    (row,) = ledger.reproduce("ci", only="test.ledger_ok")
    assert row.ours == 0.9 and not row.book_settings and row.status == "reduced"


def test_headline_prefers_the_explicit_key():
    assert ledger.headline({"best": 0.9, "accuracy": 0.8}) == 0.9
    assert ledger.headline({"best": 0.9, "final": 0.7}, key="final") == 0.7
    assert ledger.headline({"rows": []}) is None


def test_estimate_scales_cached_time_by_work(results_root):
    assert ledger.estimate_seconds("test.ledger_ok", "full") is None
    result = experiments.load_or_run("test.ledger_ok", "default")
    estimate = ledger.estimate_seconds("test.ledger_ok", "full")
    assert estimate == pytest.approx(result.seconds * 2)


def test_cli_reproduce_exits_nonzero_on_a_miss(results_root, capsys):
    assert cli.main(["reproduce", "--only", "test.ledger_ok"]) == 0  # full profile
    assert "ok (2/2 runs)" in capsys.readouterr().out
    assert cli.main(["reproduce", "--profile", "ci", "--only", "test.ledger_off"]) == 1
    captured = capsys.readouterr()
    assert "off" in captured.out and "outside the book's tolerance" in captured.err
    assert cli.main(["reproduce", "--list", "--only", "test.ledger_ok"]) == 0
    assert "2/2 runs cached" in capsys.readouterr().out


def test_values_are_shown_in_their_unit():
    assert ledger.format_value(0.9542) == "95.42%"
    assert ledger.format_value(2.0, "x") == "2x"
    assert ledger.format_value(0.3721, "") == "0.372"
    assert ledger.format_value(None) == "-"


def test_ratio_rows_report_plain_differences():
    rows = {r.name: r for r in ledger.ledger_rows("ci") if r.name.startswith("ch2.")}
    assert rows["ch2.matrix_speedup"].unit == "x"
    assert rows["ch2.matrix_speedup"].show(2.0) == "2x"


def test_a_row_from_earlier_code_says_so(results_root, monkeypatch):
    ledger.reproduce("full", only="test.ledger_ok")
    fresh = _rows(profile="full", only="test.ledger_ok")["test.ledger_ok"]
    assert not fresh.stale and "earlier" not in fresh.code
    monkeypatch.setattr(experiments, "results_hash", lambda **_: "0123456789abcdef")
    row = _rows(profile="full", only="test.ledger_ok")["test.ledger_ok"]
    assert row.stale and row.status == "ok" and row.code.endswith("(earlier code)")
    assert row.code_hash == fresh.code_hash


def test_estimates_count_expanded_images():
    @dataclass(frozen=True)
    class Conv:
        epochs: int = 2
        n_train: int = 10
        expanded: bool = True
        n_networks: int = 3

    assert ledger._work(Conv()) == 2 * 10 * 5 * 3


def test_seed_spread_lists_each_seed_of_multi_seed_runs(results_root):
    ledger.reproduce("full", only="test.ledger_ok")
    ledger.reproduce("full", only="test.ledger_off")  # one seed: not listed
    rows = ledger.ledger_rows("full")
    spreads = {row.name: scores for row, scores in ledger.seed_spread(rows)}
    assert spreads["test.ledger_ok"] == pytest.approx([0.95, 0.951])
    assert "test.ledger_off" not in spreads


def test_a_run_without_a_headline_number_counts_as_ran(results_root):
    experiments.experiment(
        "test.ledger_vector",
        title="a per-layer vector, no single number",
        profiles={p: Profile(Run(0.0), "x") for p in experiments.PROFILES},
        book=BookFigure(None, "[0.07, 0.31]", "-", "test section"),
    )(lambda params, seed, progress=None: {"norms": [0.1, 0.3]})
    (row,) = ledger.reproduce("ci", only="test.ledger_vector")
    assert row.ours is None and row.n_runs == 1 and row.status == "ran"


def test_curves_yield_the_number_the_book_quotes():
    curve = {"sizes": [1_000, 5_000, 50_000], "network": [0.8, 0.93, 0.96]}
    assert ledger.headline(curve, name="ch3.more_data") == 0.93
    assert ledger.headline({"sizes": [100]}, name="ch3.more_data") is None
    neuron = {"quadratic_0.6_0.9": {"output": [0.82, 0.5, 0.09]}}
    assert ledger.headline(neuron, name="ch3.neuron") == 0.09
