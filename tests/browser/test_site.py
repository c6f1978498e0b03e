"""Browser tests of the whole built site: every page, offline, readable, usable.

The pages are found by walking the build (``site_pages``), so chapters added
later are covered without touching this file. For every page, in headless
Chromium with every request outside the local site blocked and recorded:

* it loads with no console error and no failed request, and nothing leaves
  the site (MathJax, fonts and scripts all come from ``_static``);
* its mathematics is typeset by MathJax (no raw ``$$`` or ``\\(``), every
  image has loaded, and no paragraph starts with ``|`` (a Markdown table
  shown as text);
* the theme's colour-mode button switches it to dark mode and back, and its
  figures keep a light backdrop in dark mode;
* its print view has no sidebars, buttons or live widgets and fits the paper;
* its download links resolve (the ``.md`` source and, for executed pages, an
  executed ``.ipynb`` that nbformat accepts);
* what its copy buttons copy has no prompts and no output, and a simple copied
  cell runs in a fresh Python process.

Without a browser: every internal link and cross-reference resolves, the
previous/next chain visits every page of the table of contents, chapter
equations and figures carry chapter numbers, each page with a counterpart
links to the original book, and no page or stylesheet refers to anything
outside the site. The search page finds every chapter by a word of its title.

Screenshots (light and dark) and a printed PDF of every page are left in
``_build/screenshots/`` (or ``$NNDL_SCREENSHOT_DIR``).
"""

import ast
import builtins
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from .conftest import luminance, site_pages

# At collection time; a missing site still yields one case, so that the
# ``site_dir`` fixture can skip (or, under CI=true, fail) with its message.
PAGES = site_pages() or ["index.html"]
ORIGINAL = "neuralnetworksanddeeplearning.com"
# Pages with a counterpart in the original, and the address they must link to.
COUNTERPARTS = {
    "index": f"{ORIGINAL}/",
    "exercises": f"{ORIGINAL}/exercises_and_problems.html",
}
CHAPTER = re.compile(r"^(chap\d+|sai)(/index)?$")
# A4 paper less the 15 mm margins of site.css's @page rule, in CSS pixels (96 dpi).
PRINT_WIDTH = round((210 - 2 * 15) / 25.4 * 96)


def stem(name):
    return name[: -len(".html")]


def chapters():
    """Chapter pages and the appendix (``chap1`` ... ``sai``)."""
    return [name for name in PAGES if CHAPTER.match(stem(name))] or ["chap1.html"]


def artifact(name, suffix):
    return stem(name).replace("/", "__") + suffix


def assert_clean(watch):
    assert watch.outside_requests == [], "requests left the site"
    assert watch.console_errors == [], "console errors"
    assert watch.failed_responses == [], "requests failed"


# ---------------------------------------------------------------- static HTML


class _Scan(HTMLParser):
    """Ids, links and resource references of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (tag, attribute, value)
        self.head_links = {}  # rel -> href for <link rel="prev|next">
        self.h1 = []
        self._in_h1 = 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append((tag, key, attrs[key], attrs.get("rel", "")))
        if tag == "link" and attrs.get("rel") in ("prev", "next"):
            self.head_links[attrs["rel"]] = attrs.get("href")
        if tag == "h1":
            self._in_h1 += 1

    def handle_endtag(self, tag):
        if tag == "h1" and self._in_h1:
            self._in_h1 -= 1

    def handle_data(self, data):
        if self._in_h1:
            self.h1.append(data)


_SCANS = {}


def scan(site, name):
    key = (str(site), name)
    if key not in _SCANS:
        parser = _Scan()
        parser.feed((site / name).read_text(encoding="utf-8"))
        _SCANS[key] = parser
    return _SCANS[key]


def title_of(site, name):
    return re.sub(r"\s+", " ", "".join(scan(site, name).h1)).strip(" #¶")


def source_of(site, name):
    """The page's MyST source as the build copied it, or ''."""
    path = site / "_sources" / (stem(name) + ".md")
    return path.read_text(encoding="utf-8") if path.exists() else ""


def is_notebook(source):
    return "file_format: mystnb" in source and "{code-cell}" in source


def has_math(source):
    """Whether MyST source has maths outside code (fences other than {math})."""
    prose = re.sub(r"^(`{3,})(?!\{math\}).*?^\1\s*$", "", source, flags=re.M | re.S)
    prose = re.sub(r"``[^`]*``|`[^`\n]*`", "", prose)
    return bool(re.search(r"\$\$|\$[^\s$][^$\n]*\$|\{math\}|\\begin\{", prose))


