from dataclasses import dataclass

import pytest

from nndl_core import experiments
from nndl_core.experiments import Profile, _cache


@dataclass(frozen=True)
class Toy:
    size: int


CALLS = []


@experiments.experiment(
    "test.toy",
    title="a toy experiment for the tests",
    profiles={
        "ci": Profile(Toy(1), "tiny"),
        "default": Profile(Toy(2), "reduced", seeds=(0, 1)),
        "full": Profile(Toy(3), "the book's settings"),
    },
)
def toy(params, seed, progress=None):
    CALLS.append((params.size, seed))
    if progress is not None:
        progress(1, 1)
    return {"value": params.size * 10 + seed}


def test_load_or_run_runs_once_then_reads_the_cache(results_root):
    CALLS.clear()
    first = experiments.load_or_run("test.toy", "ci")
    second = experiments.load_or_run("test.toy", "ci")
    assert CALLS == [(1, 0)]
    assert (first.cached, second.cached) == (False, True)
    assert second.value == first.value == {"value": 10}
    assert second.params == {"size": 1} and second.code_hash == _cache.results_hash()
    assert len(list(results_root.rglob("*.json"))) == 1


def test_rerun_and_seeds(results_root):
    CALLS.clear()
    runs = experiments.load_or_run_seeds("test.toy", "default")
    assert [r.value["value"] for r in runs] == [20, 21]
    experiments.load_or_run("test.toy", "default", seed=1, rerun=True)
    assert CALLS == [(2, 0), (2, 1), (2, 1)]


def test_progress_is_passed_through(results_root):
    seen = []
    experiments.load_or_run(
        "test.toy", "full", progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 1)]


def test_cache_key_changes_with_every_ingredient():
    base = _cache.cache_key("a", {"x": 1}, "ci", 0, "h")
    others = [
        _cache.cache_key("b", {"x": 1}, "ci", 0, "h"),
        _cache.cache_key("a", {"x": 2}, "ci", 0, "h"),
        _cache.cache_key("a", {"x": 1}, "full", 0, "h"),
        _cache.cache_key("a", {"x": 1}, "ci", 1, "h"),
        _cache.cache_key("a", {"x": 1}, "ci", 0, "g"),
    ]
    assert len({base, *others}) == 6


def test_library_hash_follows_the_sources(tmp_path):
    (tmp_path / "m.py").write_text("x = 1\n")
    before = _cache.library_hash(tmp_path)
    (tmp_path / "m.py").write_text("x = 2\n")
    assert _cache.library_hash(tmp_path) != before


def test_results_hash_ignores_presentation_modules(tmp_path):
    (tmp_path / "network.py").write_text("x = 1\n")
    (tmp_path / "plotting_extra.py").write_text("y = 1\n")
    before = (_cache.library_hash(tmp_path), _cache.results_hash(tmp_path))
    (tmp_path / "plotting_extra.py").write_text("y = 2\n")
    assert _cache.results_hash(tmp_path) == before[1]
    assert _cache.library_hash(tmp_path) != before[0]


def test_a_corrupt_cache_file_is_set_aside_and_run_again(results_root):
    result = experiments.load_or_run("test.toy", "ci")
    (path,) = results_root.rglob("*.json")
    path.write_text("{not json")
    again = experiments.load_or_run("test.toy", "ci")
    assert not again.cached and again.value == result.value == {"value": 10}
    assert len(list(path.parent.glob(f"{path.name}.bad-*"))) == 1


def test_profiles_are_validated(monkeypatch):
    monkeypatch.setenv("NNDL_PROFILE", "huge")
    with pytest.raises(ValueError, match="choose one of"):
        experiments.current_profile()
    monkeypatch.delenv("NNDL_PROFILE")
    assert experiments.current_profile() == "default"
    with pytest.raises(ValueError, match="no profile"):
        experiments.get("test.toy").profile("huge")
    with pytest.raises(KeyError, match="no experiment"):
        experiments.get("test.nothing")


def test_every_registered_experiment_is_complete():
    registry = experiments.registry()
    assert {"ch1.net30", "ch1.net100", "ch1.baseline.darkness"} <= set(registry)
    for name, exp in registry.items():
        if name.startswith("test."):  # toy experiments registered by the tests
            continue
        assert set(exp.profiles) == set(experiments.PROFILES), name
        assert exp.book is not None and exp.book.source, name
        for profile in experiments.PROFILES:
            assert exp.profile(profile).note, (name, profile)


