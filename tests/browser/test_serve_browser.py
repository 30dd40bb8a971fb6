"""`python build.py serve` in a real browser: saves show up on the open page by themselves,
stylesheets change without a reload, no save is dropped, errors come and go on screen."""

from __future__ import annotations

import shutil
import time

from playwright.sync_api import expect

from ..test_serve import (BASE, BROKEN_CARD, BROKEN_MARK, CARD, EXPLAINER, SITE, explainer_text, make_site, save,
                          served)  # noqa: F401 - `served` is the fixture
from dossier.render import BUILTIN

PAGE = "explainers/first-look/"
CONNECTED = "document.addEventListener('LiveReloadConnect', () => { window.__connected = true; });"


def open_connected(page, url: str) -> None:
    """Open url and wait until livereload's websocket is connected."""
    page.add_init_script(CONNECTED)
    page.goto(url)
    page.wait_for_function("() => window.__connected === true", timeout=15_000)


def test_a_save_shows_on_the_open_page(page, served):
    server = served()
    page.goto(server.url + PAGE)
    expect(page.locator("h1")).to_have_text("A first look")
    save(server.root / EXPLAINER, explainer_text("Seen in the browser"))
    expect(page.locator("h1")).to_have_text("Seen in the browser", timeout=15_000)


def test_a_build_that_finishes_while_the_page_loads_reaches_it_too(page, served):
    server = served()
    held = []
    page.route("**/livereload.js*", lambda route: held.append(route))  # hold the client back: no websocket yet
    page.goto(server.url + PAGE, wait_until="domcontentloaded")
    expect(page.locator("h1")).to_have_text("A first look")
    save(server.root / EXPLAINER, explainer_text("Built while the page loaded"))
    server.wait_for_page(BASE + PAGE, lambda s, b: b"Built while the page loaded" in b)  # its reload reached no one
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    expect(page.locator("h1")).to_have_text("Built while the page loaded", timeout=15_000)


def test_a_stylesheet_save_applies_without_a_reload(page, served, tmp_path):
    root = make_site(tmp_path / "styled")
    style = root / "assets" / "style.css"
    style.parent.mkdir()
    shutil.copyfile(BUILTIN / "assets" / "style.css", style)
    server = served(root)
    open_connected(page, server.url + PAGE)
    page.evaluate("() => { window.__kept = 'no reload happened'; }")
    href = page.locator('link[rel="stylesheet"]').first.get_attribute("href")
    save(style, style.read_text() + "\nh1 { color: rgb(1, 2, 3) !important; }\n")
    page.wait_for_function("() => getComputedStyle(document.querySelector('h1')).color === 'rgb(1, 2, 3)'",
                           timeout=15_000)
    assert page.evaluate("() => window.__kept") == "no reload happened"
    # its first look came under the old name; then the build's site, under the new fingerprint
    page.wait_for_function("href => document.querySelector('link[rel=\"stylesheet\"]').getAttribute('href')"
                           ".split('?')[0] !== href", arg=href, timeout=15_000)
    assert page.evaluate("() => window.__kept") == "no reload happened"
    assert page.evaluate("() => getComputedStyle(document.querySelector('h1')).color") == "rgb(1, 2, 3)"


def test_twenty_saves_half_a_second_to_a_second_apart_each_show_in_turn(page, served):
    server = served()
    open_connected(page, server.url + PAGE)
    heading = page.locator("h1")
    took = []
    for n in range(1, 21):
        gap = 0.5 + (n * 7 % 11) / 20  # 0.5 .. 1.0 s, in a scattered order
        saved = time.monotonic()
        save(server.root / EXPLAINER, explainer_text(f"Version {n}"))
        try:
            expect(heading).to_have_text(f"Version {n}", timeout=10_000)
        except AssertionError:
            raise AssertionError(f"version {n} never showed; the earlier ones took {took} s\n{server.output}")
        took.append(round(time.monotonic() - saved, 2))
        time.sleep(max(0.0, gap - (time.monotonic() - saved)))
    assert server.builds() >= 21, server.output  # the first build and one a save


def test_a_broken_save_shows_the_errors_and_a_fixed_save_brings_the_site_back(page, served, tmp_path):
    server = served()
    page.goto(server.url + PAGE)
    save(server.root / CARD, BROKEN_CARD)
    overlay = page.locator("#dossier-errors")
    expect(overlay).to_be_visible(timeout=15_000)
    expect(overlay).to_contain_text(BROKEN_MARK)
    expect(overlay).to_contain_text("actors: [north-korea, north-koreaa]")
    expect(page.locator("h1").first).to_have_text("A first look")  # the last good page underneath
    page.screenshot(path=str(tmp_path / "overlay.png"))
    save(server.root / CARD, SITE[CARD].replace("Shells sent to Russia", "Shells, fixed"))
    expect(overlay).to_have_count(0, timeout=15_000)
    expect(page.get_by_text("Shells, fixed").first).to_be_visible()


def test_a_save_is_swapped_into_the_open_page_where_the_editor_was_reading(page, served):
    """No reload: the page keeps its scroll position and its state; a page with scripts of
    its own (search) is reloaded instead."""
    server = served()
    page.set_viewport_size({"width": 800, "height": 300})
    open_connected(page, server.url + PAGE)
    page.evaluate("() => { window.__kept = 'no reload happened'; window.scrollTo(0, 200); }")
    scrolled = page.evaluate("() => window.scrollY")
    assert scrolled > 0, "the fixture page should be taller than the window"
    save(server.root / EXPLAINER, explainer_text("Swapped in"))
    expect(page.locator("h1")).to_have_text("Swapped in", timeout=15_000)
    assert page.evaluate("() => [window.__kept, window.scrollY, document.title]") == [
        "no reload happened", scrolled, page.title()]
    assert "Swapped in" in page.title()
    assert page.evaluate("() => document.documentElement.lang") == "en"
    site_yml = server.root / "content" / "site.yml"
    save(site_yml, site_yml.read_text() + "language: fr\n")  # the <html> element's attributes follow too
    page.wait_for_function("() => document.documentElement.lang === 'fr'", timeout=15_000)
    assert page.evaluate("() => window.__kept") == "no reload happened"
    assert page.locator('meta[name="dossier-build"]').count() == 1

    page.goto(server.url + "search/")
    page.wait_for_function("() => window.__connected === true", timeout=15_000)
    page.evaluate("() => { window.__kept = 'still here'; }")
    save(server.root / EXPLAINER, explainer_text("Reloaded search"))
    page.wait_for_function("() => window.__kept === undefined", timeout=15_000)
