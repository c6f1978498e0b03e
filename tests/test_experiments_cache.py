"""The results cache trusts none of its files (nndl_core.experiments._cache).

A bad record (unreadable, truncated, hand-edited, the wrong shape, from
another key, or written before records carried a digest) is logged, set
aside as ``<key>.json.bad-<time>`` and computed again; a results folder that
cannot be written fails before anything trains.
"""

import json
import logging
import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nndl_core import cli, experiments
from nndl_core.experiments import Profile, _cache, ledger

NAME = "test.cache_toy"
CALLS = []


@dataclass(frozen=True)
class Size:
    size: int


@experiments.experiment(
    NAME,
    title="a toy experiment for the cache tests",
    profiles={p: Profile(Size(i + 1), p) for i, p in enumerate(experiments.PROFILES)},
)
def _toy(params, seed, progress=None):
    CALLS.append((params.size, seed))
    return {"accuracy": 0.5 + params.size / 100}


@pytest.fixture
def record_path(results_root):
    """The file of a freshly cached ``ci`` run of the toy (CALLS then empty)."""
    experiments.load_or_run(NAME, "ci")
    CALLS.clear()
    (path,) = (results_root / NAME).glob("*.json")
    return path


def _aside(path):
    return sorted(path.parent.glob(f"{path.name}.bad-*"))


