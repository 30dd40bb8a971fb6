"""serve's first look at a save (serve_first_look.py): the saved item's pages, made from the
last build before the build runs. Each is compared with what the build then writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dossier import pipeline
from dossier.render import BUILTIN
from dossier.serve_first_look import first_look

from .test_incremental import edit


@pytest.fixture
def site(themed_example_site: Path) -> Path:
    pipeline.build(options(themed_example_site))  # what serve has built before the save
    return themed_example_site


def options(root: Path) -> pipeline.Options:
    return pipeline.Options(root=root, out=root / "site", search=False)


def look_then_build(root: Path, *saved: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The first look at a save, and the same pages as the build then wrote them."""
    found = first_look(options(root), {str(root / rel) for rel in saved})
    pipeline.build(options(root))
    return found, {rel: (root / "site" / rel).read_bytes() for rel in found}


@pytest.mark.parametrize("saved, old, new, pages, words", [
    ("content/explainers/putin-visits-pyongyang.md", "\n## ", "\nA paragraph the editor just wrote.\n\n## ",
     {"explainers/putin-visits-pyongyang/index.html"}, b"A paragraph the editor just wrote."),
    ("content/actors/russia.md", "\n---\n", "\n---\nA sentence the editor just wrote.\n\n",
     {"actors/russia/index.html"}, b"A sentence the editor just wrote."),
    # a card's page, and the explainers that embed its claim
    ("content/cards/north-korea-shells-to-russia.yml", 'claim: "', 'claim: "By one count, ',
     {"cards/north-korea-shells-to-russia/index.html", "explainers/putin-visits-pyongyang/index.html",
      "explainers/russia-courts-sanctioned-partners/index.html"},
     b"By one count, "),
])
def test_a_first_look_is_the_page_the_build_then_writes(site, saved, old, new, pages, words):
    edit(site / saved, old, new)
    found, built = look_then_build(site, saved)
    assert set(found) == pages
    assert found == built
    assert all(words in data for data in found.values())


@pytest.mark.parametrize("layout, old, new", [
    ("base.html", "</main>", '<p class="relaid">Relaid.</p></main>'),  # every page
    ("partials/card.html", "</", '<p class="relaid">Relaid.</p></'),  # in the bodies that embed a card
])
def test_a_saved_layout_shows_on_the_open_pages_as_the_build_then_writes_them(site, layout, old, new):
    """A layout's build renders every page (20 s and more at 5,000 explainers): its first look
    is the pages the browsers have open, an item's page with its body made again (it may embed
    a card's partial), another page as the last build planned it."""
    built = BUILTIN / "layouts" / layout
    saved = site / "layouts" / layout
    saved.parent.mkdir(parents=True, exist_ok=True)
    text = built.read_text(encoding="utf-8")
    assert old in text
    saved.write_text(text.replace(old, new, 1), encoding="utf-8")
    open_pages = {"explainers/putin-visits-pyongyang/index.html", "timeline/index.html", "index.html"}
    found = first_look(options(site), {str(saved)}, open_pages)
    assert first_look(options(site), {str(saved)}) == {}  # no page open: nothing early
    pipeline.build(options(site))
    shown = {rel for rel in open_pages if b'class="relaid"' in (site / "site" / rel).read_bytes()}
    assert shown and set(found) == shown
    assert found == {rel: (site / "site" / rel).read_bytes() for rel in found}


