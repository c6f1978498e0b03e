"""Run the ``>>>`` examples in the pages' fenced ``python`` blocks with Sybil.

Narrative ``{code-cell}`` cells are executed by MyST-NB during the build;
copyable doctest examples are checked here.
"""

import numpy as np
from sybil import Sybil
from sybil.parsers.myst import PythonCodeBlockParser, SkipParser


def _setup(namespace):
    np.set_printoptions(legacy=False)


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), SkipParser()],
    patterns=["*.md"],
    setup=_setup,
).pytest()