def test_every_page_was_found(site_dir):
    names = site_pages(site_dir)
    for required in ("index.html", "search.html", "sai.html", "exercises.html"):
        assert required in names
    assert any(re.match(r"chap\d+\.html$", name) for name in names)


def test_internal_links_and_cross_references_resolve(site_dir):
    """Every local href/src points at a file, and every #fragment at an id."""
    broken = []
    for name in site_pages(site_dir):
        base = f"http://site/{name}"
        for tag, _, value, _ in scan(site_dir, name).links:
            url = urlsplit(urljoin(base, value))
            if url.scheme in ("mailto", "javascript", "data") or url.netloc != "site":
                continue
            target = unquote(url.path.lstrip("/")) or "index.html"
            path = site_dir / target
            if path.is_dir():
                path = path / "index.html"
                target = f"{target.rstrip('/')}/index.html"
            if not path.exists():
                broken.append(f"{name}: <{tag}> {value} (no file {target})")
                continue
            if url.fragment and path.suffix == ".html":
                if unquote(url.fragment) not in scan(site_dir, target).ids:
                    broken.append(f"{name}: {value} (no id #{url.fragment})")
    assert broken == []


def test_previous_next_chain_visits_every_page_of_the_toc(site_dir):
    """Following "next" from the front page reaches every page in the toctrees."""
    chain, name = [], "index.html"
    while name and name not in chain:
        chain.append(name)
        following = scan(site_dir, name).head_links.get("next")
        name = (
            urljoin(f"http://site/{name}", following)[len("http://site/") :]
            if following
            else None
        )
        if name:
            assert (site_dir / name).exists(), f"next of {chain[-1]} is missing"
            back = scan(site_dir, name).head_links.get("prev")
            assert back and urljoin(f"http://site/{name}", back).endswith(chain[-1])
    special = {"genindex.html", "search.html", "py-modindex.html"}
    unreachable = [
        page
        for page in site_pages(site_dir)
        if page not in chain and page not in special and not page.startswith("prf-")
    ]
    assert unreachable == [], "pages outside the previous/next chain"
    assert len(chain) > 3


_REFERENCE = re.compile(
    r'<a class="reference internal" href="([^"]*#(?:equation-)?[^"]+)">'
    r"(?:<span[^>]*>)?(\((\d+(?:\.\d+)*)\)|Fig\. \d+(?:\.\d+)*)(?:</span>)?</a>"
)


def test_numbered_references_show_their_targets_number(site_dir):
    """Every "(2.10)" or "Fig. 3.3" link, on any page, names its target's number."""
    wrong, across_pages = [], 0
    for name in site_pages(site_dir):
        html = (site_dir / name).read_text(encoding="utf-8")
        for href, text, _ in _REFERENCE.findall(html):
            url = urlsplit(urljoin(f"http://site/{name}", href))
            target = unquote(url.path.lstrip("/"))
            anchor = unquote(url.fragment)
            target_html = (site_dir / target).read_text(encoding="utf-8")
            if text.startswith("("):
                found = re.search(
                    rf'id="{re.escape(anchor)}">\s*<span class="eqno">(\([^)<]*\))',
                    target_html,
                )
            else:
                found = re.search(
                    rf'id="{re.escape(anchor)}".*?<span class="caption-number">'
                    r"(Fig\. [\d.]+) ",
                    target_html,
                    flags=re.S,
                )
            shown = found.group(1) if found else None
            if shown != text:
                wrong.append(f"{name}: {text} -> {target}#{anchor} shows {shown}")
            across_pages += target != name
    assert wrong == []
    assert across_pages, "no numbered reference between pages anywhere"


@pytest.mark.parametrize("name", chapters())
def test_chapter_equations_and_figures_carry_the_chapter_number(site_dir, name):
    html = (site_dir / name).read_text(encoding="utf-8")
    number = re.search(r'<h1>\s*<span class="section-number">(\d+)\.', html)
    if not number:
        pytest.skip(f"{name} is not a numbered chapter")
    chapter = number.group(1)
    equations = re.findall(r'<span class="eqno">\((\d+)\.(\d+)\)', html)
    figures = re.findall(
        r'<span class="caption-number">Fig\. (\d+)\.(\d+) ?</span>', html
    )
    for first, _ in equations + figures:
        assert first == chapter, f"{name}: number {first}.x in chapter {chapter}"
    if "$$" in source_of(site_dir, name) and re.search(
        r"\$\$ *\(", source_of(site_dir, name)
    ):
        assert equations, f"{name}: labelled equations but no equation numbers"