def _edit(path, change):
    """Apply ``change`` to the JSON in ``path``, keeping the (now stale) digest."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_a_record_carries_the_digest_of_its_contents(record_path):
    data = json.loads(record_path.read_text())
    digest = data.pop(_cache.DIGEST_FIELD)
    assert digest == _cache._digest(data) and len(digest) == 64
    assert experiments.load_or_run(NAME, "ci").cached and CALLS == []


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            lambda p: _edit(p, lambda d: d["value"].update(accuracy=0.99)),
            id="hand-edited number",
        ),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:-40]), id="truncated"),
        pytest.param(lambda p: p.write_text("[1, 2]"), id="a list"),
        pytest.param(
            lambda p: _edit(p, lambda d: [d.pop(_cache.DIGEST_FIELD), d.pop("seed")]),
            id="no digest, a field missing",
        ),
        pytest.param(lambda p: p.write_bytes(b"\xff\xfe\x00"), id="not UTF-8"),
        pytest.param(lambda p: p.write_text("[" * 100_000), id="too deep"),
    ],
)
def test_a_bad_record_is_logged_set_aside_and_run_again(record_path, damage, caplog):
    damage(record_path)
    with caplog.at_level(logging.WARNING, logger=_cache.__name__):
        result = experiments.load_or_run(NAME, "ci")
    assert not result.cached and CALLS == [(1, 0)]
    assert result.value == {"accuracy": 0.51}
    assert len(_aside(record_path)) == 1
    assert "bad cached result" in caplog.text and record_path.name in caplog.text
    assert experiments.load_or_run(NAME, "ci").cached  # the new record is good


def test_a_sound_record_written_before_digests_is_adopted(record_path, caplog):
    _edit(record_path, lambda d: d.pop(_cache.DIGEST_FIELD))
    with caplog.at_level(logging.INFO, logger=_cache.__name__):
        result = experiments.load_or_run(NAME, "ci")
    assert result.cached and CALLS == [] and result.value == {"accuracy": 0.51}
    assert _cache.DIGEST_FIELD in json.loads(record_path.read_text())
    assert "predates digests" in caplog.text and _aside(record_path) == []
    _edit(record_path, lambda d: d["value"].update(accuracy=0.99))  # now detected
    assert experiments.cached(NAME, "ci") is None


def _with_digest(record):
    return json.dumps({**record, _cache.DIGEST_FIELD: _cache._digest(record)})


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.pop("value"), id="missing field"),
        pytest.param(lambda d: d.update(value=[0.5]), id="value a list"),
        pytest.param(lambda d: d.update(seed=True), id="seed a bool"),
        pytest.param(lambda d: d.update(extra=1), id="unknown field"),
        pytest.param(lambda d: d.update(seed=1), id="another key's contents"),
    ],
)
def test_a_record_of_the_wrong_shape_is_bad_even_with_a_good_digest(
    record_path, change
):
    data = json.loads(record_path.read_text())
    data.pop(_cache.DIGEST_FIELD)
    change(data)
    record_path.write_text(_with_digest(data))
    assert experiments.cached(NAME, "ci") is None
    assert len(_aside(record_path)) == 1 and not record_path.exists()


def test_latest_ledger_and_reproduce_list_skip_bad_records(
    record_path, monkeypatch, capsys
):
    monkeypatch.setattr(experiments, "results_hash", lambda **_: "later-code")
    stale = experiments.latest(NAME, "ci")
    assert stale.stale and stale.value == {"accuracy": 0.51}
    record_path.write_text('{"name": "' + NAME + '"}')  # valid JSON, wrong shape
    assert experiments.latest(NAME, "ci") is None
    (row,) = ledger.ledger_rows("ci", only=NAME)
    assert (row.n_runs, row.status) == (0, "missing")
    argv = ["reproduce", "--list", "--profile", "ci", "--only", NAME]
    assert cli.main(argv) == 0
    assert f"{NAME}: 0/1 runs cached" in capsys.readouterr().out
    assert len(_aside(record_path)) == 1 and CALLS == []


def test_write_result_refuses_a_record_that_could_not_be_read_back(results_root):
    record = experiments.dataclasses.asdict(experiments.load_or_run(NAME, "ci"))
    del record["cached"], record["stale"]
    record["seconds"] = "fast"
    with pytest.raises(ValueError, match="seconds is str, not int or float"):
        _cache.write_result(NAME, "k", record)
    assert not (results_root / NAME / "k.json").exists()


def test_a_results_dir_that_is_a_file_fails_before_training(tmp_path, monkeypatch):
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NNDL_RESULTS_DIR", str(blocker))
    CALLS.clear()
    with pytest.raises(OSError, match="NNDL_RESULTS_DIR=.*results.txt") as err:
        experiments.load_or_run(NAME, "ci")
    assert CALLS == [] and "\n" not in str(err.value)
    assert "set NNDL_RESULTS_DIR to a folder you can write to" in str(err.value)
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_results_dir_fails_before_training(tmp_path, monkeypatch):
    root = tmp_path / "ro"
    (root / NAME).mkdir(parents=True)
    (root / NAME).chmod(0o555)
    monkeypatch.setenv("NNDL_RESULTS_DIR", str(root))
    CALLS.clear()
    with pytest.raises(_cache.ResultsDirError, match="NNDL_RESULTS_DIR"):
        experiments.load_or_run(NAME, "ci")
    assert CALLS == []


def test_a_folder_that_refuses_a_test_write_fails_before_training(
    results_root, monkeypatch
):
    def refuse(**_):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_cache.tempfile, "TemporaryFile", refuse)
    CALLS.clear()
    with pytest.raises(_cache.ResultsDirError, match="Permission denied"):
        experiments.load_or_run(NAME, "ci")
    assert CALLS == []


def test_the_cli_reports_an_unwritable_results_dir_in_one_line(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "f").write_text("")
    monkeypatch.setenv("NNDL_RESULTS_DIR", str(tmp_path / "f" / "results"))
    CALLS.clear()
    assert cli.main(["run", NAME, "--profile", "ci"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("nndl: error: NNDL_RESULTS_DIR=") and "\n" not in err
    assert CALLS == []


# --- property tests: whatever a record file holds, a record or "bad" ---------

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI cannot flake
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def good_record(tmp_path_factory):
    """``(file name, bytes)`` of a valid record, as write_result wrote it."""
    record = dict(
        name=NAME,
        profile="ci",
        params={"size": 1},
        seed=0,
        value={"accuracy": 0.51},
        code_hash="h",
        seconds=0.25,
        created="2026-01-01T00:00:00+00:00",
    )
    key = _cache.cache_key(NAME, record["params"], "ci", 0, "h")
    root = tmp_path_factory.mktemp("good")
    path = _cache.write_result(NAME, key, record, root)
    assert _cache.read_result(NAME, key, root) == record
    return path.name, path.read_bytes()


def _bad_outcome(root, file_name, content):
    """Store ``content`` as the record ``file_name``: it must read as bad."""
    folder = root / NAME
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = folder / file_name
    path.write_bytes(content)
    assert _cache.read_result(NAME, path.stem, root) is None
    assert not path.exists() and len(_aside(path)) == 1
    path.write_bytes(content)
    assert _cache.read_results(NAME, root) == []
    assert not path.exists() and len(_aside(path)) >= 1


@PROPERTY
@given(content=st.binary(max_size=300))
def test_random_bytes_are_a_bad_record(tmp_path, good_record, content):
    _bad_outcome(tmp_path, good_record[0], content)


@PROPERTY
@given(data=st.data())
def test_a_truncated_record_is_bad(tmp_path, good_record, data):
    file_name, good = good_record
    cut = data.draw(st.integers(0, len(good) - 1))
    _bad_outcome(tmp_path, file_name, good[:cut])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@PROPERTY
@given(field=st.sampled_from(sorted(_cache.RECORD_FIELDS)), value=JSON)
def test_any_field_changed_behind_the_digest_is_bad(
    tmp_path, good_record, field, value
):
    file_name, good = good_record
    data = json.loads(good)
    if data[field] == value:
        return  # not a change
    data[field] = value
    _bad_outcome(tmp_path, file_name, json.dumps(data).encode())
