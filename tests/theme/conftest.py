"""The example site built once through the real command, and helpers to read it.

The browser fixtures (browser, page, new_page, static_server, vnu_jar, axe_js)
come from tests/conftest.py (defined in tests/browser_fixtures.py).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from ..conftest import run

PREFIX = "/explainers/"  # the example's base_url path; the tests serve the site under it


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The example site, built with `python build.py build --out TMP`."""
    out = tmp_path_factory.mktemp("theme") / "site"
    done = run("build", "--out", out)
    assert done.returncode == 0, done.stderr
    return out


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


class Parsed(HTMLParser):
    """The links, ids, stylesheets and scripts of one page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href") is not None:
            self.links.append(attrs["href"])
        if tag == "link" and attrs.get("href"):
            (self.stylesheets if attrs.get("rel") == "stylesheet" else self.links).append(attrs["href"])
        if tag in ("img", "script") and attrs.get("src"):
            (self.scripts if tag == "script" else self.links).append(attrs["src"])

    handle_startendtag = handle_starttag
