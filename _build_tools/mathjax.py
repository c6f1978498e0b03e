"""Serve MathJax 3 from the site itself (no CDN).

MathJax comes from the PyPI wheel ``django-static-mathjax`` (pinned in the
``book`` extra), which ships MathJax's ``es5`` build as plain files; we copy
the one combined component we use and the pieces it loads on demand.
"""

import importlib.util
import shutil
from pathlib import Path

ENTRY = "tex-mml-chtml.js"
ON_DEMAND = ("input", "output", "ui", "a11y", "adaptors")


def mathjax_es5_dir():
    """The ``es5`` folder of the installed MathJax, or a clear error."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "MathJax is not installed: pip install django-static-mathjax==3.2.2.1 "
            "(it is in the 'book' extra: pip install -e '.[book]')"
        )
    es5 = Path(spec.submodule_search_locations[0]) / "static" / "mathjax" / "es5"
    if not (es5 / ENTRY).exists():
        raise RuntimeError(f"MathJax found but {es5 / ENTRY} is missing")
    return es5


def copy_mathjax(destination):
    """Copy MathJax into ``destination`` (once); return the entry file's path."""
    destination = Path(destination)
    if not (destination / ENTRY).exists():
        source = mathjax_es5_dir()
        destination.mkdir(parents=True, exist_ok=True)
        for name in ON_DEMAND:
            shutil.copytree(source / name, destination / name, dirs_exist_ok=True)
        shutil.copy2(source / ENTRY, destination / ENTRY)
    return destination / ENTRY
