"""A small local Sphinx extension for the nndl site.

It adds two reader features that the theme and extensions in use do not
give, and one step that lets a fresh machine build the site:

* **Executed-notebook downloads.** MyST-NB writes each executed page as a
  notebook (``<build>/jupyter_execute/<page>.ipynb``), but sphinx-book-theme
  only offers it for download when a launch button (Binder, Colab, ...) is
  configured, and this site links to no such service. For every page that
  MyST-NB executed, we copy that notebook next to the page's ``.md`` source
  (``_sources/<page>.ipynb``) and hand its name to the theme, which then adds
  an ``.ipynb`` entry to the page's download menu.
* **A list of every exercise and problem.** The ``nndl-exercise-list``
  directive is replaced, once every page has been read, by one table per page
  that links each sphinx-exercise box (number, kind, title, whether a
  solution is given), and a summary with the original book's counts beside
  ours.
* **MNIST before any page runs.** When pages are about to be read (and so
  executed), :func:`nndl_core.download.ensure_mnist` finds the data, or
  downloads and verifies it into the per-user cache folder; without it the
  build stops with one line saying what to set, instead of a traceback
  inside the first page that loads MNIST.
"""

import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------- notebook downloads


def _executed_notebook(app, pagename):
    """Path of the notebook MyST-NB executed for ``pagename``, or None."""
    from myst_nb.sphinx_ import NbMetadataCollector

    if not NbMetadataCollector.get_exec_data(app.env, pagename):
        return None
    config = getattr(app.env, "mystnb_config", None)
    if config is None or not config.output_folder:
        return None
    return Path(config.output_folder).joinpath(*f"{pagename}.ipynb".split("/"))


