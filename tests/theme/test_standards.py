"""The built example site, judged by the web's own tools: the Nu Html Checker and axe-core."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from .conftest import PREFIX, html_files

AXE_PAGES = {
    "home": "",
    "explainer": "explainers/putin-visits-pyongyang/",
    "actor": "actors/kim-jong-un/",
    "card": "cards/north-korea-shells-to-russia/",
    "timeline": "timeline/",
    "search": "search/?q=Kim",
    "actors": "actors/",
}


def test_nu_html_checker_finds_no_error(built_site, vnu_jar):
    files = [str(p) for p in html_files(built_site)]
    done = subprocess.run([shutil.which("java"), "-jar", str(vnu_jar), "--errors-only", "--format", "json", *files],
                          capture_output=True, text=True, timeout=300)
    report = json.loads(done.stderr or done.stdout or '{"messages": []}')
    errors = [f"{m.get('url', '').rsplit(str(built_site), 1)[-1]}:{m.get('lastLine')}: {m['message']}"
              for m in report["messages"] if m.get("type") == "error" or m.get("subType") == "fatal"]
    assert not errors, "\n".join(errors)
    assert len(files) > 30


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation(built_site, static_server, new_page, axe_js, scheme):
    base = static_server(built_site, PREFIX)
    page = new_page(color_scheme=scheme)
    found = {}
    for name, path in AXE_PAGES.items():
        page.goto(base + path)
        if name == "search":
            page.wait_for_selector("#search-results li", timeout=15_000)
        page.add_script_tag(content=axe_js)
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        found[name] = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:4]}"
                       for v in result["violations"]]
    assert not any(found.values()), json.dumps(found, indent=1)
