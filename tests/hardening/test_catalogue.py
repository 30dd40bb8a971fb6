"""A catalogue of bad input, each built with the real command over a previous good build.

Every case must give exactly its `path:line:col: error: message` lines and the count,
exit 1, no traceback, and leave the previous site in --out byte for byte as it was.
`python -m pytest tests/hardening/test_catalogue.py -v` lists the catalogue.

The builds run a few at a time (see `results`): each test waits for its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .sites import REPO, Big, Special, Symlink, build, copy_site, minimal_site, tree_digest, write_files

V = "content/explainers/visit.md"
S = "content/cards/shells.yml"
R = "content/actors/russia.md"
K = "content/actors/kim-jong-un.md"
SITE = "content/site.yml"
CARD = "title: Shells\nclaim: Shells.\nsources:\n  - name: Desk\n"


def explainer(front: str, body: str = "Body.\n") -> str:
    return f"---\n{front}---\n\n{body}"


def visit(body: str) -> str:
    """The explainer with a valid front matter and this body (which starts on line 7)."""
    return explainer("title: Visit\ndek: Dek.\npublished: 2024-06-17\n", body)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))


@dataclass(frozen=True)
class Case:
    id: str
    files: dict
    expected: list[str]
    exit: int = 1
    within: float = 60.0  # seconds the whole command may take
    warnings: list[str] = field(default_factory=list)


CATALOGUE = [
    # YAML that can't be read
    Case("yaml-unclosed-bracket", {S: "title: [Shells\nclaim: Shells.\n"}, [
        "content/cards/shells.yml:2:6: error: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 8)"]),
    Case("yaml-unclosed-quote", {S: "title: Shells\nclaim: 'Shells.\nsources: []\n"}, [
        "content/cards/shells.yml:4:1: error: invalid YAML: found unexpected end of stream (while scanning a quoted scalar at line 2, column 8)"]),
    Case("yaml-bad-indent", {R: "---\nname: Russia\n  kind: country\n---\n"}, [
        "content/actors/russia.md:3:7: error: invalid YAML: mapping values are not allowed in this context"]),
    Case("yaml-tab-indent", {S: "title: Shells\nclaim: Shells.\nsources:\n\t- name: Desk\n"}, [
        "content/cards/shells.yml:4:1: error: invalid YAML: a tab character; indent YAML with spaces, never tabs"]),
    Case("yaml-duplicate-key", {S: "title: Shells\nclaim: Shells.\ntitle: Again\nsources: [{name: Desk}]\n"}, [
        "content/cards/shells.yml:3:1: error: duplicate key 'title' (first given at line 1)"]),
    Case("yaml-python-tag", {S: "title: !!python/object/apply:os.system [echo owned]\nclaim: x\nsources: [{name: Desk}]\n"}, [
        "content/cards/shells.yml:1:8: error: YAML tags (!!python/object/apply:os.system) are not allowed; remove the tag"]),
    Case("yaml-local-tag", {R: "---\nname: !secret Russia\nkind: country\n---\n"}, [
        "content/actors/russia.md:2:7: error: YAML tags (!secret) are not allowed; remove the tag"]),
    Case("yaml-alias-bomb", {S: BOMB}, [
        "content/cards/shells.yml:1:4: error: YAML anchors (&a) are not allowed; write the value out"], within=10),
    Case("yaml-two-documents", {S: CARD + "---\ntitle: Another\n"}, [
        "content/cards/shells.yml:5:1: error: a file holds one YAML document; remove the second '---' block"]),
    Case("yaml-key-not-a-name", {S: "? [title, claim]\n: Shells\n"}, [
        "content/cards/shells.yml:1:3: error: a key must be a plain name"]),
    # front matter
    Case("front-matter-not-closed", {V: "---\ntitle: Visit\ndek: Dek.\n"}, [
        "content/explainers/visit.md:1:1: error: front matter is never closed; add a line '---' after the fields"]),
    Case("front-matter-missing", {V: "# Visit\n\nBody.\n"}, [
        "content/explainers/visit.md:1:1: error: must start with front matter: a line '---', the YAML fields, then '---'"]),
    Case("front-matter-not-a-mapping", {V: "---\n- title\n- dek\n---\nBody.\n"}, [
        "content/explainers/visit.md:2:1: error: expected a mapping of fields (name: value), found a list"]),
    Case("front-matter-after-bom", {V: "\ufeff" + visit("Body.\n")}, [
        "content/explainers/visit.md:1:1: error: starts with a byte-order mark (BOM); save it as UTF-8 without BOM"]),
    # implicit typing where text or a date is expected
    Case("trap-no", {R: "---\nname: no\nkind: country\n---\n"}, [
        'content/actors/russia.md:2:7: error: YAML reads no as a true/false value, not text; put it in quotes ("no") if you mean the text']),
    Case("trap-1.10", {S: "title: Shells\nclaim: Shells.\nfigure: 1.10\nsources: [{name: Desk}]\n"}, [
        'content/cards/shells.yml:3:9: error: YAML reads 1.10 as a number, not text; put it in quotes ("1.10") if you mean the text']),
    Case("trap-2024-13-45", {V: explainer("title: Visit\ndek: Dek.\npublished: 2024-13-45\n")}, [
        "content/explainers/visit.md:4:12: error: '2024-13-45' is not a real date (month must be in 1..12)"]),
    Case("trap-0x1F", {K: "---\nname: Kim Jong Un\nkind: person\nrole: 0x1F\n---\n"}, [
        'content/actors/kim-jong-un.md:4:7: error: YAML reads 0x1F as a number, not text; put it in quotes ("0x1F") if you mean the text']),
    Case("trap-date-as-title", {S: "title: 2024-06-17\nclaim: Shells.\ndate: 2024-00\nsources: [{name: Desk, date: 20240617}]\n"}, [
        'content/cards/shells.yml:1:8: error: YAML reads 2024-06-17 as a date, not text; put it in quotes ("2024-06-17") if you mean the text',
        "content/cards/shells.yml:3:7: error: '2024-00' is not a real date (month must be in 1..12)",
        "content/cards/shells.yml:4:30: error: '20240617' is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD"]),
    # wrong types for every field
    Case("types-site", {SITE: "title: [Desk]\nbase_url: ftp://example.org/\ndescription: {a: b}\nlanguage: 'en us'\nlogo: x.png\n"}, [
        "content/site.yml:1:8: error: expected text, found a list",
        "content/site.yml:2:11: error: 'ftp://example.org/' is not an absolute http(s) URL",
        "content/site.yml:3:14: error: expected text, found a mapping (key: value lines)",
        "content/site.yml:4:11: error: 'en us' is not a BCP 47 language tag (like en or pt-BR)",
        "content/site.yml:5:1: error: unknown field 'logo'"]),
    Case("types-site-language-and-url", {SITE: "title: Desk\nbase_url: https://example.org/?page=1\n"}, [
        "content/site.yml:2:11: error: 'https://example.org/?page=1' has a query or fragment; base_url is where the site lives, like https://example.org/briefs/"]),
    Case("types-explainer", {V: explainer(
        "title: [Visit]\ndek: {a: b}\npublished: yes\nupdated: 17\nauthors: Ann\nactors: russia\ndraft: 'true'\ntags: [x]\n")}, [
        "content/explainers/visit.md:2:8: error: expected text, found a list",
        "content/explainers/visit.md:3:6: error: expected text, found a mapping (key: value lines)",
        "content/explainers/visit.md:4:12: error: 'yes' is not a date; write it as YYYY-MM-DD",
        "content/explainers/visit.md:5:10: error: '17' is not a date; write it as YYYY-MM-DD",
        "content/explainers/visit.md:6:10: error: expected a list (lines starting with '- '), found a single value",
        "content/explainers/visit.md:7:9: error: expected a list (lines starting with '- '), found a single value",
        "content/explainers/visit.md:8:8: error: expected true or false without quotes, found 'true' in quotes",
        "content/explainers/visit.md:9:1: error: unknown field 'tags'"]),
    Case("types-actor", {R: "---\nname: ~\nkind: nation\nrole: [a]\naliases: Moskva\nrelations: {actor: x}\nwikidata: 159\n---\n"}, [
        "content/actors/russia.md:2:7: error: is empty; write a value or remove the line",
        "content/actors/russia.md:3:7: error: 'nation' is not one of person, country, organization, group (did you mean 'organization'?)",
        "content/actors/russia.md:4:7: error: expected text, found a list",
        "content/actors/russia.md:5:10: error: expected a list (lines starting with '- '), found a single value",
        "content/actors/russia.md:6:12: error: expected a list (lines starting with '- '), found a mapping (key: value lines)",
        'content/actors/russia.md:7:11: error: YAML reads 159 as a number, not text; put it in quotes ("159") if you mean the text']),
    Case("types-actor-wikidata", {R: "---\nname: Russia\nkind: country\nwikidata: '../../w/index.php?x=1'\n---\n"}, [
        "content/actors/russia.md:4:11: error: '../../w/index.php?x=1' is not a Wikidata item id (like Q7747)"]),
    Case("types-relation", {K: "---\nname: Kim Jong Un\nkind: person\nrelations:\n  - actor: North-Korea\n    label: ''\n  - [north-korea, leads]\n  - {label: leads}\n---\n"}, [
        "content/actors/kim-jong-un.md:5:12: error: 'North-Korea' is not a slug (lowercase letters, digits and single hyphens)",
        "content/actors/kim-jong-un.md:6:12: error: is empty; write a value or remove the line",
        "content/actors/kim-jong-un.md:7:5: error: expected a mapping of fields (name: value), found a list",
        "content/actors/kim-jong-un.md:8:5: error: missing required field 'actor'"]),
    Case("types-card", {S: "title: Shells\nclaim: [a]\nfigure: {n: 5}\ndate: June 2024\nstatus: rumoured\nactors: [Russia]\nsources: Bloomberg\n"}, [
        "content/cards/shells.yml:2:8: error: expected text, found a list",
        "content/cards/shells.yml:3:9: error: expected text, found a mapping (key: value lines)",
        "content/cards/shells.yml:4:7: error: 'June 2024' is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD",
        "content/cards/shells.yml:5:9: error: 'rumoured' is not one of confirmed, reported, claimed, disputed",
        "content/cards/shells.yml:6:10: error: 'Russia' is not a slug (lowercase letters, digits and single hyphens)",
        "content/cards/shells.yml:7:10: error: expected a list (lines starting with '- '), found a single value"]),
    Case("types-source", {S: "title: Shells\nclaim: Shells.\nsources:\n  - name: [Desk]\n    url: 'http://[::1'\n    date: 2024-02-30\n    page: 4\n  - url: https://example.org/\n"}, [
        "content/cards/shells.yml:4:11: error: expected text, found a list",
        "content/cards/shells.yml:5:10: error: 'http://[::1' is not an absolute http(s) URL",
        "content/cards/shells.yml:6:11: error: '2024-02-30' is not a real date (day is out of range for month)",
        "content/cards/shells.yml:7:5: error: unknown field 'page'",
        "content/cards/shells.yml:8:5: error: missing required field 'name'"]),
    Case("missing-required", {S: "figure: 5\n"}, [
        'content/cards/shells.yml:1:1: error: missing required field \'claim\'',
        "content/cards/shells.yml:1:1: error: missing required field 'sources'",
        "content/cards/shells.yml:1:1: error: missing required field 'title'",
        'content/cards/shells.yml:1:9: error: YAML reads 5 as a number, not text; put it in quotes ("5") if you mean the text']),
    # files that are not text, or far too much of it
    Case("empty-explainer", {V: ""}, [
        "content/explainers/visit.md:1:1: error: is empty; it needs front matter: a line '---', the YAML fields, then '---'"]),
    Case("empty-card", {S: ""}, [
        "content/cards/shells.yml:1:1: error: is empty; expected the fields title, claim, sources"]),
    Case("invalid-utf8", {S: b"title: Shells\nclaim: caf\xe9 au lait\nsources: [{name: Desk}]\n"}, [
        "content/cards/shells.yml:2:11: error: is not valid UTF-8 here; save the file as UTF-8"]),
    Case("nul-byte", {V: visit("Body with a \x00 in it.\n").encode()}, [
        "content/explainers/visit.md:7:13: error: contains a NUL byte; is this a text file?"]),
    Case("control-character", {V: visit("Ring the \x07 bell.\n")}, [
        "content/explainers/visit.md:7:10: error: contains the invisible control character U+0007 here; remove it"]),
    Case("file-of-50-mb", {S: Big(50 * 1024 * 1024)}, [
        "content/cards/shells.yml:1:1: error: is larger than 2 MB; content files are text of a few pages"]),
    # file names
    Case("slug-uppercase", {"content/cards/Shells-2.yml": CARD}, [
        "content/cards/Shells-2.yml:1:1: error: file name 'Shells-2.yml' is not a valid slug; rename it to 'shells-2.yml'"]),
    Case("slug-space", {"content/explainers/the visit.md": visit("Body.\n")}, [
        "content/explainers/the visit.md:1:1: error: file name 'the visit.md' is not a valid slug; rename it to 'the-visit.md'"]),
    Case("slug-dots", {"content/cards/a..b.yml": CARD, "content/cards/..yml": CARD}, [
        "content/cards/a..b.yml:1:1: error: file name 'a..b.yml' is not a valid slug; rename it to 'a-b.yml'"]),
    Case("slug-lookalike", {"content/actors/ukrаine.md": "---\nname: Ukraine\nkind: country\n---\n"}, [
        "content/actors/ukrаine.md:1:1: error: file name 'ukrаine.md' is not a valid slug ('а' is U+0430 CYRILLIC SMALL LETTER A); rename it to 'ukraine.md'"]),
    Case("slug-windows-reserved", {"content/cards/con.yml": CARD, "content/explainers/aux.md": visit("Body.\n")}, [
        "content/cards/con.yml:1:1: error: file name 'con.yml' is a device name on Windows, which can neither check it out nor publish a page named so; choose another slug",
        "content/explainers/aux.md:1:1: error: file name 'aux.md' is a device name on Windows, which can neither check it out nor publish a page named so; choose another slug"]),
    Case("slug-equal-after-case-folding", {"content/actors/Russia.md": "---\nname: Russia 2\nkind: country\n---\n"}, [
        "content/actors/Russia.md:1:1: error: file name 'Russia.md' is not a valid slug, and looks the same as 'russia' (content/actors/russia.md) once case and look-alike letters are folded; rename or remove one of them"]),
    Case("slug-equal-after-nfkc", {"content/cards/ｓｈｅｌｌｓ.yml": CARD}, [
        "content/cards/ｓｈｅｌｌｓ.yml:1:1: error: file name 'ｓｈｅｌｌｓ.yml' is not a valid slug, and looks the same as 'shells' (content/cards/shells.yml) once case and look-alike letters are folded; rename or remove one of them"]),
    Case("slug-used-twice", {"content/explainers/russia.md": visit("Body.\n")}, [
        "content/actors/russia.md:1:1: error: slug 'russia' is already used by content/explainers/russia.md; slugs are unique across explainers, actors and cards"]),
    # what is in content/ besides regular files
    Case("symlink-outside-root", {"content/cards/secret.yml": Symlink("{outside}/secret.yml"),
                                  "content/media/etc": Symlink("/etc")}, [
        "content/cards/secret.yml:1:1: error: is a symbolic link leading outside the site root; copy the file in instead",
        "content/media/etc:1:1: error: is a symbolic link leading outside the site root; copy the folder in instead"]),
    Case("symlink-loop", {"content/cards/loop.yml": Symlink("loop.yml"), "content/cards/ping.yml": Symlink("pong.yml"),
                          "content/cards/pong.yml": Symlink("ping.yml"), "content/media/here": Symlink(".")}, [
        "content/cards/loop.yml:1:1: error: is a broken symbolic link or a link loop",
        "content/cards/ping.yml:1:1: error: is a broken symbolic link or a link loop",
        "content/cards/pong.yml:1:1: error: is a broken symbolic link or a link loop",
        "content/media/here:1:1: error: is a symbolic link to a folder, which is not followed; copy the folder in instead"]),
    Case("fifo-and-socket", {"content/cards/pipe.yml": Special("fifo"),
                             "content/media/pipe.png": Special("fifo"), "content/cards/sock.yml": Special("socket")}, [
        "content/cards/pipe.yml:1:1: error: is not a regular file",
        "content/cards/sock.yml:1:1: error: is not a regular file",
        "content/media/pipe.png:1:1: error: is not a regular file"], within=30),
    Case("fifo-in-the-theme", {"assets/pipe.css": Special("fifo")}, [
        "assets/pipe.css:1:1: error: is not a regular file"], within=30),
    Case("folders-where-files-belong", {"content/cards/old": Special("folder"), "content/explainer": Special("folder"),
                                        "content/notes.md": "notes\n"}, [
        "content/cards/old:1:1: error: unexpected folder; content folders hold files only",
        "content/explainer:1:1: error: unexpected folder in content/; it holds site.yml, explainers/, actors/, cards/ and media/ (did you mean 'explainers'?)",
        "content/notes.md:1:1: error: unexpected file in content/; it holds site.yml, explainers/, actors/, cards/ and media/"]),
    # references and embeds
    Case("ref-unknown", {V: visit("Talks with [[north-koreaa]].\n")}, [
        "content/explainers/visit.md:7:12: error: unknown reference [[north-koreaa]] (did you mean 'north-korea'?)"]),
    Case("ref-empty", {V: visit("Talks with [[ ]] and [[|Pyongyang]] and [[russia| ]].\n")}, [
        "content/explainers/visit.md:7:12: error: empty reference [[ ]]; write [[slug]] or [[slug|text]]",
        "content/explainers/visit.md:7:22: error: empty reference [[|Pyongyang]]; write [[slug]] or [[slug|text]]",
        "content/explainers/visit.md:7:41: error: reference [[russia|]] has an empty text; write [[russia]] or [[russia|text]]"]),
    Case("ref-nested", {V: visit("Talks with [[[[russia]]]] and [[north-[[russia]]]].\n")}, [
        "content/explainers/visit.md:7:12: error: brackets nested around [[russia]]; write a reference as [[slug]] or [[slug|text]]",
        "content/explainers/visit.md:7:31: error: brackets nested around [[russia]]; write a reference as [[slug]] or [[slug|text]]"]),
    Case("card-embeds-itself", {S: "title: Shells\nclaim: |\n  Shells.\n  ![[shells]]\nsources: [{name: Desk}]\n"}, [
        "content/cards/shells.yml:4:3: error: ![[shells]]: a card cannot embed another card; use [[shells]] to link to it"]),
    Case("cards-embed-each-other", {S: "title: Shells\nclaim: 'See ![[stocks]].'\nsources: [{name: Desk}]\n",
                                    "content/cards/stocks.yml": "title: Stocks\nclaim: \"See ![[shells]].\"\nsources: [{name: Desk}]\n"}, [
        "content/cards/shells.yml:2:13: error: ![[stocks]]: a card cannot embed another card; use [[stocks]] to link to it",
        "content/cards/stocks.yml:2:13: error: ![[shells]]: a card cannot embed another card; use [[shells]] to link to it"]),
    Case("embed-not-alone", {V: visit("Read ![[shells]] here, and:\n\n![[russia]]\n")}, [
        "content/explainers/visit.md:7:6: error: ![[shells]] embeds a card only alone on its own line; move it there, or write [[shells]] to link to it",
        "content/explainers/visit.md:9:1: error: ![[russia]] embeds cards only; 'russia' is an actor, link to it with [[russia]]"]),
    Case("markdown-nested-too-deep", {V: visit("".join("  " * n + "- level\n" for n in range(300)))}, [
        "content/explainers/visit.md:306:599: error: lists or quotes nested more than 40 levels deep; flatten them"]),
    # rules across files
    Case("actor-related-to-itself", {R: "---\nname: Russia\nkind: country\nrelations:\n  - {actor: russia, label: is}\n---\n"}, [
        "content/actors/russia.md:5:13: error: actor 'russia' cannot be related to itself"]),
    Case("alias-clash", {R: "---\nname: Russia\nkind: country\naliases: [Moscow, North Korea]\n---\n",
                         K: "---\nname: Kim Jong Un\nkind: person\naliases: [Moscow]\n---\n"}, [
        "content/actors/russia.md:4:11: error: alias 'Moscow' is already a name or alias of actor 'kim-jong-un'",
        "content/actors/russia.md:4:19: error: alias 'North Korea' is already a name or alias of actor 'north-korea'"]),
    Case("name-clash", {K: "---\nname: North Korea\nkind: person\n---\n"}, [
        "content/actors/north-korea.md:2:7: error: name 'North Korea' is already the name of actor 'kim-jong-un'; tell them apart, as in 'North Korea (country)'"]),
    Case("updated-before-published", {V: explainer("title: Visit\ndek: Dek.\npublished: 2024-06-17\nupdated: 2024-06-01\n")}, [
        "content/explainers/visit.md:5:10: error: updated (2024-06-01) is before published (2024-06-17)"]),
    Case("published-in-the-future", {V: explainer("title: Visit\ndek: Dek.\npublished: 2999-01-01\n")}, [], exit=0,
         warnings=["content/explainers/visit.md:4:12: warning: published date 2999-01-01 is in the future"]),
    # layouts: code, so every failure is reported at its file and line
    Case("layout-raises", {"layouts/card.html": "{% extends 'base.html' %}\n{% block title %}x{% endblock %}{% block description %}x{% endblock %}\n"
                           "{% block main %}\n{{ 1 // 0 }}\n{% endblock %}\n"}, [
        "layouts/card.html:4:1: error: layout error: integer division or modulo by zero (rendering cards/shells/index.html)"]),
    Case("layout-includes-itself", {"layouts/card.html": "{% extends 'base.html' %}\n{% block title %}x{% endblock %}{% block description %}x{% endblock %}\n"
                                    "{% block main %}\n{% include 'card.html' %}\n{% endblock %}\n"}, [
        "layouts/card.html:4:1: error: layout error: the layout includes or calls itself without end (rendering cards/shells/index.html)"]),
    Case("layout-macro-loops", {"layouts/partials/card.html": "{% macro down(n) %}{{ down(n + 1) }}{% endmacro %}\n{{ down(0) }}\n"}, [
        "layouts/partials/card.html:1:1: error: layout error: the layout includes or calls itself without end"]),
    Case("layout-syntax", {"layouts/card.html": "{% extends 'base.html' %}\n{% block main %}\n{% if %}\n{% endblock %}\n"}, [
        "layouts/card.html:3:1: error: layout error: Expected an expression, got 'end of statement block' (rendering cards/shells/index.html)"]),
]


@pytest.fixture(scope="module")
def previous_site(tmp_path_factory) -> tuple[Path, Path]:
    """A good site and its build: each case starts from copies of both."""
    base = tmp_path_factory.mktemp("previous")
    root, out = minimal_site(base / "root"), base / "out"
    result = build(root, out)
    assert result.returncode == 0, result.stderr
    return root, out


@dataclass
class Outcome:
    result: subprocess.CompletedProcess
    seconds: float
    before: dict[str, str]
    after: dict[str, str]
    out: Path


def _run_case(case: Case, previous: tuple[Path, Path], folder: Path) -> Outcome:
    root = copy_site(previous[0], folder / "root")
    out = folder / "site"
    shutil.copytree(previous[1], out)
    (folder / "outside").mkdir()
    (folder / "outside" / "secret.yml").write_text(CARD)
    write_files(root, case.files, folder / "outside")
    before = tree_digest(out)
    started = time.monotonic()
    result = build(root, out, timeout=case.within)
    return Outcome(result, time.monotonic() - started, before, tree_digest(out), out)


@pytest.fixture(scope="module")
def results(request, previous_site, tmp_path_factory) -> dict[str, Future]:
    """Every selected case, built two or three at a time."""
    selected = {item.callspec.params["case"].id for item in request.session.items
                if item.originalname == "test_bad_input" and hasattr(item, "callspec")}
    pool = ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)))
    request.addfinalizer(lambda: pool.shutdown(wait=True))
    return {case.id: pool.submit(_run_case, case, previous_site, tmp_path_factory.mktemp(case.id))
            for case in CATALOGUE if case.id in selected}


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.id for case in CATALOGUE])
def test_bad_input(case: Case, results):
    outcome = results[case.id].result()
    result = outcome.result
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode == case.exit, output
    lines = result.stderr.splitlines()
    if case.exit == 0:
        assert lines == case.warnings
        return
    errors = len(case.expected)
    assert lines == case.warnings + case.expected + [f"{errors} error{'s' if errors != 1 else ''}"]
    assert outcome.after == outcome.before, "the previous site changed"
    assert not [p for p in outcome.out.parent.iterdir() if ".building-" in p.name or ".old-" in p.name]
    assert outcome.seconds < case.within


def test_the_catalogue_has_thirty_kinds_at_least():
    assert len({case.id for case in CATALOGUE}) == len(CATALOGUE) >= 30


def test_alias_bomb_is_refused_before_any_expansion():
    """A few hundred bytes that a constructing loader would expand to 9^8 nodes: refused at once."""
    from dossier.problems import Problems
    from dossier.yamlstrict import parse

    assert len(BOMB) < 1000
    problems = Problems()
    started = time.monotonic()
    for _ in range(100):
        assert parse(BOMB * 3, "bomb.yml", problems) is None
    assert time.monotonic() - started < 2
    assert str(problems.items[0]) == "bomb.yml:1:4: error: YAML anchors (&a) are not allowed; write the value out"


def test_a_huge_file_is_refused_without_reading_it_whole(tmp_path):
    """The 50 MB card is refused after reading at most MAX_FILE_BYTES + 1 of it: memory stays bounded."""
    root = minimal_site(tmp_path / "root")
    small = _peak_kilobytes(root, tmp_path / "out-small")
    write_files(root, {S: Big(50 * 1024 * 1024)}, tmp_path)
    big = _peak_kilobytes(root, tmp_path / "out-big")
    assert big < small + 30 * 1024, f"peak memory {big} kB against {small} kB for a good build"


def _peak_kilobytes(root: Path, out: Path) -> int:
    """The peak resident memory of one build, measured on the child alone (wait4)."""
    with open(os.devnull, "wb") as devnull:
        child = subprocess.Popen([sys.executable, "build.py", "check", "--root", str(root)], cwd=REPO,
                                 stdout=devnull, stderr=devnull)
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0  # reaped here, not by Popen
    return usage.ru_maxrss
