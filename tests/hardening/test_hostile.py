"""Hostile content: scripts, handlers, bad URLs, quotes and comment ends in every field.

The fixture site `fixtures/hostile` builds (content is trusted to be written by editors,
not to be harmless); none of what it carries may reach the output as live markup.
Every page is read with html.parser, element by element and attribute by attribute.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .htmlcheck import attribute_values, live_markup, scheme_of, texts, theme_shapes
from .sites import FIXTURES, build, copy_site, minimal_site, write_files

BASE_PATH = "/briefs/"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """The hostile fixture site, built."""
    folder = tmp_path_factory.mktemp("hostile")
    root = copy_site(FIXTURES / "hostile", folder / "root")
    out = folder / "site"
    result = build(root, out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def theme(tmp_path_factory) -> set:
    """The shapes of the theme's own forms, scripts and meta tags, from a benign build."""
    folder = tmp_path_factory.mktemp("benign")
    out = folder / "site"
    assert build(minimal_site(folder / "root"), out).returncode == 0
    return set().union(*(theme_shapes(page.read_text()) for page in out.rglob("*.html")))


def _pages(out: Path) -> dict[str, str]:
    return {page.relative_to(out).as_posix(): page.read_text() for page in sorted(out.rglob("*.html"))}


def test_no_page_holds_live_markup_from_content(hostile, theme):
    pages = _pages(hostile)
    assert {"explainers/attack/index.html", "actors/hostile-actor/index.html", "cards/hostile-card/index.html",
            "index.html", "timeline/index.html", "actors/index.html"} <= set(pages)
    found = {rel: live for rel, html in pages.items() if (live := live_markup(html, BASE_PATH, theme))}
    assert found == {}


def test_every_hostile_field_is_shown_as_text(hostile):
    page = (hostile / "explainers/attack/index.html").read_text()
    title = "</script><script>alert('title')</script> \"><svg onload=alert(1)> --> <!--"
    dek = "Dek \" onfocus=\"alert(1)\" autofocus=\" --> </textarea><script>alert(2)</script>"
    assert texts(page, "h1") == [title]
    assert texts(page, "title")[0].startswith(title)
    assert dek in attribute_values(page, "meta", "content")
    actor = (hostile / "actors/hostile-actor/index.html").read_text()
    assert any("Role \" onmouseover=\"alert(1)\" --> </script><script>alert('role')</script>" in t
               for t in texts(actor, "p") + texts(actor, "main"))
    card = (hostile / "cards/hostile-card/index.html").read_text()
    assert "https://ok.example/path?q='onmouseover='alert(1)&b=2" in attribute_values(card, "a", "href")


def test_json_ld_keeps_the_text_and_never_ends_its_script(hostile):
    page = (hostile / "explainers/attack/index.html").read_text()
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(scripts) == 1
    assert "<" not in scripts[0] and ">" not in scripts[0] and "&" not in scripts[0]  # tojson escaped them
    data = json.loads(scripts[0])
    assert data["headline"] == "</script><script>alert('title')</script> \"><svg onload=alert(1)> --> <!--"
    assert data["author"][0]["name"] == "</script><b onclick=alert(1)>Eve</b>"


def test_sanitized_body_keeps_safe_links_and_drops_the_rest(hostile):
    page = (hostile / "explainers/attack/index.html").read_text()
    hrefs = attribute_values(page, "a", "href")
    assert "https://ok.example/" in hrefs
    assert not [h for h in hrefs if scheme_of(h) in ("javascript:", "vbscript:", "data:")]
    assert not [s for s in attribute_values(page, "img", "src") if scheme_of(s) not in ("", "http:", "https:")]
    assert "alert('raw block')" not in page and "alert('footnote')" not in page  # script contents dropped


def test_feed_and_sitemap_stay_well_formed(hostile):
    feed = ET.parse(hostile / "feed.xml").getroot()
    ET.parse(hostile / "sitemap.xml")
    titles = [el.text for el in feed.iter("{http://www.w3.org/2005/Atom}title")]
    assert "</script><script>alert('title')</script> \"><svg onload=alert(1)> --> <!--" in titles


HOSTILE_URLS = [
    "javascript:alert(1)", "JavaScript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)",
    "java\tscript:alert(1)", "vbscript:msgbox(1)", "VBScript:msgbox(1)", "data:text/html,<script>alert(1)</script>",
    "DATA:text/html;base64,PHNjcmlwdD4=", "&#106;avascript:alert(1)", "jav&#x09;ascript:alert(1)",
    "//evil.example/x", "/relative/path", "https:evil.example", "https://", "http://exa mple.org/",
    'https://example.org/" onmouseover="alert(1)', "https://example.org/<script>", "https://example.org/\\@evil",
    "ftp://example.org/file", "file:///etc/passwd",
]


