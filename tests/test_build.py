"""The example site, built through the real command: pages, links, mentions, determinism."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
import yaml

from .conftest import EXAMPLE, REPO, run, tree_digest

BASE_PATH = "/explainers/"  # the example's base_url is https://example.org/explainers/


class Page(HTMLParser):
    """What a built page links to and which ids it has."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.classes: list[tuple[str, str]] = []  # (class, href)
        self.jsonld: list[str] = []
        self.meta: dict[str, str] = {}
        self._in_jsonld = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) and tag != "link" or (tag == "link" and attrs.get("rel") in ("stylesheet", "alternate")):
                if attrs.get(name):
                    self.links.append(attrs[name])
        if tag == "a" and attrs.get("href"):
            self.classes.append((attrs.get("class") or "", attrs["href"]))
        if tag == "meta":
            self.meta[attrs.get("property") or attrs.get("name") or ""] = attrs.get("content") or ""
        if tag == "link" and attrs.get("rel") == "canonical":
            self.meta["canonical"] = attrs["href"]
        self._in_jsonld = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_jsonld:
            self.jsonld.append(data)

    def handle_endtag(self, tag):
        self._in_jsonld = False


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built") / "site"
    result = run("build", "--root", EXAMPLE.parent, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return out


def slugs(kind: str, suffix: str) -> list[str]:
    return sorted(p.stem for p in (EXAMPLE / kind).glob(f"*{suffix}"))


def target_file(out: Path, href: str) -> Path | None:
    """The built file an internal link points to, or None for external links."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc:
        return None
    assert href.startswith(BASE_PATH) or href.startswith("#"), f"link outside the base path: {href}"
    path = urldefrag(href)[0][len(BASE_PATH):]
    file = out / path
    return file / "index.html" if path == "" or path.endswith("/") else file


def test_every_page_of_the_contract_is_there(built: Path):
    expected = ["index.html", "actors/index.html", "timeline/index.html", "feed.xml", "sitemap.xml",
                "robots.txt", "404.html"]
    expected += [f"explainers/{s}/index.html" for s in slugs("explainers", ".md")]
    expected += [f"actors/{s}/index.html" for s in slugs("actors", ".md")]
    expected += [f"cards/{s}/index.html" for s in slugs("cards", ".yml")]
    missing = [p for p in expected if not (built / p).is_file()]
    assert not missing


def test_example_size(built: Path):
    assert len(slugs("explainers", ".md")) >= 2
    assert len(slugs("actors", ".md")) >= 15
    assert len(slugs("cards", ".yml")) >= 10


def test_every_internal_link_and_fragment_resolves(built: Path):
    pages = {p: Page(p.read_text()) for p in built.rglob("*.html")}
    broken = []
    for page_path, page in pages.items():
        for href in page.links:
            if href.startswith("#"):
                if href[1:] not in page.ids:
                    broken.append((page_path, href))
                continue
            file = target_file(built, href)
            if file is None:
                continue
            if not file.is_file():
                broken.append((page_path, href))
                continue
            fragment = urldefrag(href)[1]
            if fragment and file.suffix == ".html" and fragment not in pages[file].ids:
                broken.append((page_path, href))
    assert not broken
    assert sum(len(p.links) for p in pages.values()) > 300


def test_every_actor_page_lists_the_explainers_that_mention_it(built: Path):
    checked = 0
    for explainer in slugs("explainers", ".md"):
        page = Page((built / f"explainers/{explainer}/index.html").read_text())
        mentioned = {href for cls, href in page.classes if "ref-actor" in cls}
        for href in mentioned:
            actor_page = (built / href[len(BASE_PATH):] / "index.html").read_text()
            assert f'href="{BASE_PATH}explainers/{explainer}/' in actor_page, (href, explainer)
            checked += 1
    assert checked >= 10


def test_mentions_carry_their_sentence_and_anchor(built: Path):
    page = (built / "actors/kim-jong-il/index.html").read_text()
    section = page.split('id="mentions-title"', 1)[1]
    assert "2000" in section  # the sentence about Putin's only earlier visit
    assert re.search(rf'href="{BASE_PATH}explainers/putin-visits-pyongyang/#[\w-]+"', section)


def test_positions_render_side_by_side_and_are_quoted_on_the_actor_page(built: Path):
    explainer = (built / "explainers/putin-visits-pyongyang/index.html").read_text()
    group = explainer.split('<div class="positions">', 1)[1].split("</div>", 1)[0]
    assert group.count('class="position"') == 2
    russia = (built / "actors/russia/index.html").read_text()
    anchor = re.search(r'<h3 id="([\w-]+)"><a class="ref ref-actor" href="/explainers/actors/russia/"', explainer).group(1)
    assert f"putin-visits-pyongyang/#{anchor}" in russia


def test_an_actors_page_quotes_a_position_without_the_card_it_embeds(built: Path):
    """Iran's position in an explainer embeds a card: the actor's page quotes the position's own
    words, not the card's kicker, claim and sources (its cards are listed on the page already)."""
    iran = (built / "actors/iran/index.html").read_text()
    quote = re.search(r"<blockquote>(Buyers for its military hardware[^<]*)</blockquote>", iran).group(1)
    assert quote.endswith("more attractive rather than less.")
    explainer = (built / "explainers/russia-courts-sanctioned-partners/index.html").read_text()
    assert 'aria-labelledby="card-iran-drones"' in explainer  # the card is embedded in that position


def test_an_embedded_card_is_the_themes_markup_as_written(built: Path):
    """An embed is the theme's partial as it rendered it, not passed through the sanitizer that
    cleans what editors write: the attributes that keep it out of search stay (its claim is
    cleaned as a body of its own)."""
    explainer = (built / "explainers/russia-courts-sanctioned-partners/index.html").read_text()
    embed = explainer.split('<div class="card-embed">', 1)[1].split("</article>", 1)[0]
    assert re.match(r'\s*<article class="card status-\w+" aria-labelledby="card-[\w-]+" data-pagefind-ignore>', embed)
    assert '<p class="card-kicker" data-pagefind-ignore>' in embed
    assert "dossier-card-" not in explainer


def test_cards_show_their_sources_everywhere(built: Path):
    for card in slugs("cards", ".yml"):
        page = (built / f"cards/{card}/index.html").read_text()
        assert "Sources" in page and 'class="card-sources"' in page, card
    explainer = (built / "explainers/putin-visits-pyongyang/index.html").read_text()
    assert explainer.count('class="card-sources"') >= 5
    assert "Bloomberg" in explainer


def test_relations_appear_on_both_pages(built: Path):
    for page in ("actors/kim-jong-un/index.html", "actors/north-korea/index.html"):
        text = (built / page).read_text()
        relations = text.split('id="relations-title"', 1)[1].split("</section>", 1)[0]
        assert "Kim Jong Un" in relations and "North Korea" in relations


def test_timeline_is_ordered_by_date(built: Path):
    text = (built / "timeline/index.html").read_text()
    dates = re.findall(r'<time datetime="([\d-]+)"', text)
    assert len(dates) >= 8
    assert dates == sorted(dates, key=lambda d: (d[:4], d[5:7] or "00", d[8:10] or "00"))


def test_head_metadata_and_json_ld(built: Path):
    kinds = {"explainers/putin-visits-pyongyang/index.html": "NewsArticle",
             "actors/vladimir-putin/index.html": "Person",
             "actors/russia/index.html": "Country",
             "actors/un-security-council/index.html": "Organization",
             "cards/limousine-gift/index.html": "Claim"}
    for rel, kind in kinds.items():
        page = Page((built / rel).read_text())
        data = json.loads(page.jsonld[0])
        assert data["@type"] == kind
        url = "https://example.org/explainers/" + rel.removesuffix("index.html")
        assert page.meta["canonical"] == url
        assert page.meta["og:url"] == url
        assert page.meta["og:title"] and page.meta["description"]
    home = Page((built / "index.html").read_text())
    assert home.meta["canonical"] == "https://example.org/explainers/"


def test_a_cards_description_reads_as_text(built: Path):
    """A claim is Markdown with [[references]]: its page's description and its JSON-LD give the
    words a reader sees, never the markup."""
    text = yaml.safe_load((REPO / "content" / "cards" / "iran-drones.yml").read_text())["claim"]
    assert "[[russia]]" in text
    page = Page((built / "cards/iran-drones/index.html").read_text())
    claim = json.loads(page.jsonld[0])["text"]
    for shown in (page.meta["description"], page.meta["og:description"], claim):
        assert "[[" not in shown and "<" not in shown
        assert shown.startswith("Russia has been seeking closer ties with Iran")


def test_feed_sitemap_robots(built: Path):
    import xml.etree.ElementTree as ET
    feed = ET.parse(built / "feed.xml").getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = feed.findall("a:entry", ns)
    assert len(entries) == len(slugs("explainers", ".md"))
    assert all(e.find("a:link", ns).get("href").startswith("https://example.org/explainers/explainers/") for e in entries)
    sitemap = ET.parse(built / "sitemap.xml").getroot()
    locs = [u[0].text for u in sitemap]
    assert "https://example.org/explainers/actors/russia/" in locs
    assert "Sitemap: https://example.org/explainers/sitemap.xml" in (built / "robots.txt").read_text()


def test_home_lists_explainers_newest_first(built: Path):
    text = (built / "index.html").read_text()
    order = [m for m in re.findall(r'href="/explainers/explainers/([\w-]+)/"', text)]
    dates = [re.search(r"published: (\S+)", (EXAMPLE / f"explainers/{s}.md").read_text()).group(1) for s in order]
    assert len(order) >= 2 and dates == sorted(dates, reverse=True)


def test_same_input_gives_byte_identical_output(tmp_path: Path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert run("build", "--root", EXAMPLE.parent, "--out", first).returncode == 0
    assert run("build", "--root", EXAMPLE.parent, "--out", second).returncode == 0
    assert tree_digest(first) == tree_digest(second)


def test_pagefind_settings_around_the_command_change_nothing(tmp_path: Path, example_site: Path):
    """Pagefind reads options from a pagefind.yml in the folder it runs in and from PAGEFIND_
    variables: a build run from a folder that has one, with such variables set, is the same."""
    plain, around = tmp_path / "plain", tmp_path / "around"
    assert run("build", "--root", example_site, "--out", plain, cwd=tmp_path).returncode == 0
    (example_site / "pagefind.yml").write_text('exclude_selectors: ["p"]\nkeep_index_url: true\n')
    env = {**os.environ, "PAGEFIND_EXCLUDE_SELECTORS": '["h1"]', "PAGEFIND_WRITE_PLAYGROUND": "true"}
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--root", str(example_site),
                             "--out", str(around)], cwd=example_site, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert tree_digest(around) == tree_digest(plain)


def test_base_url_option_moves_every_link(tmp_path: Path, example_site: Path):
    out = tmp_path / "out"
    result = run("build", "--root", example_site, "--out", out, "--base-url", "https://news.example.com/deep/path/")
    assert result.returncode == 0, result.stderr
    home = Page((out / "index.html").read_text())
    assert home.meta["canonical"] == "https://news.example.com/deep/path/"
    internal = [h for h in home.links if not urlsplit(h).scheme and not h.startswith("#")]
    assert internal and all(h.startswith("/deep/path/") for h in internal)


STEPS = re.compile(r"steps: (.+)")


def _steps(stdout: str) -> list[tuple[str, float]]:
    """The --timings line as (step, seconds) pairs; [] if there is none."""
    found = STEPS.search(stdout)
    return [(step, float(seconds)) for step, seconds in
            (re.fullmatch(r"(\w+) (\d+\.\d\d) s", part).groups() for part in found[1].split(", "))] if found else []


def test_timings_name_each_step_of_the_build_in_order(tmp_path: Path, example_site: Path):
    """`--timings` adds a line of each step's wall time, which together make the build's own time."""
    assert _steps(run("build", "--root", example_site, "--out", tmp_path / "plain").stdout) == []  # only when asked
    out = tmp_path / "out"
    first = run("build", "--root", example_site, "--out", out, "--timings")
    assert first.returncode == 0, first.stderr
    steps = _steps(first.stdout)
    assert [step for step, _ in steps] == ["scan", "read", "bodies", "index", "plan", "shapes", "pages", "search",
                                           "commit", "record"]
    total = float(re.search(r"files in (\d+\.\d\d) s", first.stdout)[1])
    assert 0 < sum(seconds for _, seconds in steps) <= total + 0.01 * len(steps)  # each rounded to 0.01 s
    again = run("build", "--root", example_site, "--out", out, "--timings")
    assert [step for step, _ in _steps(again.stdout)] == ["scan", "unchanged"]
    (example_site / "content" / "cards" / "new-card.yml").write_text(
        "title: New card\nclaim: A claim.\nsources:\n  - name: Agency\n")
    check = run("check", "--root", example_site, "--out", out, "--timings")
    assert check.returncode == 0, check.stderr
    assert [step for step, _ in _steps(check.stdout)] == ["scan", "read", "bodies", "index", "plan", "shapes",
                                                          "pages"]


def _listed(page: Path) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """A listing page's explainers as (href, published date), in order, and its pager's links by rel."""
    text = page.read_text()
    entries = re.findall(r'<h2><a href="([^"]+)">.*?<time datetime="([^"]+)">', text, re.S)
    pager = dict(re.findall(r'<a rel="(prev|next)" href="([^"]+)">', text))
    return entries, pager


def test_past_two_pages_of_explainers_the_oldest_go_to_an_archive_a_new_one_leaves_alone(tmp_path: Path,
                                                                                       example_site: Path):
    """The home page lists the newest explainers, and archive pages of HOME_SIZE the older ones,
    numbered from the oldest: following "Older explainers" from the home page lists every
    explainer once, newest first, and publishing another rewrites no archive page."""
    from dossier.pages import HOME_SIZE

    explainers = example_site / "content" / "explainers"
    for n in range(3 * HOME_SIZE + 5):
        (explainers / f"gen-{n:03d}.md").write_text(
            f"---\ntitle: Generated {n}\ndek: One of many.\npublished: 2019-{1 + n // 28:02d}-{1 + n % 28:02d}\n---\n\n"
            f"## Why it matters now\n\nText {n}.\n")
    count = len(list(explainers.glob("*.md")))
    out = tmp_path / "site"
    assert run("build", "--root", example_site, "--out", out).returncode == 0

    walk, page, pages = [], out / "index.html", []
    while True:
        entries, pager = _listed(page)
        walk += entries
        pages.append(page)
        if "next" not in pager:
            break
        page = target_file(out, pager["next"])
        assert page.is_file() and _listed(page)[1]["prev"] == (BASE_PATH if len(pages) == 1 else
                                                                 f"{BASE_PATH}archive/{int(page.parent.name) + 1}/")
    assert [p.parent.relative_to(out).as_posix() for p in pages] == [".", "archive/2", "archive/1"]
    assert len(walk) == count == len({href for href, _ in walk})  # every explainer, once
    assert [date for _, date in walk] == sorted((date for _, date in walk), reverse=True)  # newest first
    assert all(len(_listed(p)[0]) == HOME_SIZE for p in pages[1:])
    assert HOME_SIZE < len(_listed(pages[0])[0]) <= 2 * HOME_SIZE
    assert f"{BASE_PATH}archive/1/" in (out / "sitemap.xml").read_text()

    archive = {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in pages[1:]}
    (explainers / "published-today.md").write_text(
        "---\ntitle: Published today\ndek: The newest.\npublished: 2030-01-01\n---\n\nText.\n")
    assert run("build", "--root", example_site, "--out", out).returncode == 0
    assert _listed(out / "index.html")[0][0][0] == f"{BASE_PATH}explainers/published-today/"
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino) for p in archive} == archive
