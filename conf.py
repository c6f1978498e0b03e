"""Sphinx configuration for the nndl site: ``sphinx-build -c . book _build/html``.

Pages are executable MyST notebooks (MyST-NB). They are executed in cache
mode, and the cache folder is named after the profile and a hash of the
``nndl_core`` sources, so a library change re-executes every page.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "book" / "_ext"))  # local extensions (nndl_site)

from _build_tools.mathjax import copy_mathjax, mathjax_es5_dir  # noqa: E402
from nndl_core.experiments import current_profile  # noqa: E402
from nndl_core.experiments._cache import library_hash  # noqa: E402

PROFILE = current_profile()
os.environ.setdefault("MPLBACKEND", "Agg")


def _build_facts():
    """Versions and hashes for the build-report page (``{{ python_version }}``...)."""
    import json
    import platform
    from importlib.metadata import version

    facts = {
        "library_hash": library_hash(),
        "python_version": platform.python_version(),
        "mathjax_version": json.loads(
            (mathjax_es5_dir().parent / "package.json").read_text()
        )["version"],
    }
    for name in (
        "numpy",
        "numba",
        "matplotlib",
        "sphinx",
        "myst-nb",
        "sphinx-book-theme",
        "jupyter-cache",
    ):
        facts[name.replace("-", "_") + "_version"] = version(name)
    return facts


project = "Neural Networks and Deep Learning — executable edition"
author = "the nndl authors, after Michael Nielsen"
copyright = "2026, the nndl authors; structure and facts after Michael Nielsen (2015)"
release = "0.1"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_copybutton",
    "sphinx_design",
    "sphinx_togglebutton",  # collapsed solutions (":class: dropdown")
    "sphinx_exercise",
    "sphinx_proof",
    "sphinxcontrib.bibtex",
    "nndl_site",  # book/_ext: executed-notebook downloads, the exercise list
]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_static/mathjax"]
# Quick local iteration: NNDL_PAGES=chap2 builds index, chap2 and the reference pages.
if os.environ.get("NNDL_PAGES"):
    _keep = {"index", "notation", "api", "bibliography"} | set(
        os.environ["NNDL_PAGES"].split(",")
    )
    exclude_patterns += [
        p.stem + ".md" for p in (ROOT / "book").glob("*.md") if p.stem not in _keep
    ]
    suppress_warnings = [
        "toc.excluded",
        "toc.not_readable",
        "ref.doc",
        "ref.ref",
        "ref.eq",
        "myst.xref_missing",
    ]
nitpicky = True
# numpydoc types such as "ndarray of shape (n, 784)" are prose, not references;
# our own classes (nndl_core.*) and functions are still checked.
nitpick_ignore_regex = [
    ("py:class", r"(?!nndl_core\.).*"),
    ("py:(func|meth|mod|data)", r"(os|json|pathlib|numpy|np|math|time|urllib)\..*"),
]
numfig = True
math_numfig = True
math_eqref_format = "({number})"

# MyST and MyST-NB
myst_enable_extensions = [
    "amsmath",
    "colon_fence",
    "deflist",
    "dollarmath",
    "substitution",
]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_cache_path = str(
    Path(os.environ.get("NNDL_JUPYTER_CACHE", ROOT / "_build" / ".jupyter_cache"))
    / f"{PROFILE}-{library_hash()}"
)
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 1800
nb_kernel_rgx_aliases = {".*": "python3"}
nb_merge_streams = True
nb_render_markdown_format = "myst"  # Markdown outputs may hold tables
myst_substitutions = {"profile": PROFILE, **_build_facts()}

# Bibliography
bibtex_bibfiles = ["book/references.bib"]
bibtex_reference_style = "author_year"

# autodoc
autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_param = (
    False  # types as plain text: "ndarray of shape (n, 784)" is no cross-reference
)
napoleon_use_keyword = False
napoleon_use_ivar = True

# Copy buttons give runnable code: no prompts, no outputs.
copybutton_prompt_text = r">>> |\.\.\. "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False
copybutton_exclude = ".linenos, .gp, .go"
# Buttons on code only: not on a cell's printed output (MyST-NB's ".output").
copybutton_selector = 'div:not(.output)[class*="highlight-"] > div.highlight > pre'

# HTML: everything served from the site itself.
html_theme = "sphinx_book_theme"
html_title = "NNDL — executable edition"
html_static_path = ["book/_static"]
html_css_files = ["nndl.css", "site.css"]  # site.css: print view, exercise list
html_favicon = (
    "book/_static/favicon.svg"  # else browsers ask the server for /favicon.ico
)
html_context = {"default_mode": "auto"}
html_theme_options = {
    "use_download_button": True,
    "show_toc_level": 2,
    "navigation_with_keys": True,
}
html_last_updated_fmt = None
mathjax_path = "mathjax/tex-mml-chtml.js"
mathjax3_config = {"tex": {"tags": "none"}}


def _install_mathjax(app):
    copy_mathjax(Path(app.outdir) / "_static" / "mathjax")


def setup(app):
    app.connect("builder-inited", _install_mathjax)