def add_notebook_download(app, pagename, templatename, context, doctree):
    """Copy the executed notebook into ``_sources`` and offer it for download."""
    if doctree is None or app.builder.format != "html":
        return
    source = _executed_notebook(app, pagename)
    if source is None:
        return
    if not source.exists():
        logger.warning(
            "executed notebook %s is missing; no .ipynb download for %s",
            source,
            pagename,
            location=pagename,
        )
        return
    target = Path(app.outdir, "_sources").joinpath(*f"{pagename}.ipynb".split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


# ---------------------------------------------------------------- MNIST


class MnistUnavailable(SystemExit):  # noqa: N818 (it is an exit, not an error)
    """Stops the build with one line; Sphinx would wrap an error in a report."""


class _DownloadProgress:
    """Logs each downloaded file's progress in tenths (in MB without a length)."""

    def __init__(self):
        self.step = None

    def __call__(self, done, total):
        step = done * 10 // total if total else done >> 20
        if step == self.step:
            return
        self.step = step
        size = f" of {total / 1e6:.1f} MB" if total else " MB"
        amount = f"{step * 10}%" if total else f"{done / 1e6:.1f}"
        logger.info("MNIST download: %s%s", amount, size)


def ensure_mnist_data(app, env, docnames):
    """Find MNIST, or fetch it into the cache folder, before any page runs."""
    if not docnames:
        return  # no page will be read, so none will run
    from nndl_core.data import ENV_VAR, MnistCorruptError, MnistNotFoundError
    from nndl_core.download import MnistDownloadError, ensure_mnist

    mirrors = app.config.nndl_mnist_mirrors
    options = {} if mirrors is None else {"mirrors": tuple(mirrors)}
    try:
        folder = ensure_mnist(progress=_DownloadProgress(), **options)
    except (MnistNotFoundError, MnistCorruptError) as error:
        raise MnistUnavailable(
            f"nndl: {error.args[0].partition(' To fix:')[0]} Point {ENV_VAR} at the "
            "folder holding the four MNIST files, or unset it and build with "
            "internet access to let the build download them."
        ) from None
    except MnistDownloadError as error:
        why = error.failures[0] if error.failures else "no mirrors given"
        raise MnistUnavailable(
            f"nndl: MNIST is missing and could not be downloaded ({why}). Set "
            f"{ENV_VAR} to a folder holding the four MNIST files, or build with "
            "internet access."
        ) from None
    logger.info("MNIST: reading %s", folder)


# ---------------------------------------------------------------- the exercise list


class exercise_list(nodes.General, nodes.Element):  # noqa: N801 (docutils node style)
    """Placeholder, replaced by the tables once every page has been read."""


def _parse_original(text):
    """``"chap1=8/0 chap2=3/2"`` -> ``{"chap1": (8, 0), "chap2": (3, 2)}``."""
    counts = {}
    for item in (text or "").split():
        doc, _, pair = item.partition("=")
        exercises, _, problems = pair.partition("/")
        counts[doc] = (int(exercises), int(problems or 0))
    return counts


class ExerciseListDirective(SphinxDirective):
    """``nndl-exercise-list``: every exercise and problem of the site.

    Option ``original``: the original book's counts per page, as
    ``chap1=8/0 chap2=3/2 ...`` (exercises/problems), shown beside ours.
    """

    has_content = False
    option_spec = {"original": directives.unchanged}

    def run(self):
        lists = _list_docs(self.env)
        lists.add(self.env.docname)
        node = exercise_list()
        node["original"] = _parse_original(self.options.get("original"))
        return [node]


def _list_docs(env):
    if not hasattr(env, "nndl_exercise_list_docs"):
        env.nndl_exercise_list_docs = set()
    return env.nndl_exercise_list_docs


def _purge(app, env, docname):
    _list_docs(env).discard(docname)


def _merge(app, env, docnames, other):
    _list_docs(env).update(getattr(other, "nndl_exercise_list_docs", set()))


def _reread_lists(app, env, added, changed, removed):
    """Any page changed: re-read the pages that list the exercises."""
    if not (added or changed or removed):
        return []
    return sorted(_list_docs(env) - set(added) - set(changed))


def _doc_order(env, root):
    """Documents in reading order: a depth-first walk of the toctrees."""
    order, seen = [], set()

    def walk(doc):
        if doc in seen:
            return
        seen.add(doc)
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(root)
    return order


def _kind_and_title(node):
    """('Exercise' | 'Problem' | 'Challenge', title nodes) for an exercise node."""
    from sphinx_exercise.nodes import exercise_subtitle

    subtitles = list(node.findall(exercise_subtitle))
    title = [child.deepcopy() for child in subtitles[0].children] if subtitles else []
    classes = set(node.get("classes", []))
    kind = "Exercise"
    for candidate in ("Problem", "Challenge"):
        if candidate.lower() in classes:
            kind = candidate
    if title and isinstance(title[0], nodes.Text):
        text = str(title[0])
        for candidate in ("Problem", "Challenge"):
            if text.startswith(candidate + ":"):
                kind = candidate
                rest = text[len(candidate) + 1 :].lstrip()
                title[0] = nodes.Text(rest[:1].upper() + rest[1:])
    # Unresolved cross-references inside a title become plain text here.
    clean = []
    for child in title:
        if isinstance(child, addnodes.pending_xref):
            clean.append(nodes.inline("", child.astext()))
        else:
            for xref in list(child.findall(addnodes.pending_xref)):
                xref.replace_self(nodes.inline("", xref.astext()))
            clean.append(child)
    return kind, clean


def _collect(env, root):
    """{docname: [entry, ...]} in reading order, entries in page order."""
    registry = getattr(env, "sphinx_exercise_registry", {})
    solved = {
        info["node"].get("target_label")
        for info in registry.values()
        if str(info.get("type", "")).startswith("solution")
    }
    order = getattr(env, "sphinx_exercise_node_order", {})
    by_doc = {}
    for doc in _doc_order(env, root):
        if doc in _list_docs(env):
            continue  # the guide's own example box is not one of the book's
        entries = []
        for item in order.get(doc, []):
            if item.get("type") not in ("exercise", "exercise-start"):
                continue
            label = item.get("label")
            info = registry.get(label)
            if info is None or info["node"].get("hidden"):
                continue
            kind, title = _kind_and_title(info["node"])
            number = env.toc_fignumbers.get(doc, {}).get("exercise", {}).get(label)
            entries.append(
                {
                    "label": label,
                    "kind": kind,
                    "title": title,
                    "number": ".".join(map(str, number)) if number else "",
                    "solved": label in solved,
                }
            )
        if entries:
            by_doc[doc] = entries
    return by_doc


def _table(headers, rows, classes=()):
    """A docutils table; ``rows`` holds lists of node lists (one per cell)."""
    table = nodes.table(classes=["colwidths-auto", *classes])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for _ in headers:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for header in headers:
        row += nodes.entry("", nodes.paragraph("", header))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", nodes.paragraph("", "", *cell))
        body += row
    return table


def _link(app, fromdoc, todoc, anchor, children):
    uri = app.builder.get_relative_uri(fromdoc, todoc)
    if anchor:
        uri += "#" + anchor
    return nodes.reference("", "", *children, internal=True, refuri=uri)


def resolve_exercise_lists(app, doctree, docname):
    """Replace each placeholder with the summary and the per-page tables."""
    placeholders = list(doctree.findall(exercise_list))
    if not placeholders:
        return
    env = app.env
    by_doc = _collect(env, app.config.root_doc)
    has_math = False
    for placeholder in placeholders:
        original = placeholder["original"]
        content = []
        # Summary: ours beside the original's counts.
        rows = []
        totals = [0, 0, 0, 0, 0]
        listed = set()
        for doc in _doc_order(env, app.config.root_doc):
            if doc not in by_doc and doc not in original:
                continue
            listed.add(doc)
            entries = by_doc.get(doc, [])
            ex = sum(e["kind"] == "Exercise" for e in entries)
            pb = sum(e["kind"] == "Problem" for e in entries)
            solved = sum(e["solved"] for e in entries if e["kind"] != "Challenge")
            orig = original.get(doc)
            title = env.titles[doc].astext() if doc in env.titles else doc
            for i, value in enumerate((ex, pb, solved, *(orig or (0, 0)))):
                totals[i] += value
            rows.append(
                [
                    [_link(app, docname, doc, "", [nodes.Text(title)])],
                    [nodes.Text(str(ex))],
                    [nodes.Text(str(pb))],
                    [nodes.Text(str(solved))],
                    [nodes.Text(f"{orig[0]} + {orig[1]}" if orig else "—")],
                ]
            )
        for doc, orig in original.items():
            if doc in listed:
                continue
            totals[3] += orig[0]
            totals[4] += orig[1]
            rows.append(
                [
                    [nodes.Text(f"{doc} (not in this build)")],
                    [nodes.Text("—")],
                    [nodes.Text("—")],
                    [nodes.Text("—")],
                    [nodes.Text(f"{orig[0]} + {orig[1]}")],
                ]
            )
        rows.append(
            [
                [nodes.strong("", "All pages")],
                [nodes.strong("", str(totals[0]))],
                [nodes.strong("", str(totals[1]))],
                [nodes.strong("", str(totals[2]))],
                [nodes.strong("", f"{totals[3]} + {totals[4]}")],
            ]
        )
        content.append(
            _table(
                [
                    "Page",
                    "Exercises",
                    "Problems",
                    "Solved here",
                    "Original (ex. + pb.)",
                ],
                rows,
                classes=["nndl-exercise-summary"],
            )
        )
        # One table per page.
        for doc, entries in by_doc.items():
            title = env.titles[doc].astext() if doc in env.titles else doc
            rubric = nodes.rubric(
                "", "", _link(app, docname, doc, "", [nodes.Text(title)])
            )
            rows = []
            box_format = app.config.numfig_format.get("exercise", "Exercise %s")
            for entry in entries:
                # The name the box itself shows ("Exercise 2.1"), kind aside.
                name = box_format % entry["number"] if entry["number"] else "Exercise"
                has_math = has_math or any(
                    isinstance(n, nodes.math)
                    for child in entry["title"]
                    for n in child.findall(nodes.math)
                )
                rows.append(
                    [
                        [_link(app, docname, doc, entry["label"], [nodes.Text(name)])],
                        [nodes.Text(entry["kind"])],
                        [child.deepcopy() for child in entry["title"]]
                        or [nodes.Text("(untitled)")],
                        [nodes.Text("yes" if entry["solved"] else "—")],
                    ]
                )
            content.append(rubric)
            content.append(
                _table(
                    ["Number", "Kind", "Title", "Solution"],
                    rows,
                    classes=["nndl-exercise-list"],
                )
            )
        placeholder.replace_self(content)
    if has_math:
        # Titles carry inline maths: make sure the page loads MathJax.
        env.domains.math_domain.data["has_equations"][docname] = True


def setup(app):
    # None: nndl_core.download.MNIST_MIRRORS; tests serve the files locally.
    app.add_config_value("nndl_mnist_mirrors", None, "", types=frozenset({list, tuple}))
    app.connect("env-before-read-docs", ensure_mnist_data)
    app.add_node(exercise_list)
    app.add_directive("nndl-exercise-list", ExerciseListDirective)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-get-outdated", _reread_lists)
    app.connect("doctree-resolved", resolve_exercise_lists)
    # Before sphinx-book-theme builds its header buttons (priority 501).
    app.connect("html-page-context", add_notebook_download, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
