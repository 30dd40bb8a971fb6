"""The built example site, read as files: links, weight, assets, pictures, structured data, search bundle."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from .conftest import PREFIX, Parsed, html_files


def parse(path: Path) -> Parsed:
    return Parsed(path.read_text(encoding="utf-8"))


def target_of(site: Path, url_path: str) -> Path | None:
    """The built file a site path is served from, or None."""
    assert url_path.startswith(PREFIX), f"{url_path} is outside the site's path {PREFIX}"
    rel = unquote(url_path[len(PREFIX):])
    path = site / rel
    if path.is_dir():
        path = path / "index.html"
    return path if path.is_file() else None


def test_every_internal_link_and_fragment_resolves(built_site):
    parsed = {path: parse(path) for path in html_files(built_site)}
    broken = []
    for path, page in parsed.items():
        for link in page.links + page.stylesheets + page.scripts:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("mailto:"):
                continue
            url, fragment = urldefrag(link)
            target = path if not url else target_of(built_site, parts.path)
            if target is None:
                broken.append(f"{path.relative_to(built_site)}: {link} (no such page)")
            elif fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else parse(target).ids
                if unquote(fragment) not in ids:
                    broken.append(f"{path.relative_to(built_site)}: {link} (no id '{fragment}')")
    assert not broken, "\n".join(broken)


def test_explainer_html_and_css_under_50_kb(built_site):
    css = parse(built_site / "index.html").stylesheets
    css_bytes = sum(target_of(built_site, href).stat().st_size for href in css)
    for page in sorted((built_site / "explainers").glob("*/index.html")):
        total = page.stat().st_size + css_bytes
        assert total < 50_000, f"{page}: {total} bytes of HTML + CSS"


def test_assets_are_fingerprinted_and_no_web_fonts(built_site):
    names = sorted(p.name for p in (built_site / "assets").iterdir())
    assert any(re.fullmatch(r"style\.[0-9a-f]{8}\.css", n) for n in names), names
    assert any(re.fullmatch(r"search\.[0-9a-f]{8}\.js", n) for n in names), names
    assert "style.css" not in names
    css = next((built_site / "assets").glob("style.*.css")).read_text()
    assert "@font-face" not in css and "@import" not in css


def test_pages_need_no_script_but_search(built_site):
    for path in html_files(built_site):
        scripts = [attrs for tag, attrs in parse(path).tags
                   if tag == "script" and attrs.get("type") != "application/ld+json"]
        if path.relative_to(built_site).as_posix() == "search/index.html":
            assert len(scripts) == 1 and scripts[0].get("type") == "module"
        else:
            assert not scripts, f"{path}: {scripts}"


def test_pictures_are_svg_with_title_and_description(built_site):
    for rel in ("actors/index.html", "actors/russia/index.html", "timeline/index.html"):
        text = (built_site / rel).read_text(encoding="utf-8")
        svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
        assert svgs, rel
        for svg in svgs:
            assert re.search(r"<title id=\"[^\"]+\">[^<]+</title>", svg), rel
            assert re.search(r"<desc id=\"[^\"]+\">[^<]+</desc>", svg), rel
            assert "aria-labelledby" in svg and "<script" not in svg
    network = (built_site / "actors/index.html").read_text(encoding="utf-8")
    assert f'href="{PREFIX}actors/kim-jong-un/"' in re.search(r"<svg\b.*?</svg>", network, re.S).group()


def jsonld(path: Path) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', path.read_text(encoding="utf-8"), re.S)
    return json.loads(match.group(1))


def test_structured_data_links_explainers_actors_and_claims(built_site):
    article = jsonld(built_site / "explainers/putin-visits-pyongyang/index.html")
    assert article["@type"] == "NewsArticle"
    about = {item["@id"] for item in article["about"]}
    mentions = {item["@id"] for item in article.get("mentions", [])}
    actor_ids = {jsonld(p)["@id"] for p in (built_site / "actors").glob("*/index.html")}
    assert about and about <= actor_ids and mentions <= actor_ids and not about & mentions
    assert "https://example.org/explainers/actors/russia/#actor" in about
    claim = jsonld(built_site / "cards/north-korea-shells-to-russia/index.html")
    assert claim["@type"] == "Claim"
    assert claim["appearance"] and all(a["@type"] == "CreativeWork" and a["name"] for a in claim["appearance"])


def test_search_bundle_indexes_explainers_actors_and_cards(built_site):
    bundle = built_site / "pagefind"
    assert (bundle / "pagefind.js").is_file() and (bundle / "pagefind-entry.json").is_file()
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    pages = sum(language["page_count"] for language in entry["languages"].values())
    kinds = {"explainers": 0, "actors": 0, "cards": 0}
    for kind in kinds:
        kinds[kind] = len(list((built_site / kind).glob("*/index.html")))
    assert pages == sum(kinds.values())
    for kind, filter_value in (("explainers", "Explainer"), ("actors", "Actor"), ("cards", "Fact card")):
        sample = next((built_site / kind).glob("*/index.html")).read_text(encoding="utf-8")
        assert f'data-pagefind-meta="kind:{filter_value}"' in sample and "data-pagefind-body" in sample


def test_wikidata_id_becomes_same_as_and_a_link(example_site, tmp_path):
    from ..conftest import run

    putin = example_site / "content/actors/vladimir-putin.md"
    putin.write_text(putin.read_text(encoding="utf-8").replace("kind: person\n", "kind: person\nwikidata: Q7747\n", 1),
                     encoding="utf-8")
    out = tmp_path / "out"
    done = run("build", "--root", example_site, "--out", out)
    assert done.returncode == 0, done.stderr
    page = out / "actors/vladimir-putin/index.html"
    assert jsonld(page)["sameAs"] == "https://www.wikidata.org/wiki/Q7747"
    assert 'href="https://www.wikidata.org/wiki/Q7747"' in page.read_text(encoding="utf-8")
    assert "sameAs" not in jsonld(out / "actors/russia/index.html")
