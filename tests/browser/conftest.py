"""Fixtures for the browser tests: the built site, a local server, headless Chromium.

The tests open the BUILT site (``$NNDL_SITE_DIR``, default ``_build/html``)
in Debian's Chromium (``/usr/bin/chromium``, or ``$NNDL_CHROMIUM``) driven by
Playwright's Python package; they never download a browser. When Playwright,
Chromium or the built page is missing the tests are skipped, except under
``CI=true``, where a missing piece is a failure with a message saying what to
install.
"""

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NNDL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(message):
    """Fail under CI=true, skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def site_path():
    """The folder ``$NNDL_SITE_DIR`` names (default ``_build/html``); may not exist."""
    site = Path(os.environ.get("NNDL_SITE_DIR", REPO / "_build" / "html"))
    return site if site.is_absolute() else REPO / site


def site_with(page):
    """The built site, which must hold ``page`` (a page-only build will do).

    Skipped when the page is missing, or failed under ``CI=true``, with a
    message saying how to build it.
    """
    site = site_path()
    if not (site / page).exists():
        _missing(
            f"no built {page} in {site}: build the site (tox -e book, or "
            "NNDL_PAGES=... sphinx-build as CONTRIBUTING.md says) or set NNDL_SITE_DIR"
        )
    return site


def luminance(css_color):
    """Relative luminance (0 dark .. 1 light) of an ``rgb()``/``rgba()`` colour.

    None for a fully transparent colour (it shows what lies behind).
    """
    values = [float(v) for v in re.findall(r"[\d.]+", css_color)]
    if len(values) == 4 and values[3] == 0:
        return None
    r, g, b = (v / 255 for v in values[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def site_pages(site=None):
    """Every HTML page of a built site, relative to it (``"chap1.html"``, ...).

    Found by walking the build, so pages added later are covered without
    editing the tests; Sphinx's own folders (``_static``, ``_sources``, ...)
    are skipped.
    """
    site = site_path() if site is None else Path(site)
    if not site.is_dir():
        return []
    pages = []
    for path in site.rglob("*.html"):
        relative = path.relative_to(site)
        if any(part.startswith(("_", ".")) for part in relative.parts[:-1]):
            continue
        pages.append(relative.as_posix())
    return sorted(pages)


@pytest.fixture(scope="session")
def site_dir():
    """The built HTML site; the chapter pages must have been built."""
    site = site_path()
    if not (site / "chap4.html").exists():
        _missing(
            f"no built site at {site} (chap4.html missing): build it with "
            "sphinx-build -c . book _build/html, or set NNDL_SITE_DIR"
        )
    return site


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def server(site_dir):
    """Serve the site on 127.0.0.1 at a free port; yields the origin URL."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from the system, through Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing(
            "the Python package 'playwright' is missing: pip install "
            "playwright==1.65.2 (do not run 'playwright install'; the tests "
            "use the system Chromium)"
        )
    if not CHROMIUM.exists():
        _missing(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium, "
            "or set NNDL_CHROMIUM to its path"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir():
    """Where the browser tests leave screenshots and PDFs (``_build/screenshots``)."""
    path = Path(os.environ.get("NNDL_SCREENSHOT_DIR", REPO / "_build" / "screenshots"))
    if not path.is_absolute():
        path = REPO / path
    path.mkdir(parents=True, exist_ok=True)
    return path


class PageWatch:
    """A page plus everything it did that a test may want to forbid."""

    def __init__(self, page, origin):
        self.page = page
        self.origin = origin
        self.outside_requests = []
        self.console_errors = []
        self.failed_responses = []

    def open(self, name="chap4.html"):
        """Load a page of the site and wait until every widget has drawn."""
        self.page.goto(f"{self.origin}/{name}")
        self.page.wait_for_load_state("load")
        self.page.wait_for_function(
            "() => document.querySelectorAll('.nndl-widget[data-renders]').length"
            " === document.querySelectorAll('.nndl-widget').length"
        )
        return self.page

    def settle(self):
        """Wait until MathJax has typeset the page and every image has loaded.

        Images are switched to eager loading first, so that images further
        down the page, or inside folded content, are fetched too.
        """
        self.page.evaluate(
            """async () => {
                if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                    await MathJax.startup.promise;
                }
                const images = Array.from(document.images);
                images.forEach((img) => { img.loading = "eager"; });
                await Promise.all(images.map((img) => img.decode().catch(() => null)));
            }"""
        )
        return self.page


def _watch(browser, server, **context_options):
    """A context whose requests outside the local site are blocked and recorded."""
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, **context_options
    )
    page = context.new_page()
    watch = PageWatch(page, server)

    def guard(route):
        url = route.request.url
        if url.startswith(server + "/") or url.startswith("file://"):
            route.continue_()
        else:
            watch.outside_requests.append(url)
            route.abort()

    context.route("**/*", guard)
    page.on(
        "console",
        lambda msg: (
            watch.console_errors.append(msg.text) if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: watch.console_errors.append(f"page error: {exc}"))
    page.on(
        "response",
        lambda response: (
            watch.failed_responses.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    return context, watch


@pytest.fixture
def watched(browser, server):
    """A fresh page whose requests outside the local site are blocked and recorded."""
    context, watch = _watch(browser, server)
    yield watch
    context.close()


@pytest.fixture
def clipboard_watched(browser, server):
    """Like ``watched``, with permission to read what the copy buttons copy."""
    context, watch = _watch(
        browser, server, permissions=["clipboard-read", "clipboard-write"]
    )
    yield watch
    context.close()
