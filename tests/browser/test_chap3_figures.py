"""Browser tests of chapter 3's figures, on the built site.

Every figure listed in ``FIGURES`` must be on ``chap3.html`` under its label,
with an image that has loaded, a caption and an alt text that describes it.
In dark mode each figure must stay readable: its image keeps a light
backdrop, and its pixels, as the browser draws them, hold both a light
background and dark ink (a contrast of at least 3:1 between them).

Only ``chap3.html`` is needed (``NNDL_PAGES=chap3`` builds do). Figures of
both halves of the chapter belong in the one list below.
"""

import pytest

from .conftest import site_with

# Chapter 3's figures: label -> words its alt text must contain.
FIGURES = {
    "ch3-fig-one-neuron": "one input",
    "ch3-fig-quadratic": "quadratic cost",
    "ch3-fig-sigmoid-starts": "sigmoid curve",
    "ch3-fig-neuron-inputs": "inputs x1, x2 and x3",
    "ch3-fig-ce-neuron": "cross-entropy cost",
    "ch3-fig-softmax": "softmax outputs",
    "ch3-fig-overfitting": "1,000-image run",
    "ch3-fig-regularized": "L2 regularization",
    "ch3-fig-full-gap": "50,000 images",
    "ch3-fig-poly": "degree-9 polynomial",
    "ch3-fig-dropout": "hidden layer",
    "ch3-fig-more-data": "logarithmic axis",
    "ch3-fig-expanded-five": "rotated by 15 degrees",
    "ch3-fig-more-data-svm": "SVM",
    "ch3-fig-init-net": "one hidden neuron",
    "ch3-fig-wide-gaussian": "flat bell curve",
    "ch3-fig-narrow-gaussian": "narrow, tall bell curve",
    "ch3-fig-init": "30-neuron network",
    "ch3-fig-init100": "100-neuron network",
    "ch3-fig-weight-decay": "pure-decay",
    "ch3-fig-eta": "three learning rates",
    "ch3-fig-overshoot": "zig-zag",
    "ch3-fig-lambda": "one per value of lambda",
    "ch3-fig-minibatch": "mini-batch size",
    "ch3-fig-momentum": "spacing grows",
    "ch3-fig-tanh": "S-shaped",
    "ch3-fig-relu": "slope one",
}

# What the browser sees of one figure: its image, caption and drawn pixels.
FIGURE_REPORT = """(id) => {
    const figure = document.getElementById(id);
    if (!figure) { return null; }
    const img = figure.querySelector("img");
    const caption = figure.querySelector("figcaption");
    const report = {
        tag: figure.tagName.toLowerCase(),
        caption: caption ? caption.innerText.trim() : "",
        loaded: Boolean(img && img.complete && img.naturalWidth > 40),
        alt: img ? img.getAttribute("alt") || "" : "",
        backdrop: img ? getComputedStyle(img).backgroundColor : "",
        luminance: [],
    };
    if (!report.loaded) { return report; }
    const canvas = document.createElement("canvas");
    const step = Math.max(1, Math.floor(img.naturalWidth / 200));
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.fillStyle = report.backdrop;  // what shows through transparent pixels
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(img, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let y = 0; y < canvas.height; y += step) {
        for (let x = 0; x < canvas.width; x += step) {
            const i = 4 * (y * canvas.width + x);
            const [r, g, b] = [data[i], data[i + 1], data[i + 2]].map((v) => {
                const c = v / 255;
                return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
            });
            report.luminance.push(0.2126 * r + 0.7152 * g + 0.0722 * b);
        }
    }
    return report;
}"""


@pytest.fixture(scope="session")
def site_dir():
    """The built site; only its chap3.html is needed."""
    return site_with("chap3.html")


def _open(browser, server, mode):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)  # a long page with many figures and formulas
    outside = []

    def guard(route):
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page.goto(f"{server}/chap3.html")
    page.wait_for_load_state("load")
    page.evaluate(
        """async () => {
            const images = Array.from(document.images);
            images.forEach((img) => { img.loading = "eager"; });
            await Promise.all(images.map((img) => img.decode().catch(() => null)));
        }"""
    )
    if mode == "dark":
        page.click("button.theme-switch-button")
        page.click(".theme-change-button[data-mode='dark']")
        page.wait_for_function(
            "() => document.documentElement.dataset.theme === 'dark'"
        )
    return context, page, outside


@pytest.fixture(scope="module", params=["light", "dark"])
def chap3(request, browser, server, site_dir):
    """``(mode, page, outside requests)``: chap3 opened once per colour mode."""
    context, page, outside = _open(browser, server, request.param)
    yield request.param, page, outside
    context.close()


def _relative_luminance(css_color):
    values = [float(v) for v in css_color[css_color.index("(") + 1 : -1].split(",")]
    if len(values) == 4 and values[3] == 0:
        return None  # transparent
    channels = [v / 255 for v in values[:3]]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("figure_id", sorted(FIGURES))
def test_figure_renders_readably(chap3, figure_id):
    mode, page, outside = chap3
    report = page.evaluate(FIGURE_REPORT, figure_id)
    assert report is not None, f"no element with id {figure_id} on chap3.html"
    assert report["tag"] == "figure"
    assert report["loaded"], "the figure's image did not load"
    assert report["caption"].startswith("Fig."), "a numbered caption"
    assert FIGURES[figure_id] in report["alt"], f"alt text: {report['alt']!r}"
    assert not report["alt"].startswith("_images/"), "alt text is a file name"
    backdrop = _relative_luminance(report["backdrop"])
    if mode == "dark":
        assert backdrop is not None and backdrop > 0.6, "no light backdrop"
    # Drawn pixels: a light background and dark ink, in either mode.
    background, ink = max(report["luminance"]), min(report["luminance"])
    assert background > 0.8, "the figure's background is not light"
    assert (background + 0.05) / (ink + 0.05) >= 3.0, "too little contrast"
    assert outside == [], "requests left the site"