@pytest.mark.parametrize("name", PAGES)
def test_page_links_to_its_counterpart_in_the_original(site_dir, name):
    key = stem(name)
    if CHAPTER.match(key):
        expected = f"{ORIGINAL}/{key.split('/')[0]}.html"
    elif key in COUNTERPARTS:
        expected = COUNTERPARTS[key]
    else:
        pytest.skip(f"{name} has no counterpart in the original")
    hrefs = [value for tag, attr, value, _ in scan(site_dir, name).links if tag == "a"]
    assert any(expected in href for href in hrefs), f"{name} never links {expected}"


def test_nothing_refers_outside_the_site(site_dir):
    """No script, stylesheet, font, image or frame is loaded from elsewhere."""
    outside = []
    for name in site_pages(site_dir):
        for tag, attr, value, rel in scan(site_dir, name).links:
            loads = tag in ("script", "img", "iframe", "source", "video", "audio") or (
                tag == "link" and rel not in ("prev", "next", "index", "search")
            )
            if loads and re.match(r"(https?:)?//", value):
                outside.append(f"{name}: <{tag} {attr}={value}>")
        html = (site_dir / name).read_text(encoding="utf-8")
        for marker in ("googletagmanager", "google-analytics", "plausible.io", "gtag("):
            if marker in html:
                outside.append(f"{name}: analytics ({marker})")
    for css in (site_dir / "_static").rglob("*.css"):
        for match in re.finditer(
            r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", css.read_text(errors="replace")
        ):
            outside.append(f"{css.relative_to(site_dir)}: url({match.group(1)})")
        for match in re.finditer(
            r"@import\s+(?:url\()?['\"]?((?:https?:)?//[^'\")\s]+)",
            css.read_text(errors="replace"),
        ):
            outside.append(f"{css.relative_to(site_dir)}: @import {match.group(1)}")
    assert outside == []


# ---------------------------------------------------------------- in the browser

PAGE_REPORT = """() => {
    const article = document.querySelector(".bd-article") || document.body;
    const images = Array.from(document.images).map((img) => ({
        src: img.getAttribute("src"),
        ok: img.complete && img.naturalWidth > 0,
    }));
    const maths = Array.from(article.querySelectorAll(".math"));
    const unrendered = maths
        .filter((el) => !el.querySelector("mjx-container"))
        .map((el) => el.textContent.trim().slice(0, 80));
    // Raw TeX delimiters left in the visible text (code and maths excluded).
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
        acceptNode: (node) =>
            node.parentElement.closest(
                "pre, code, script, style, mjx-container, textarea"
            ) ? NodeFilter.FILTER_REJECT
                : NodeFilter.FILTER_ACCEPT,
    });
    const raw = [];
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent;
        if (/\\$\\$|\\\\\\(|\\\\\\[|\\$[A-Za-z\\\\][^$\\n]{0,60}\\$/.test(text)) {
            raw.push(text.trim().slice(0, 80));
        }
    }
    return {
        images,
        maths: maths.length,
        mjx: document.querySelectorAll("mjx-container").length,
        unrendered,
        raw,
        title: document.title,
    };
}"""


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_offline_without_errors(watched, site_dir, screenshot_dir, name):
    page = watched.open(name)
    watched.settle()
    report = page.evaluate(PAGE_REPORT)
    page.screenshot(path=str(screenshot_dir / artifact(name, ".png")))
    page.screenshot(
        path=str(screenshot_dir / artifact(name, "-full.jpg")),
        full_page=True,
        type="jpeg",
        quality=70,
    )

    assert_clean(watched)
    broken = [image["src"] for image in report["images"] if not image["ok"]]
    assert broken == [], "images that did not load"
    assert page.evaluate(PIPE_PARAGRAPHS) == [], "a Markdown table shown as text"
    assert report["unrendered"] == [], "maths MathJax did not typeset"
    assert report["raw"] == [], "raw TeX in the page text"
    if has_math(source_of(site_dir, name)):
        assert report["maths"] > 0 and report["mjx"] > 0, "source has maths, page none"


# Paragraphs whose text starts with "|": a Markdown table that reached the
# page as text (an inline {glue:md} role cannot hold a table).
PIPE_PARAGRAPHS = """() => [...document.querySelectorAll("p")]
    .map(p => p.innerText.trim())
    .filter(text => text.startsWith("|"))
    .map(text => text.slice(0, 80))"""


def _switch_mode(page, mode):
    page.click("button.theme-switch-button")
    page.click(f".theme-change-button[data-mode='{mode}']")
    page.wait_for_function(f"() => document.documentElement.dataset.theme === '{mode}'")