def test_ch1_default_runs_the_books_settings():
    for name in ("ch1.net30", "ch1.net100", "ch1.eta_small", "ch1.eta_large"):
        exp = experiments.get(name)
        assert exp.is_book_settings("default") and not exp.is_book_settings("ci")
        params = exp.profile("full").params
        assert (params.epochs, params.mini_batch_size, params.n_train) == (
            30,
            10,
            50_000,
        )


def test_a_missing_profile_is_a_registration_error():
    with pytest.raises(ValueError, match="lacks profiles"):
        experiments.experiment("test.bad", title="x", profiles={"ci": None})


def test_latest_keeps_showing_a_run_made_by_earlier_code(results_root, monkeypatch):
    assert experiments.latest("test.toy", "full") is None
    made = experiments.load_or_run("test.toy", "full")
    assert experiments.latest("test.toy", "full") == made
    assert not experiments.latest("test.toy", "full").stale
    monkeypatch.setattr(experiments, "results_hash", lambda **_: "newer-code")
    assert experiments.cached("test.toy", "full") is None  # never reused to run
    old = experiments.latest("test.toy", "full")
    assert old.stale and old.value == made.value and old.code_hash == made.code_hash
    assert experiments.latest("test.toy", "ci") is None  # other parameters


def test_latest_picks_the_newest_stale_run(results_root, monkeypatch):
    for code in ("first", "second"):
        monkeypatch.setattr(experiments, "results_hash", lambda code=code, **_: code)
        experiments.load_or_run("test.toy", "ci")
    monkeypatch.setattr(experiments, "results_hash", lambda **_: "third")
    records = _cache.read_results("test.toy", results_root)
    assert sorted(r["code_hash"] for r in records) == ["first", "second"]
    newest = max(records, key=lambda r: r["created"])
    assert experiments.latest("test.toy", "ci").code_hash == newest["code_hash"]


def _package(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_experiments_hash_covers_only_what_it_imports(tmp_path):
    _package(
        tmp_path,
        {
            "__init__.py": "from .network import Network\nfrom .conv import Conv\n",
            "network.py": "def Network(): return 1\n",
            "conv.py": "def Conv(): return 2\n",
            "kernels/__init__.py": "",
            "kernels/dense.py": "K = 1\n",
            "experiments/__init__.py": "def experiment(): pass\n",
            "experiments/ch1.py": (
                "from .. import network\nfrom . import experiment\n"
                "def run():\n    from ..kernels import dense\n"
            ),
            "experiments/ch6.py": "from ..conv import Conv\n",
        },
    )

    def names(module):
        closure = _cache.import_closure(f"nndl_core.experiments.{module}", tmp_path)
        return [p.relative_to(tmp_path).as_posix() for p in closure]

    assert names("ch1") == [
        "experiments/__init__.py",
        "experiments/ch1.py",
        "kernels/dense.py",  # imported inside a function
        "network.py",  # the package __init__ (re-exporting conv) is not pulled in
    ]
    assert names("ch6") == ["conv.py", "experiments/ch6.py"]
    hashes = {
        m: _cache.results_hash(tmp_path, f"nndl_core.experiments.{m}")
        for m in ("ch1", "ch6")
    }
    (tmp_path / "network.py").write_text("def Network(): return 3\n")
    assert _cache.results_hash(tmp_path, "nndl_core.experiments.ch6") == hashes["ch6"]
    assert _cache.results_hash(tmp_path, "nndl_core.experiments.ch1") != hashes["ch1"]
    after = _cache.results_hash(tmp_path, "nndl_core.experiments.ch1")
    (tmp_path / "experiments/__init__.py").write_text("def experiment(): return 0\n")
    assert _cache.results_hash(tmp_path, "nndl_core.experiments.ch1") == after


@dataclass(frozen=True)
class Shaped:
    sizes: tuple = (3, 2)


experiments.experiment(
    "test.shaped",
    title="tuple parameters, stored as JSON lists",
    profiles={p: Profile(Shaped(), "x") for p in experiments.PROFILES},
)(lambda params, seed, progress=None: {"best": 1.0})


def test_latest_matches_tuple_parameters_stored_as_lists(results_root, monkeypatch):
    made = experiments.load_or_run("test.shaped", "full")
    monkeypatch.setattr(experiments, "results_hash", lambda **_: "later")
    assert experiments.latest("test.shaped", "full").value == made.value