def test_urls_in_yaml_must_be_http(tmp_path):
    """Every source URL that is not absolute http(s) is an error at its place, all in one run."""
    root = minimal_site(tmp_path / "root")
    sources = "".join(f"  - name: Source {n}\n    url: {json.dumps(url)}\n" for n, url in enumerate(HOSTILE_URLS))
    write_files(root, {"content/cards/shells.yml": f"title: Shells\nclaim: Shells.\nsources:\n{sources}",
                       "content/site.yml": "title: Desk\nbase_url: \"javascript:alert(1)//example.org/\"\n"}, tmp_path)
    result = build(root, tmp_path / "site")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    expected = ["content/cards/shells.yml:%d:10: error: '%s' is not an absolute http(s) URL" % (5 + 2 * n, url.strip())
                for n, url in enumerate(HOSTILE_URLS)]
    expected.append("content/site.yml:2:11: error: 'javascript:alert(1)//example.org/' is not an absolute http(s) URL")
    assert result.stderr.splitlines() == expected + [f"{len(expected)} errors"]


# Markdown as editors might paste it, each rendered by the real renderer and read like a page.
ATTACKS = [
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<iframe src=//evil.example></iframe>",
    "<style>*{background:url(javascript:alert(1))}</style>", "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"jav&#x09;ascript:alert(1);\">", "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"\x01javascript:alert(1)\">x</a>", "<a href=' javascript:alert(1)'>x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>", "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "<svg/onload=alert(1)>", "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<details open ontoggle=alert(1)>", "<body onload=alert(1)>", "<div style=\"width:expression(alert(1))\">x</div>",
    "<table><td background=\"javascript:alert(1)\" style=\"text-align:left;background:url(x)\">x</td></table>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">", "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<svg><style><img src=x onerror=alert(1)></style></svg>", "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">", "<base href=\"javascript:alert(1)//\">",
    "<object data=\"javascript:alert(1)\">", "<embed src=\"javascript:alert(1)\">", "<a href=\"javascript&colon;alert(1)\">x</a>",
    "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x]( javascript:alert(1))", "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))", "[x](data:text/html;base64,PHNjcmlwdD4=)", "![x](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)", "[x][r]\n\n[r]: javascript:alert(1)", "<javascript:alert(1)>",
    "[x](https://ok.example/ \"\\\" onmouseover=\\\"alert(1)\")", "[x](https://ok.example/){: onclick=\"alert(1)\" }",
    "## Heading {: onclick=\"alert(1)\" #\"><script> }", "[[russia|<img src=x onerror=alert(1)>]]",
    "Text\n\n[^1]\n\n[^1]: <script>alert(1)</script>", "`<script>alert(1)</script>`", "```html\n<script>alert(1)</script>\n```",
    "<a href=\"https://ok.example/\" onclick=\"alert(1)\">ok</a>", "<p>unclosed <b onmouseover=alert(1)>bold",
    "<scr<script>ipt>alert(1)</script>", "<<script>script>alert(1)<</script>/script>", "<a href=\"java\nscript:alert(1)\">x</a>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_attack_is_inert(attack):
    from dossier.markup import MarkdownRenderer, Target
    from dossier.model import Body
    from dossier.problems import Problems

    renderer = MarkdownRenderer({"russia": Target("/actors/russia/", "Russia", "actor")}, {"Russia": "russia"})
    problems = Problems()
    html = renderer.render(Body(attack + "\n", "content/explainers/x.md", 7), problems, autolink=True).html
    assert not problems.errors
    assert live_markup(html) == []


INERT_WITHOUT_SANITIZER = {"<javascript:alert(1)>", "`<script>alert(1)</script>`", "```html\n<script>alert(1)</script>\n```",
                           "[x](https://ok.example/ \"\\\" onmouseover=\\\"alert(1)\")"}


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a not in INERT_WITHOUT_SANITIZER])
def test_the_check_sees_each_attack_when_nothing_sanitizes_it(attack):
    """The page check is not blind: plain Python-Markdown, without the sanitizer, lets each attack through."""
    import markdown

    html = markdown.Markdown(extensions=["attr_list", "footnotes", "fenced_code"]).convert(attack)
    assert live_markup(html) != []
