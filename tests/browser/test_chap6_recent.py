"""Browser tests of chapter 6's closing sections, on the built site.

"Recent progress in image recognition" shows one figure, the KSH network
drawn by :func:`nndl_core.plotting_architectures.plot_ksh_architecture`, and
derives the competition's error rates from the papers' quoted accuracies.
The tests check, in headless Chromium with requests outside the site blocked,
that the figure is numbered, captioned, referred to by its number, loads at
a readable size and keeps a light backdrop in dark mode; and that the derived
numbers are on the page (84.7% top-5 accuracy is a 15.3% error).
"""

import re

import pytest

from .conftest import luminance, site_with

PAGE = "chap6.html"
FIGURE = "ch6-fig-ksh"

REPORT = """(name) => {
    const img = document.querySelector(`figure[id="${name}"] img`);
    if (!img) { return null; }
    img.scrollIntoView();
    return {
        loaded: img.complete && img.naturalWidth > 0,
        width: img.getBoundingClientRect().width,
        backdrop: getComputedStyle(img).backgroundColor,
    };
}"""


@pytest.fixture(scope="session")
def site_dir():
    """The built site; only its chap6.html is needed."""
    return site_with(PAGE)


@pytest.fixture(scope="module")
def html(site_dir):
    return (site_dir / PAGE).read_text(encoding="utf-8")


def test_ksh_figure_is_numbered_captioned_and_referenced(html):
    figure = re.search(rf'<figure[^>]*id="{FIGURE}".*?</figure>', html, flags=re.S)
    assert figure and "<img" in figure.group(0)
    number = re.search(r'<span class="caption-number">(Fig\. [\d.]+) ', figure.group(0))
    assert number, "the figure has no numbered caption"
    references = re.findall(
        rf'<a class="reference internal" href="#{FIGURE}">\s*'
        r'<span class="std std-numref">(.*?)</span>',
        html,
        flags=re.S,
    )
    assert number.group(1) in references, "the text never refers to the figure"


def test_derived_error_rates_are_on_the_page(html):
    text = re.sub(r"<[^>]+>", "", html)
    section = text[text.index("Recent progress in image recognition") :]
    for derived in ("15.3%", "26.2%", "36.7%", "6.67%", "60,965,224"):
        assert derived in section, derived
    assert "about 16 %" not in section and "about 16%" not in section


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_ksh_figure_loads_and_reads_in_both_modes(watched, screenshot_dir, mode):
    page = watched.open(PAGE)
    watched.settle()
    if mode == "dark":
        page.click("button.theme-switch-button")
        page.click(".theme-change-button[data-mode='dark']")
        page.wait_for_function(
            "() => document.documentElement.dataset.theme === 'dark'"
        )
    report = page.evaluate(REPORT, FIGURE)
    assert report is not None, "the figure is not on the page"
    assert report["loaded"], "broken image"
    assert report["width"] >= 400, "the diagram is drawn too small to read"
    if mode == "dark":
        backdrop = luminance(report["backdrop"]) or 0.0  # transparent: no card
        assert backdrop >= 0.6, "no light backdrop in dark mode"
        page.keyboard.press("Escape")
    page.mouse.move(0, 0)
    page.locator(f'figure[id="{FIGURE}"]').screenshot(
        path=str(screenshot_dir / f"chap6-{FIGURE}-{mode}.png")
    )
    assert watched.outside_requests == [], "requests left the site"
    assert watched.failed_responses == [], "requests failed"
    assert watched.console_errors == [], "console errors"