@pytest.mark.parametrize("name", PAGES)
def test_dark_mode_toggles_and_figures_stay_readable(watched, screenshot_dir, name):
    page = watched.open(name)
    watched.settle()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"

    _switch_mode(page, "dark")
    assert page.evaluate("document.documentElement.dataset.mode") == "dark"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert luminance(background) < 0.3, f"dark mode background is {background}"
    # Figures are drawn for a light page: in dark mode they keep a light backdrop.
    backdrops = page.evaluate(
        """() => Array.from(document.querySelectorAll(".bd-article img"))
            .filter((img) => img.offsetParent !== null && img.naturalWidth > 40)
            .map((img) => [
                img.getAttribute("src"), getComputedStyle(img).backgroundColor,
            ])"""
    )
    dark = [src for src, color in backdrops if (luminance(color) or 0) < 0.6]
    assert dark == [], "figures without a light backdrop in dark mode"
    page.keyboard.press("Escape")  # close the colour-mode menu
    page.mouse.move(0, 0)
    page.screenshot(path=str(screenshot_dir / artifact(name, "-dark.png")))

    _switch_mode(page, "light")
    assert_clean(watched)


@pytest.mark.parametrize("name", PAGES)
def test_print_view_fits_the_paper_and_hides_the_controls(
    watched, screenshot_dir, name
):
    page = watched.open(name)
    watched.settle()
    page.set_viewport_size({"width": PRINT_WIDTH, "height": 1123})
    page.emulate_media(media="print")
    report = page.evaluate(
        """() => {
            const shown = (selector) => Array.from(document.querySelectorAll(selector))
                .filter((el) => {
                    const style = getComputedStyle(el);
                    return style.display !== "none" && style.visibility !== "hidden"
                        && el.getClientRects().length > 0;
                }).map((el) => selector);
            return {
                width: document.documentElement.scrollWidth,
                controls: [
                    ".bd-sidebar-primary", ".bd-sidebar-secondary", ".bd-header",
                    ".header-article-items", "button.copybtn", ".prev-next-area",
                    ".theme-switch-button", ".nndl-widget",
                ].flatMap(shown),
                article: (document.querySelector(".bd-article") || document.body)
                    .getBoundingClientRect().width,
            };
        }"""
    )
    assert report["controls"] == [], "interactive parts visible in print"
    assert report["width"] <= PRINT_WIDTH + 1, "print layout wider than the paper"
    assert report["article"] > PRINT_WIDTH * 0.6, "article squeezed in print"
    page.pdf(path=str(screenshot_dir / artifact(name, "-print.pdf")), format="A4")
    assert_clean(watched)


