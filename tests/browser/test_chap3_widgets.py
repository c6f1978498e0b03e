"""Browser tests of chapter 3's softmax board, on the built site.

The board (``book/_static/widgets/softmax.js``) shows one slider per weighted
input z_j and, for every j, the output a_j of the softmax as a bar and a
number. The tests move sliders with the keyboard and with ``fill`` and check
that the numbers on the page are :func:`nndl_core.activations.softmax` of the
slider values (to the 3 decimals shown), that the full-precision values the
board publishes agree to 1e-12, and that the outputs add up to 1. They also
check the page stays offline, logs no console error, and shows the static
figure instead of the board without JavaScript and in print.
"""

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from nndl_core.activations import softmax

from .conftest import site_with

BOARD = "ch3-w-softmax"
START = [2.5, -1.0, 3.2, 0.5]  # the original's starting values


@pytest.fixture(scope="session")
def site_dir():
    """The built site; only its chap3.html is needed."""
    return site_with("chap3.html")


def open_chap3(watched):
    page = watched.open("chap3.html")
    page.wait_for_selector(f"#{BOARD}[data-renders]")
    return page


def shown(page):
    """The slider values and the outputs as the page displays them (text)."""
    z = [page.inner_text(f"#{BOARD}-z{j}-value") for j in range(1, 5)]
    a = [page.inner_text(f"#{BOARD}-a{j}") for j in range(1, 5)]
    return [float(v) for v in z], [float(v) for v in a]


def assert_board_is_softmax(page):
    """Displayed and published outputs equal softmax of the displayed inputs."""
    z, a = shown(page)
    state = json.loads(page.get_attribute(f"#{BOARD}", "data-state"))
    values = json.loads(page.get_attribute(f"#{BOARD}", "data-values"))
    assert state == pytest.approx(z)
    expected = softmax(np.array(z))
    assert a == [float(f"{v:.3f}") for v in expected]  # the 3 decimals shown
    assert_allclose(values, expected, rtol=1e-12, atol=1e-15)
    assert sum(values) == pytest.approx(1.0, abs=1e-12)
    assert (
        page.inner_text(f"#{BOARD}-sum")
        .replace("\n", "")
        .startswith("a1 + a2 + a3 + a4 = 1.000")
    )
    return z, a


def assert_clean(watch):
    assert watch.outside_requests == [], "requests left the site"
    assert watch.console_errors == [], "console errors"
    assert watch.failed_responses == [], "missing files"


def test_board_mounts_with_the_originals_start(watched):
    page = open_chap3(watched)
    z, a = assert_board_is_softmax(page)
    assert z == START
    # softmax(2.5, -1, 3.2, 0.5), worked out by hand: the largest z wins most.
    assert a == [0.315, 0.009, 0.633, 0.043]
    for j in range(1, 5):
        slider = page.locator(f"#{BOARD}-z{j}")
        assert slider.get_attribute("type") == "range"
        assert (slider.get_attribute("min"), slider.get_attribute("max")) == ("-5", "5")
        assert page.locator(f"label[for='{BOARD}-z{j}']").count() == 1
    assert_clean(watched)


def test_fill_moves_one_input_and_every_output(watched):
    page = open_chap3(watched)
    before = shown(page)[1]
    page.locator(f"#{BOARD}-z1").fill("-5")
    z, a = assert_board_is_softmax(page)
    assert z == [-5.0, -1.0, 3.2, 0.5]
    # Lowering z1 lowers a1 and raises every other output (exercise ch3-ex-5).
    assert a[0] < before[0] and all(x > y for x, y in zip(a[1:], before[1:]))
    page.locator(f"#{BOARD}-z4").fill("4.9")
    z, a = assert_board_is_softmax(page)
    assert z == [-5.0, -1.0, 3.2, 4.9] and max(a) == a[3]
    assert_clean(watched)


def test_keyboard_steps_of_one_tenth(watched):
    page = open_chap3(watched)
    page.locator(f"#{BOARD}-z2").focus()
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    z, _ = assert_board_is_softmax(page)
    assert z[1] == pytest.approx(-0.3)
    page.keyboard.press("End")
    z, a = assert_board_is_softmax(page)
    assert z[1] == 5.0 and max(a) == a[1]
    assert page.get_attribute(f"#{BOARD}-z2", "aria-valuetext") == "z2 = 5.0"
    assert_clean(watched)


def test_equal_inputs_give_equal_outputs(watched):
    page = open_chap3(watched)
    for j in range(1, 5):
        page.locator(f"#{BOARD}-z{j}").fill("-4.2")
    _, a = assert_board_is_softmax(page)
    assert a == [0.25] * 4
    assert_clean(watched)


def test_print_hides_the_board_and_keeps_the_static_figure(watched):
    page = open_chap3(watched)
    page.emulate_media(media="print")
    assert not page.locator(f"#{BOARD}").is_visible()
    assert page.locator("#ch3-fig-softmax img").is_visible()


def test_without_javascript_the_static_figure_shows(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(server + "/")
            else route.abort()
        ),
    )
    page.goto(f"{server}/chap3.html")
    assert not page.locator(f"#{BOARD}").is_visible()
    assert page.locator("#ch3-fig-softmax img").is_visible()
    context.close()
