"""What a reader's browser shows: phones to wide screens, dark mode, print, keyboard, no script."""

from __future__ import annotations

import re

import pytest

from .conftest import PREFIX

EXPLAINER = "explainers/putin-visits-pyongyang/"
PAGES = ("", EXPLAINER, "actors/", "actors/russia/", "cards/north-korea-shells-to-russia/", "timeline/", "search/")


def test_nothing_overflows_a_320px_phone(built_site, static_server, new_page):
    base = static_server(built_site, PREFIX)
    page = new_page(viewport={"width": 320, "height": 640})
    wide = {}
    for path in PAGES:
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            wide[path or "home"] = width
    assert not wide


def test_positions_side_by_side_on_wide_screens_and_stacked_on_phones(built_site, static_server, new_page):
    base = static_server(built_site, PREFIX)
    boxes = {}
    for width in (1280, 360):
        page = new_page(viewport={"width": width, "height": 900})
        page.goto(base + EXPLAINER)
        boxes[width] = [page.locator(".positions > .position").nth(i).bounding_box() for i in range(2)]
    wide, narrow = boxes[1280], boxes[360]
    assert wide[0]["y"] == wide[1]["y"] and wide[1]["x"] > wide[0]["x"] + wide[0]["width"] - 1
    assert narrow[1]["y"] >= narrow[0]["y"] + narrow[0]["height"]


def test_contents_follow_the_reader_on_wide_screens(built_site, static_server, new_page):
    base = static_server(built_site, PREFIX)
    page = new_page(viewport={"width": 1280, "height": 800})
    page.goto(base + EXPLAINER)
    page.mouse.wheel(0, 3000)
    page.wait_for_function("() => window.scrollY > 2000")
    top = page.locator("nav.toc").bounding_box()["y"]
    assert 0 <= top < 100


def test_skip_link_is_first_and_visible_on_focus(built_site, static_server, page):
    base = static_server(built_site, PREFIX)
    page.goto(base + EXPLAINER)
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const el = document.activeElement; const box = el.getBoundingClientRect();
        return {text: el.textContent, href: el.getAttribute('href'), top: box.top,
                outline: getComputedStyle(el).outlineStyle}; }""")
    assert focused["text"] == "Skip to content" and focused["href"] == "#main"
    assert focused["top"] >= 0 and focused["outline"] != "none"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*#main$"), timeout=5_000)  # the fragment's navigation may land after the key
    assert page.url.endswith("#main")


def test_landmarks_dark_mode_and_print(built_site, static_server, new_page):
    base = static_server(built_site, PREFIX)
    light, dark = new_page(color_scheme="light"), new_page(color_scheme="dark")
    colours = []
    for page in (light, dark):
        page.goto(base + EXPLAINER)
        colours.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
    assert colours[0] != colours[1]
    for role in ("banner", "main", "contentinfo"):
        assert light.get_by_role(role).count() == 1
    assert light.get_by_role("navigation", name="Site").count() == 1
    light.emulate_media(media="print")
    assert light.locator("nav.toc").is_hidden() and light.locator(".prose").is_visible()


@pytest.mark.parametrize("path", [EXPLAINER, "actors/russia/"])
def test_reads_without_javascript(built_site, static_server, new_page, path):
    base = static_server(built_site, PREFIX)
    page = new_page(java_script_enabled=False)
    page.goto(base + path)
    assert page.locator("h1").is_visible()
    assert page.locator("main").inner_text().count("\n") > 20
