"""Browser tests of chapter 6's figures, on the built site.

Chapter 6 draws its structure diagrams (receptive fields, feature maps,
pooling, whole networks) with :mod:`nndl_core.plotting_convnets` at build
time, and shows what its trained networks hold (filters, feature maps) and
how tanh and sigmoid compare. For each of those figures the tests check, in
headless Chromium with requests outside the site blocked:

* the figure is on the page, numbered, captioned, and referred to from the
  text by its number;
* its image has loaded (no broken images) at a readable size;
* in dark mode it still reads: the image keeps a light backdrop, either its
  own opaque white background or one the site's stylesheet gives it.
"""

import re

import pytest

from .conftest import luminance, site_with

PAGE = "chap6.html"
# Figures drawn from the library's diagram functions (cell figures).
DIAGRAMS = [
    "ch6-fig-fc",
    "ch6-fig-input",
    "ch6-fig-sliding",
    "ch6-fig-three-maps",
    "ch6-fig-maxpool",
    "ch6-fig-conv-pool",
    "ch6-fig-convnet",
    "ch6-fig-simple-conv",
    "ch6-fig-tanh",
]
# Figures of trained networks, glued from a cell.
LEARNED = ["ch6-fig-filters", "ch6-fig-maps"]
FIGURES = DIAGRAMS + LEARNED


@pytest.fixture(scope="session")
def site_dir():
    """The built site; only its chap6.html is needed."""
    return site_with(PAGE)


@pytest.fixture(scope="module")
def html(site_dir):
    return (site_dir / PAGE).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", FIGURES)
def test_figure_is_numbered_captioned_and_referenced(html, name):
    figure = re.search(rf'<figure[^>]*id="{name}".*?</figure>', html, flags=re.S)
    assert figure, f"{name} is not a figure on the page"
    assert "<img" in figure.group(0)
    number = re.search(r'<span class="caption-number">(Fig\. [\d.]+) ', figure.group(0))
    assert number, f"{name} has no numbered caption"
    caption = re.search(
        r'<span class="caption-text">(.*?)</span>', figure.group(0), re.S
    )
    assert caption and len(caption.group(1).split()) >= 8, f"{name}: caption too thin"
    # the text refers to it by its number
    references = re.findall(
        rf'<a class="reference internal" href="#{name}">\s*'
        r'<span class="std std-numref">(.*?)</span>',
        html,
        flags=re.S,
    )
    assert number.group(1) in references, f"{name} is never referred to by number"


# What each figure's image shows: loaded, its size, CSS backdrop, corner pixel.
FIGURE_REPORT = """(names) => names.map((name) => {
    const img = document.querySelector(`figure[id="${name}"] img`);
    if (!img) { return {name, found: false}; }
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    let corners = [];
    if (img.complete && img.naturalWidth > 0) {
        context.drawImage(img, 0, 0);
        const w = img.naturalWidth - 1, h = img.naturalHeight - 1;
        corners = [[0, 0], [w, 0], [0, h], [w, h]].map(
            ([x, y]) => Array.from(context.getImageData(x, y, 1, 1).data));
    }
    return {
        name, found: true, loaded: img.complete && img.naturalWidth > 0,
        width: img.getBoundingClientRect().width,
        backdrop: getComputedStyle(img).backgroundColor, corners,
    };
})"""


def _report(watched, mode=None):
    page = watched.open(PAGE)
    watched.settle()
    if mode:
        page.click("button.theme-switch-button")
        page.click(f".theme-change-button[data-mode='{mode}']")
        page.wait_for_function(
            f"() => document.documentElement.dataset.theme === '{mode}'"
        )
    return page, page.evaluate(FIGURE_REPORT, FIGURES)


def test_every_figure_image_loads_at_a_readable_size(watched):
    _, report = _report(watched)
    assert [r["name"] for r in report if not r["found"]] == []
    assert [r["name"] for r in report if not r["loaded"]] == [], "broken images"
    narrow = [(r["name"], r["width"]) for r in report if r["width"] < 200]
    assert narrow == [], "figures drawn too small to read"
    assert watched.outside_requests == [], "requests left the site"
    assert watched.failed_responses == [], "requests failed"
    assert watched.console_errors == [], "console errors"


def test_figures_keep_a_light_backdrop_in_dark_mode(watched, screenshot_dir):
    page, report = _report(watched, mode="dark")
    assert page.evaluate("document.documentElement.dataset.mode") == "dark"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert luminance(background) < 0.3, "the page did not turn dark"

    def light(r):
        css = luminance(r["backdrop"])
        if css is not None and css >= 0.6:
            return True  # the stylesheet puts the figure on a light card
        # otherwise the image must carry its own opaque, light background
        return r["corners"] and all(
            a == 255 and (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255 > 0.9
            for red, green, blue, a in r["corners"]
        )

    assert [r["name"] for r in report if not light(r)] == [], "dark figures"
    page.keyboard.press("Escape")
    page.mouse.move(0, 0)
    for r in report:
        element = page.locator(f'figure[id="{r["name"]}"]')
        element.scroll_into_view_if_needed()
        element.screenshot(path=str(screenshot_dir / f"chap6-{r['name']}-dark.png"))
