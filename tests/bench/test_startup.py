"""``nndl_core.bench.startup``: the start-up run as a module prints its seconds.

No test here asserts a time, and none empties Numba's cache: compiling every
kernel again is what ``nndl bench`` measures, too slow for a test.
"""

import json
import subprocess
import sys

from nndl_core.bench import startup


def test_the_first_call_is_timed_in_this_process():
    seconds = startup.time_first_call()
    assert set(seconds) == {"import_seconds", "first_call_seconds"}
    assert seconds["import_seconds"] >= 0 and seconds["first_call_seconds"] > 0


def test_python_m_prints_one_line_of_json_and_nothing_else():
    done = subprocess.run(
        [sys.executable, "-m", "nndl_core.bench.startup"],
        capture_output=True,
        text=True,
        check=True,
    )
    (line,) = done.stdout.splitlines()
    seconds = json.loads(line)
    assert set(seconds) == {"import_seconds", "first_call_seconds"}
    assert seconds["first_call_seconds"] > 0
    assert "Warning" not in done.stderr  # runpy's, if the package imported it