def test_a_first_look_uses_the_saved_links_and_shows_only_what_changed(site):
    edit(site / "content/explainers/putin-visits-pyongyang.md", "\n## ", "\nSee [[ukraine]] again.\n\n## ")
    found = first_look(options(site), {str(site / "content/explainers/putin-visits-pyongyang.md")})
    assert b'href="/explainers/actors/ukraine/"' in found["explainers/putin-visits-pyongyang/index.html"]
    # a save that changes no page shows nothing early
    card = site / "content/cards/iran-drones.yml"
    card.write_text(card.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    pipeline.build(options(site))
    card.write_text(card.read_text(encoding="utf-8") + "# another comment\n", encoding="utf-8")
    assert first_look(options(site), {str(card)}) == {}


@pytest.mark.parametrize("change", ["new file", "broken YAML", "unknown reference", "unknown actor", "alias taken",
                                    "layout", "draft", "deleted"])
def test_nothing_is_shown_early_for_what_only_the_build_can_show(site, change):
    explainer = site / "content/explainers/putin-visits-pyongyang.md"
    saved = explainer
    if change == "new file":
        saved = site / "content/cards/a-new-card.yml"
        saved.write_text((site / "content/cards/iran-drones.yml").read_text(encoding="utf-8"), encoding="utf-8")
    elif change == "broken YAML":
        edit(explainer, "title: ", "title: [unclosed ")
    elif change == "unknown reference":
        edit(explainer, "\n## ", "\nSee [[nobody-at-all]].\n\n## ")
    elif change == "unknown actor":  # a rule across files, which the build checks once all are read
        edit(explainer, "actors:\n", "actors:\n  - nobody-at-all\n")
        edit(explainer, "\n## ", "\nA paragraph the page would show.\n\n## ")
    elif change == "alias taken":  # North Korea's: mentions of it could not tell the two apart
        saved = site / "content/actors/russia.md"
        edit(saved, "aliases:\n", "aliases:\n  - Pyongyang\n")
        edit(saved, "\n---\n", "\n---\nA sentence the page would show.\n\n")
    elif change == "layout":
        saved = site / "layouts/explainer.html"
        edit(saved, "<article", "<!-- a layout change -->\n<article")
    elif change == "draft":
        edit(explainer, "title: ", "draft: true\ntitle: ")
    else:
        explainer.unlink()
    assert first_look(options(site), {str(saved)}) == {}


def test_a_first_look_names_the_assets_as_the_site_serves_them(site):
    """A stylesheet saved after the last build and not yet built (a build of every page, 12-17 s
    at 5,000 explainers; serve may not even have heard of the save when it looks): a page
    naming its new name would send browsers to a missing file. The look's pages name the
    stylesheet the site serves, and a look at both saves serves the saved bytes under that name."""
    explainer = site / "content/explainers/putin-visits-pyongyang.md"
    edit(explainer, "\n## ", "\nA paragraph the page would show.\n\n## ")
    style = site / "assets/style.css"
    style.write_text(style.read_text(encoding="utf-8") + "\n/* saved a moment ago */\n", encoding="utf-8")
    served = {path.name for path in (site / "site/assets").iterdir()}
    for saved in ({explainer}, {explainer, style}):
        found = first_look(options(site), {str(path) for path in saved})
        page = found.pop("explainers/putin-visits-pyongyang/index.html")
        assert b"A paragraph the page would show." in page
        named = {name.decode() for name in re.findall(rb"/assets/([\w.-]+)", page)}
        assert named and named <= served, f"named but not served: {sorted(named - served)}"
        stylesheet = [name for name in named if name.startswith("style.")]
        assert found == ({f"assets/{stylesheet[0]}": style.read_bytes()} if style in saved else {})
    pipeline.build(options(site))  # once the stylesheet is built, the look names its new name
    edit(explainer, "\n## ", "\nAnother paragraph.\n\n## ")
    page = first_look(options(site), {str(explainer)})["explainers/putin-visits-pyongyang/index.html"]
    assert b"Another paragraph." in page and stylesheet[0].encode() not in page


def test_no_first_look_without_a_build_in_this_process(themed_example_site):
    explainer = themed_example_site / "content/explainers/putin-visits-pyongyang.md"
    edit(explainer, "\n## ", "\nA paragraph.\n\n## ")
    assert first_look(options(themed_example_site), {str(explainer)}) == {}