@pytest.mark.parametrize("name", PAGES)
def test_download_links_resolve(watched, site_dir, name):
    import nbformat

    source = source_of(site_dir, name)
    if not source:
        pytest.skip(f"{name} has no source file (a generated page)")
    page = watched.open(name)
    links = page.evaluate(
        """() => ({
            md: Array.from(
                document.querySelectorAll("a.btn-download-source-button")
            ).map((a) => a.href),
            ipynb: Array.from(
                document.querySelectorAll("a.btn-download-notebook-button")
            ).map((a) => a.href),
        })"""
    )
    assert len(links["md"]) == 1, "no .md download link"
    response = page.request.get(links["md"][0])
    assert response.ok and response.text() == source

    if not is_notebook(source):
        assert links["ipynb"] == [], "a notebook link on a page that runs no code"
        return
    assert len(links["ipynb"]) == 1, "no .ipynb download link on an executed page"
    response = page.request.get(links["ipynb"][0])
    assert response.ok
    notebook = nbformat.reads(response.text(), as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code cells"
    assert any(cell.outputs for cell in code), "the notebook was not executed"
    assert code[0].source.strip() in source, "the notebook is not this page's"
    assert_clean(watched)


@pytest.mark.parametrize("name", chapters())
def test_search_finds_the_chapter_by_a_word_of_its_title(watched, site_dir, name):
    words = [
        w
        for w in re.findall(r"[A-Za-z]{5,}", title_of(site_dir, name))
        if w.lower() not in {"using", "there", "which", "about", "appendix"}
    ]
    assert words, f"no search word in the title of {name}"
    term = max(words, key=len).lower()
    page = watched.open(f"search.html?q={term}")
    page.wait_for_function(
        """() => {
            const summary = document.querySelector("p.search-summary");
            return summary && summary.textContent.trim().length > 0;
        }""",
        timeout=30_000,
    )
    hrefs = page.eval_on_selector_all(
        "#search-results ul.search li a",
        "els => els.map((a) => a.getAttribute('href'))",
    )
    assert any(href.split("?")[0].split("#")[0] == name for href in hrefs), (
        f"searching {term!r} did not find {name}: {hrefs[:10]}"
    )
    assert_clean(watched)


@pytest.mark.parametrize("name", [*chapters(), "exercises.html"])
def test_solutions_start_collapsed_and_open_on_click(watched, name):
    page = watched.open(name)
    if not page.locator(".solution").count():
        pytest.skip(f"{name} has no solutions")
    shown = page.evaluate(
        """() => Array.from(document.querySelectorAll(".solution"))
            .filter((s) => {
                const body = s.querySelector(".admonition-title ~ *");
                return !body || getComputedStyle(body).visibility !== "hidden";
            }).map((s) => s.id)"""
    )
    assert shown == [], "solutions not collapsed"
    button = page.locator(".solution button.toggle-button").first
    button.scroll_into_view_if_needed()
    button.click()
    page.wait_for_function(
        """() => getComputedStyle(document.querySelector(
            ".solution .admonition-title ~ *")).visibility === "visible" """
    )
    assert_clean(watched)


# ---------------------------------------------------------------- copy buttons


def undefined_names(code):
    """Names ``code`` reads but never binds itself (builtins excepted)."""
    tree = ast.parse(code)
    bound, read = set(dir(builtins)), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read - bound


def copy_all(page):
    """Click every copy button on the page; return what each put on the clipboard."""
    # Unfold everything (folded inputs, collapsed solutions) so every button shows.
    page.evaluate(
        """() => {
            document.querySelectorAll("details").forEach((d) => { d.open = true; });
            document.querySelectorAll(".toggle-hidden")
                .forEach((e) => e.classList.remove("toggle-hidden"));
        }"""
    )
    page.wait_for_function(
        "() => window.ClipboardJS"
        " && document.querySelectorAll('button.copybtn').length > 0"
    )
    copied = []
    buttons = page.locator("button.copybtn")
    for i in range(buttons.count()):
        button = buttons.nth(i)
        info = button.evaluate(
            """(b) => {
                const pre = document.querySelector(b.dataset.clipboardTarget);
                const kind = pre.closest(".cell_input") ? "cell"
                    : pre.closest(".highlight-python, .highlight-pycon") ? "python"
                    : "other";
                return {
                    kind,
                    prompts: pre.querySelectorAll(".gp").length,
                    outputs: Array.from(pre.querySelectorAll(".go"))
                        .map((e) => e.textContent),
                };
            }"""
        )
        page.evaluate("navigator.clipboard.writeText('(nothing copied)')")
        button.scroll_into_view_if_needed()
        button.click()
        info["text"] = page.evaluate("navigator.clipboard.readText()")
        copied.append(info)
    return copied


def run_python(code, cwd, timeout=300):
    """Run ``code`` in a fresh interpreter (this one's), as a reader would."""
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=str(cwd),
    )


_COPY_TESTED, _RAN = [], []


@pytest.mark.parametrize("name", chapters())
def test_copy_buttons_give_runnable_code(clipboard_watched, site_dir, tmp_path, name):
    _COPY_TESTED.append(name)
    page = clipboard_watched.open(name)
    copied = [item for item in copy_all(page) if item["kind"] in ("cell", "python")]
    if not copied:
        pytest.skip(f"{name} has no code to copy")

    for item in copied:
        text = item["text"]
        assert text != "(nothing copied)", "a copy button copied nothing"
        assert not re.search(r"^(>>>|\.\.\.) ", text, flags=re.M), "prompts copied"
        for output in item["outputs"]:
            for line in filter(None, (s.strip() for s in output.splitlines())):
                assert line not in [t.strip() for t in text.splitlines()], (
                    f"output line {line!r} copied"
                )

    # Run the simplest self-contained pieces (those that define what they use).
    runnable = []
    for item in copied:
        try:
            if undefined_names(item["text"]):
                continue
        except SyntaxError:
            continue  # IPython syntax (a %magic): not plain Python
        runnable.append(item["text"])
    runnable.sort(key=lambda code: ("nndl_core" not in code, code.count("\n")))
    for code in runnable[:2]:
        result = run_python(code, tmp_path)
        assert result.returncode == 0, (
            f"copied code failed:\n{code}\n{result.stderr[-2000:]}"
        )
        _RAN.append(name)
    assert_clean(clipboard_watched)


def test_some_copied_code_was_run():
    """At least one copied cell really ran (guards the selection above)."""
    if not _COPY_TESTED:
        pytest.skip("no copy-button test ran in this session")
    assert _RAN, f"no self-contained code cell on {_COPY_TESTED}"
