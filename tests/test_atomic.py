"""Tests for nndl_core.atomic: a replaced file is whole, old or new."""

import os

import pytest

from nndl_core.atomic import (
    remove_stale_temporaries,
    write_atomic,
    write_bytes_atomic,
    write_text_atomic,
)


def test_write_creates_and_replaces(tmp_path):
    target = tmp_path / "f.txt"
    write_text_atomic(target, "first")
    assert target.read_text() == "first"
    write_text_atomic(target, "second")
    assert target.read_text() == "second"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "f.bin"
    write_bytes_atomic(target, b"good")

    def fail(handle):
        handle.write(b"partial")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        write_atomic(target, fail)
    assert target.read_bytes() == b"good"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_new_file_is_world_readable(tmp_path):
    target = write_text_atomic(tmp_path / "f.txt", "x")
    assert target.stat().st_mode & 0o777 == 0o644


def test_missing_folder_raises_before_anything_is_written(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_text_atomic(tmp_path / "no" / "f.txt", "x")
    assert os.listdir(tmp_path) == []


def test_stale_temporaries_of_killed_writes_are_removed(tmp_path):
    target = write_text_atomic(tmp_path / "f.txt", "kept")
    (tmp_path / ".f.txt.abc123.tmp").write_text("left by a killed write")
    (tmp_path / ".g.txt.abc123.tmp").write_text("another file's writer")
    removed = remove_stale_temporaries(target)
    assert [p.name for p in removed] == [".f.txt.abc123.tmp"]
    assert sorted(os.listdir(tmp_path)) == [".g.txt.abc123.tmp", "f.txt"]
    assert target.read_text() == "kept"
