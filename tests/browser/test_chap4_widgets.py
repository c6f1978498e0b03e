"""Browser tests of chapter 4's interactive figures, on the built site.

Each widget publishes its slider values (``data-state``) and what it plots
(``data-values``) on its element. The tests move sliders with the keyboard
and with ``fill``, press buttons, and check that the plotted values are what
``nndl_core`` computes for the same slider values. They also check the page
works offline (no request leaves the local site), logs no console error,
runs the JS half of the shared test vectors, and falls back to the static
figures without JavaScript and in print.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nndl_core import plotting_universality as pu
from nndl_core import universality as u

HERE = Path(__file__).resolve().parent
VECTORS = HERE / "universality_vectors.json"
VECTORS_JS = HERE / "universality_vectors_test.js"
TOL = 1e-9


def state_of(page, widget_id):
    return json.loads(page.get_attribute(f"#{widget_id}", "data-state"))


def values_of(page, widget_id):
    return json.loads(page.get_attribute(f"#{widget_id}", "data-values"))


def assert_matches_python(page, widget_id):
    """The widget's plotted values equal nndl_core's for its current sliders."""
    kind, _, config = pu.WIDGETS[widget_id]
    actual = values_of(page, widget_id)
    expected = pu.widget_values(kind, state_of(page, widget_id), config)
    for key, want in expected.items():
        assert key in actual, f"{widget_id}: no {key!r} in data-values"
        assert_allclose(
            np.asarray(actual[key], dtype=float),
            want,
            rtol=TOL,
            atol=TOL,
            err_msg=f"{widget_id}: {key}",
        )
    return actual


def assert_clean(watch):
    assert watch.outside_requests == [], "requests left the site"
    assert watch.console_errors == [], "console errors"


# ---------------------------------------------------------------- the page as a whole


def test_page_is_offline_clean_and_mounts_every_widget(watched):
    page = watched.open()
    mounted = page.evaluate("Object.keys(window.NNDLWidgets)")
    assert sorted(mounted) == sorted(pu.WIDGETS)
    for widget_id, (kind, state, config) in pu.WIDGETS.items():
        root = page.locator(f"#{widget_id}")
        assert root.get_attribute("data-widget") == kind
        assert state_of(page, widget_id) == pytest.approx(state), widget_id
        assert json.loads(root.get_attribute("data-config") or "{}") == config
        # Every slider is a real, labelled range input.
        for name in state:
            slider = page.locator(f"#{widget_id}-{name}")
            assert slider.get_attribute("type") == "range"
            assert page.locator(f"label[for='{widget_id}-{name}']").count() == 1
    assert_clean(watched)


def test_shared_vectors_js_side(watched):
    """The JS port reproduces every value the Python library wrote."""
    page = watched.open()
    page.add_script_tag(content=VECTORS_JS.read_text())
    vectors = json.loads(VECTORS.read_text())
    report = page.evaluate("v => window.runUniversalityVectors(v, 1e-9)", vectors)
    assert report["failures"] == []
    assert report["checked"] > 1000
    assert_clean(watched)


def test_initial_values_match_the_library(watched):
    page = watched.open()
    for widget_id in pu.WIDGETS:
        assert_matches_python(page, widget_id)
    assert_clean(watched)


# ---------------------------------------------------------------- moving sliders


def test_keyboard_moves_the_neuron_and_its_step(watched):
    page = watched.open()
    slider = page.locator("#ch4-w-neuron-w")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert state_of(page, "ch4-w-neuron") == {"w": 13, "b": -4}
    values = assert_matches_python(page, "ch4-w-neuron")
    assert values["s"] == pytest.approx(4 / 13)
    # The focused slider shows a visible focus ring.
    outline = page.evaluate(
        "() => getComputedStyle(document.activeElement).outlineStyle"
    )
    assert document_focus_id(page) == "ch4-w-neuron-w" and outline != "none"
    page.keyboard.press("End")  # w = 999: a step at -b/w
    values = assert_matches_python(page, "ch4-w-neuron")
    x, y = np.array(values["x"]), np.array(values["y"])
    assert y[x < 0.0].size == 0 and y[x <= 0.002].max() < 0.5 < y[x >= 0.008].min()
    assert_clean(watched)


def document_focus_id(page):
    return page.evaluate("() => document.activeElement.id")


def test_fill_moves_the_step_position(watched):
    page = watched.open()
    page.locator("#ch4-w-step-s").fill("0.73")
    assert state_of(page, "ch4-w-step") == {"s": 0.73}
    values = assert_matches_python(page, "ch4-w-step")
    x, y = np.array(values["x"]), np.array(values["y"])
    assert y[x < 0.72].max() < 1e-3 and y[x > 0.74].min() > 1 - 1e-3
    assert_clean(watched)


def test_mouse_click_on_a_slider_track(watched):
    page = watched.open()
    slider = page.locator("#ch4-w-bump-h1")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + box["height"] / 2)
    h = state_of(page, "ch4-w-bump")["h1"]
    assert h > 1.5  # the track runs from -3 to 3; 90 % of the way is about 2.4
    values = assert_matches_python(page, "ch4-w-bump")
    assert max(values["y"]) == pytest.approx(h, abs=1e-6)
    assert_clean(watched)


def test_two_weighted_steps_make_a_bump(watched):
    page = watched.open()
    page.locator("#ch4-w-pair-w1").fill("0.8")
    page.locator("#ch4-w-pair-w2").fill("-0.8")
    values = assert_matches_python(page, "ch4-w-pair")
    x, y = np.array(values["x"]), np.array(values["y"])
    inside = (x > 0.42) & (x < 0.58)
    assert_allclose(y[inside], 0.8, atol=1e-6)
    assert np.abs(y[(x < 0.38) | (x > 0.62)]).max() < 1e-6
    assert_clean(watched)


def test_bump_sliders(watched):
    page = watched.open()
    page.locator("#ch4-w-double-bump-h2").fill("-2.5")
    page.locator("#ch4-w-double-bump-t1").fill("0.65")
    page.locator("#ch4-w-five-bumps-h3").focus()
    page.keyboard.press("ArrowLeft")
    assert state_of(page, "ch4-w-five-bumps")["h3"] == pytest.approx(0.7)
    for widget_id in ("ch4-w-double-bump", "ch4-w-five-bumps"):
        assert_matches_python(page, widget_id)
    assert_clean(watched)


def test_design_challenge_solve_and_score(watched):
    page = watched.open()
    start = values_of(page, "ch4-w-design")["error"]
    assert start == pytest.approx(u.design_error(list(pu.DESIGN_INIT.values())))
    assert (
        "goal: 0.40 or below"
        in page.locator("#ch4-w-design .nndl-readout").inner_text()
    )
    page.get_by_role("button", name="Solve it").click()
    heights = [state_of(page, "ch4-w-design")[f"h{k}"] for k in range(1, 6)]
    assert_allclose(heights, np.round(u.design_solution(), 1))
    values = assert_matches_python(page, "ch4-w-design")
    assert values["error"] < 0.405
    assert "Success" in page.locator("#ch4-w-design .nndl-readout").inner_text()
    page.locator("#ch4-w-design-h1").fill("2.5")
    assert assert_matches_python(page, "ch4-w-design")["error"] > values["error"]
    page.get_by_role("button", name="Random heights").click()
    assert_matches_python(page, "ch4-w-design")
    assert_clean(watched)


def test_approximation_improves_with_more_bumps(watched):
    page = watched.open()
    coarse = assert_matches_python(page, "ch4-w-approx")["error"]
    page.locator("#ch4-w-approx-n").fill("40")
    page.locator("#ch4-w-approx-logw").fill("3.6")
    page.locator("#ch4-w-approx-m").fill("4")
    assert state_of(page, "ch4-w-approx") == {"n": 40, "logw": 3.6, "m": 4}
    fine = assert_matches_python(page, "ch4-w-approx")["error"]
    assert fine < coarse / 5
    assert_clean(watched)


def test_tower_forms_for_large_h(watched):
    page = watched.open()
    page.locator("#ch4-w-tower-h").fill("20")
    page.locator("#ch4-w-tower-b").fill("-30")
    values = assert_matches_python(page, "ch4-w-tower")
    z, grid = np.array(values["z"]), np.array(values["x"])
    i = np.argmin(np.abs(grid - 0.5))  # x = 0.5 is inside [0.4, 0.6]
    j = np.argmin(np.abs(grid - 0.5))  # y = 0.5 is inside [0.3, 0.7]
    assert z[i, j] > 0.99
    assert z[i, 0] < 0.01 and z[0, 0] < 0.01  # plateau and outside
    assert_clean(watched)


SLIDER_MOVES = [
    ("ch4-w-2d-neuron", {"w1": "300", "w2": "-40", "b": "-100"}),
    ("ch4-w-xstep", {"s": "0.25"}),
    ("ch4-w-ystep", {"s": "0.8"}),
    ("ch4-w-xbump", {"s1": "0.1", "h": "-1.5"}),
    ("ch4-w-ybump", {"s2": "0.9"}),
    ("ch4-w-xybump", {"h": "1.2"}),
    ("ch4-w-two-towers", {"w1": "-0.4", "w2": "0.95"}),
    ("ch4-w-towers", {"n": "7", "m": "3"}),
    ("ch4-w-ramp", {"w": "100", "b": "-50"}),
]


def test_surface_and_other_sliders(watched):
    page = watched.open()
    for widget_id, moves in SLIDER_MOVES:
        for name, value in moves.items():
            page.locator(f"#{widget_id}-{name}").fill(value)
        state = state_of(page, widget_id)
        for name, value in moves.items():
            assert state[name] == pytest.approx(float(value)), widget_id
        assert_matches_python(page, widget_id)
    assert_clean(watched)


def test_towers_error_falls_with_shifted_copies(watched):
    page = watched.open()
    page.locator("#ch4-w-towers-n").fill("8")
    plain = assert_matches_python(page, "ch4-w-towers")["error"]
    page.locator("#ch4-w-towers-m").fill("4")
    shifted = assert_matches_python(page, "ch4-w-towers")["error"]
    assert shifted < plain / 2
    assert_clean(watched)


# ---------------------------------------------------------------- modes and fallbacks


def _luminance(rgb):
    channels = []
    for c in rgb:
        c = c / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def _contrast(page, selector):
    colors = page.evaluate(
        """s => {
            const e = document.querySelector(s);
            const w = e.closest('.nndl-widget');
            return [getComputedStyle(e).color, getComputedStyle(w).backgroundColor];
        }""",
        selector,
    )
    fg, bg = (
        [float(v) for v in c[c.index("(") + 1 : -1].split(",")[:3]] for c in colors
    )
    hi, lo = sorted([_luminance(fg), _luminance(bg)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_readable_in_light_and_dark_mode(watched, theme):
    page = watched.open()
    page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
    assert _contrast(page, "#ch4-w-neuron .nndl-readout") >= 4.5
    assert _contrast(page, "#ch4-w-neuron output") >= 4.5
    assert_clean(watched)


def test_print_shows_static_figures_not_widgets(watched):
    page = watched.open()
    img = page.locator("#ch4-fig-neuron img")
    assert not img.is_visible() and page.locator("#ch4-w-neuron").is_visible()
    page.emulate_media(media="print")
    assert img.is_visible() and not page.locator("#ch4-w-neuron").is_visible()
    assert_clean(watched)


def test_without_javascript_the_static_figures_show(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/chap4.html")
    for widget_id in pu.WIDGETS:
        assert not page.locator(f"#{widget_id}").is_visible()
    figures = page.locator("figure.nndl-static-figure")
    assert figures.count() == len(pu.WIDGETS)
    for k in range(figures.count()):
        assert figures.nth(k).locator("img").is_visible()
    context.close()
