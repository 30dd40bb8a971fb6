"""Proves the browser stack works: Debian's chromium, Playwright, the static
server under a sub-path, clicks, colour schemes and screenshots."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Smoke</title>
<style>
  :root { color-scheme: light dark; }
  body { font: 20px/1.4 sans-serif; margin: 2rem; background: #fff; color: #111; }
  @media (prefers-color-scheme: dark) { body { background: #111; color: #eee; } }
</style>
</head>
<body>
<h1>Browser smoke test</h1>
<p id="status">Not clicked yet</p>
<button id="go" type="button">Click me</button>
<script>
  document.getElementById("go").addEventListener("click", () => {
    document.getElementById("status").textContent = "Clicked!";
  });
</script>
</body>
</html>
"""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    return root


def test_click_changes_text_and_screenshot(page, static_server, site, tmp_path):
    base = static_server(site, prefix="/explainers/")
    assert base.startswith("http://127.0.0.1:") and base.endswith("/explainers/")

    response = page.goto(base)  # the directory's index.html, under the sub-path
    assert response is not None and response.status == 200
    assert page.title() == "Smoke"
    status = page.locator("#status")
    assert status.text_content() == "Not clicked yet"

    page.get_by_role("button", name="Click me").click()
    assert status.text_content() == "Clicked!"

    shot = tmp_path / "smoke.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 1000


def test_dark_page_prefers_dark(dark_page, static_server, site):
    base = static_server(site, prefix="explainers")
    dark_page.goto(base + "index.html")
    assert dark_page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    background = dark_page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 17, 17)"


def test_static_server_only_serves_under_prefix(static_server, site):
    base = static_server(site, prefix="/explainers/")
    origin = base[: -len("explainers/")]
    with urllib.request.urlopen(base + "index.html") as r:
        assert r.status == 200
        assert b"Browser smoke test" in r.read()
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(origin + "index.html")
    assert excinfo.value.code == 404
    # the prefix without its trailing slash redirects, as a real host would
    with urllib.request.urlopen(base.rstrip("/")) as r:
        assert r.url == base
