"""What Pagefind reads of a page (search_readable.readable), held against the real Pagefind.

An edit makes a search shard again only where what Pagefind reads of one of its pages
changed. That is safe only if readable() keeps everything the index is made from. So here
every element it cuts out of the example site's pages is rewritten (other words, one more
element, with an id), and the real Pagefind must make the very same bundle of both sites;
a change where readable() does look must change both.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest

from dossier import output, search, search_readable

from .conftest import EXAMPLE, run, tree_digest

TEXT = re.compile(rb"(?<=>)([^<]*[^<\s][^<]*)(?=<)")  # a run of text between two tags


def rewritten(page: bytes) -> bytes:
    """The page with the text of every element readable() cuts out replaced, and an element added to each."""
    parts, done = [], 0
    for start, end in search_readable.unread(page):
        element = TEXT.sub(lambda m: b"zebra quokka " + m.group(1)[::-1], page[start:end])
        close = element.rindex(b"</")
        parts += [page[done:start], element[:close], b'<b id="tapir">tapir words</b>', element[close:]]
        done = end
    return b"".join(parts + [page[done:]])


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    """The example site's pages, built once."""
    root = tmp_path_factory.mktemp("readable")
    shutil.copytree(EXAMPLE, root / "content")
    done = run("build", "--root", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "site"


def bundle(site: Path, where: Path) -> dict[str, str]:
    search.run_pagefind(site, where)
    return tree_digest(where)


def copy_pages(site: Path, into: Path, change=lambda rel, page: page) -> None:
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if not rel.startswith(f"{search.BUNDLE}/"):
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            (into / rel).write_bytes(change(rel, path.read_bytes()))


def test_what_readable_cuts_out_never_reaches_the_index(pages, tmp_path):
    copy_pages(pages, tmp_path / "a")
    copy_pages(pages, tmp_path / "b", lambda rel, page: rewritten(page))
    cut = {rel: len(list(search_readable.unread(page.read_bytes())))
           for rel, page in ((p.relative_to(tmp_path / "a").as_posix(), p) for p in (tmp_path / "a").rglob("*.html"))}
    # the theme's actor, card and explainer pages all have parts Pagefind does not read
    assert all(cut[rel] for rel in cut if rel.startswith(("actors/", "cards/", "explainers/")) and rel.count("/") == 2)
    differ = [rel for rel in cut if (tmp_path / "a" / rel).read_bytes() != (tmp_path / "b" / rel).read_bytes()]
    assert len(differ) >= 30
    assert all(search_readable.readable((tmp_path / "a" / rel).read_bytes()) == search_readable.readable((tmp_path / "b" / rel).read_bytes())
               for rel in differ)
    assert bundle(tmp_path / "a", tmp_path / "bundle-a") == bundle(tmp_path / "b", tmp_path / "bundle-b")


def text_added_to_a_profile(data: bytes) -> bytes:
    end = data.index(b"</p>", data.index(b'id="profile-title"'))
    return data[:end] + b" zebra quokka" + data[end:]


def an_image_added_where_readable_would_cut(data: bytes) -> bytes:
    """An image after the title, in an element Pagefind does not index: its first image, all the same."""
    start, end = list(search_readable.unread(data))[-1]
    close = data.rindex(b"</", start, end)
    return data[:close] + b'<img src="/media/added.png" alt="added">' + data[close:]


@pytest.mark.parametrize("page, change", [
    ("actors/vladimir-putin/index.html", text_added_to_a_profile),
    ("explainers/putin-visits-pyongyang/index.html", an_image_added_where_readable_would_cut),
])
def test_a_change_pagefind_reads_changes_readable_and_the_index(pages, tmp_path, page, change):
    """The check above can fail: these changes reach the index, and readable() shows them."""
    copy_pages(pages, tmp_path / "a")
    copy_pages(pages, tmp_path / "b", lambda rel, data: change(data) if rel == page else data)
    before, after = ((tmp_path / side / page).read_bytes() for side in "ab")
    assert search_readable.readable(before) != search_readable.readable(after)
    assert bundle(tmp_path / "a", tmp_path / "bundle-a") != bundle(tmp_path / "b", tmp_path / "bundle-b")


@pytest.mark.parametrize("html, cut", [
    # a section of links and a heading with an id: cut out
    (b'<main><p>Kept</p><section data-pagefind-ignore><h2 id="t">Mentions</h2><ul><li>a</li></ul></section></main>',
     b'<main><p>Kept</p><!--ignored--></main>'),
    (b'<p class="kicker" data-pagefind-ignore><span>Card</span> <time>2024</time></p>after', b'<!--ignored-->after'),
    (b'<title>T</title><div data-pagefind-ignore><svg><title>drawn</title><circle r="1"/></svg></div>',
     b'<title>T</title><!--ignored-->'),
    (b'<div data-pagefind-ignore><div data-pagefind-ignore>in</div>out</div>after', b'<!--ignored-->after'),
    (b'<div data-pagefind-ignore="all"><b id="x">in</b><i id="y" data-pagefind-ignore>no</i></div>',
     b'<!--ignored-->'),
    (b'<div data-x="a>b" data-pagefind-ignore>in</div>', b'<!--ignored-->'),
    # what Pagefind takes from an ignored element, or an end that cannot be told for sure: kept
    (b'<div data-pagefind-ignore><img src="a.png"></div>', None),
    (b'<div data-pagefind-ignore><h1>Title</h1></div>', None),
    (b'<div data-pagefind-ignore><span data-pagefind-meta="date">2024</span></div>', None),
    (b'<div data-pagefind-ignore data-pagefind-filter="kind:actor">x</div>', None),
    (b'<div data-pagefind-ignore><svg><title>first title</title></svg></div><title>T</title>', None),
    (b'<div data-pagefind-ignore><div data-pagefind-ignore="all">x</div></div>', b'<!--ignored-->'),
    (b'<div data-pagefind-ignore><h1>Title</h1><div data-pagefind-ignore>in</div></div>',  # the inner one only
     b'<div data-pagefind-ignore><h1>Title</h1><!--ignored--></div>'),
    (b'<div data-pagefind-ignore><!-- </div> --></div>', None),
    (b'<div data-pagefind-ignore><p>left open</div>', None),
    (b'<div data-pagefind-ignore><div/>x</div>', None),
    (b'<p data-pagefind-ignore><div>a block ends the p</div></p>', None),
    (b'<li data-pagefind-ignore>its end may be implied</li>', None),
    (b'<h2 data-pagefind-ignore>a <h3>heading</h3> closes it</h2>', None),
    (b'<ul><li>a<div data-pagefind-ignore><li>closes the outer item</li></div></ul>', None),
    (b'<p>x<span data-pagefind-ignore><div>closes the outer paragraph</div></span></p>', None),
    (b'<a href="/">x<span data-pagefind-ignore><a href="/b">closes the outer link</a></span></a>', None),
    (b'<p>x</p><div data-pagefind-ignore><ul><li><a href="/">a</a></li></ul></div>', b'<p>x</p><!--ignored-->'),
    (b'<div data-pagefind-ignore>never closed', None),
    (b'<div title="data-pagefind-ignore">only a value</div>', None),
    # tags in upper case are the same tags; a tag that begins like <p or <a is another
    (b'<DIV data-pagefind-ignore><IMG src="a.png"></DIV>', None),
    (b'<div data-pagefind-ignore><span DATA-PAGEFIND-META="date">2024</span></div>', None),
    (b'<div data-pagefind-ignore><span data-pagefind-ignorex="y">x</span></div>', None),
    (b'<div data-pagefind-ignore><!DOCTYPE x></div>', None),
    (b'<P>x<SPAN data-pagefind-ignore><DIV>closes the outer paragraph</DIV></SPAN></P>', None),
    (b'<A href="/">x<span data-pagefind-ignore><a href="/b">closes the outer link</a></span></A>', None),
    (b'<p>x</P><div data-pagefind-ignore>in</div>', b'<p>x</P><!--ignored-->'),
    (b'<pre>x<span data-pagefind-ignore><div>in</div></span></pre>', b'<pre>x<!--ignored--></pre>'),
    (b'<abbr>x</abbr><span data-pagefind-ignore><a href="/">in</a></span>', b'<abbr>x</abbr><!--ignored-->'),
])
def test_readable_cuts_out_only_what_it_can_tell(html, cut):
    assert search_readable.readable(html) == (html if cut is None else cut)


LINK = re.compile(rb'<a href="[^"]*"( class="[^"]*")?>([^<]*)</a>')


def links_undone(data: bytes) -> bytes:
    """The page with every plain link's text left in place of the link: the same words."""
    return LINK.sub(rb"\2", data)


def a_paragraph_made_a_heading(data: bytes) -> bytes:
    """The same words, but Pagefind weighs a heading's more."""
    start = data.index(b"<p>", data.index(b"data-pagefind-body"))
    end = data.index(b"</p>", start)
    return data[:start] + b"<h3>" + data[start + 3:end] + b"</h3>" + data[end + 4:]


@pytest.mark.parametrize("changed, change, same", [
    (["explainers/putin-visits-pyongyang/index.html", "actors/vladimir-putin/index.html"], links_undone, True),
    (["explainers/putin-visits-pyongyang/index.html"], a_paragraph_made_a_heading, False),
    (["actors/vladimir-putin/index.html"], text_added_to_a_profile, False),
])
def test_pagefind_tells_whether_pages_whose_words_stayed_index_alike(pages, tmp_path, changed, change, same):
    """words() only picks the pages worth asking about; same_index asks Pagefind itself."""
    rels = ["explainers/putin-visits-pyongyang/index.html", "actors/vladimir-putin/index.html"]
    before = {rel: (pages / rel).read_bytes() for rel in rels}
    after = {rel: change(data) if rel in changed else data for rel, data in before.items()}
    assert all(before[rel] != after[rel] for rel in changed)
    words_stayed = all(search_readable.words(before[rel]) == search_readable.words(after[rel]) for rel in rels)
    assert words_stayed is (change is not text_added_to_a_profile)
    assert search.same_index(tmp_path / "site", before, after) is same
    output.removed()  # as a build does before it returns
    assert not list(tmp_path.iterdir())  # the scratch folder is gone


class Edited:
    """The example site (its 32 marked pages in 4 search shards), built, then edited and built
    again with every Pagefind run of the second build noted: the pages it was given."""

    def __init__(self, tmp_path: Path, monkeypatch, change, setup=lambda root: None) -> None:
        from dossier import pipeline

        monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "8")
        self.root = root = tmp_path / "root"
        for folder in ("content", "layouts", "assets"):
            shutil.copytree(EXAMPLE.parent / folder, root / folder)
        setup(root)
        options = pipeline.Options(root=root, out=root / "site")
        self.runs: list[set[str]] = []
        real_run = search.run_pagefind
        monkeypatch.setattr(search, "run_pagefind", lambda site, *a, **k: (
            self.runs.append({p.relative_to(site).as_posix() for p in site.rglob("*.html")}), real_run(site, *a, **k))[1])
        pipeline.build(options)
        self.shards, self.runs = self.runs, []  # a clean build makes every shard
        before = {p.relative_to(root / "site").as_posix(): p.read_bytes() for p in (root / "site").rglob("*.html")}
        assert len(self.shards) == 4 and sum(map(len, self.shards)) == sum(map(search_readable.marked, before.values()))
        change(root)
        pipeline.build(options)
        after = {rel: (root / "site" / rel).read_bytes() if (root / "site" / rel).exists() else b"" for rel in before}
        # the indexed pages that changed where Pagefind reads them, and those of them whose words changed
        self.changed = {rel for pages in self.shards for rel in pages
                        if search_readable.readable(before[rel]) != search_readable.readable(after[rel])}
        self.reworded = {rel for rel in self.changed
                         if search_readable.words(search_readable.readable(before[rel])) != search_readable.words(search_readable.readable(after[rel]))}

    def shards_of(self, pages: set[str]) -> list[list[str]]:
        return sorted(sorted(shard) for shard in self.shards if shard & pages)

    def shards_made(self, asked: int) -> list[list[str]]:
        return sorted(map(sorted, self.runs[asked:]))


@pytest.mark.parametrize("ask_most", [search.ASK_MOST, 0])
def test_an_alias_edit_indexes_again_only_the_shards_whose_words_changed(tmp_path, monkeypatch, ask_most):
    """An actor's alias gone: the explainers that named it by that alias lose their links to
    its page, not a word. Pagefind, asked about them as they were and are, indexes them alike,
    so only the shards of the pages whose words changed (the actor's own) are made again.
    Past ASK_MOST such pages a build asks no more, and makes their shards again."""
    from .test_incremental import assert_same_as_clean, edit

    monkeypatch.setattr(search, "ASK_MOST", ask_most)
    site = Edited(tmp_path, monkeypatch, lambda root: edit(root / "content" / "actors" / "south-korea.md",
                                                           "  - Seoul", "  - Republic of Korea"))
    linked = site.changed - site.reworded
    assert "actors/south-korea/index.html" in site.reworded  # its aliases
    assert "explainers/putin-visits-pyongyang/index.html" in linked  # "officials in Seoul", no longer a link
    if ask_most:
        assert site.runs[:2] == [linked, linked]  # Pagefind asked about the pages whose links changed
        assert site.shards_made(2) == site.shards_of(site.reworded)
        assert len(site.shards_of(linked | site.reworded)) > len(site.shards_of(site.reworded))  # a shard kept
    else:
        assert site.shards_made(0) == site.shards_of(linked | site.reworded)  # none asked
    assert_same_as_clean(site.root, tmp_path)


def fragments(site: Path) -> dict[str, str]:
    """The text the site's search index holds of each page, by its URL (every shard's fragments)."""
    found = {}
    for path in (site / search.BUNDLE).rglob("fragment/*.pf_fragment"):
        fragment = json.loads(gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd"))
        found[fragment["url"]] = fragment["content"]
    return found


def test_a_card_is_found_on_its_own_page_not_in_what_embeds_it(pages):
    """Search reads a card where it is written: its page is found by its claim; the explainer
    and the actor's profile that embed it (and link to it) are not, so no search lists the claim
    three times. Their own words are found."""
    text, claim = fragments(pages), "another heavily sanctioned country"
    assert [url for url, content in text.items() if claim in content] == ["/cards/iran-drones/"]
    assert "Buyers for its military hardware" in text["/explainers/russia-courts-sanctioned-partners/"]
    assert "keen to sell military hardware" in text["/actors/iran/"]


def test_a_cards_claim_edited_indexes_again_the_shard_of_its_page_alone(tmp_path, monkeypatch):
    """An edit of a card's claim changes the explainer and the actor's profile that embed it,
    but not where Pagefind reads them: only the card's shard is made again, though theirs are
    others, and the index is a clean build's."""
    from .test_incremental import assert_same_as_clean, edit

    site = Edited(tmp_path, monkeypatch, lambda root: edit(root / "content" / "cards" / "iran-drones.yml",
                                                           "above all drones.", "above all attack drones."))
    card = "cards/iran-drones/index.html"
    assert site.changed == {card}
    embedders = {"explainers/russia-courts-sanctioned-partners/index.html", "actors/iran/index.html"}
    assert not any(shard in site.shards_of({card}) for shard in site.shards_of(embedders))  # apart: the test can fail
    assert site.shards_made(0) == site.shards_of({card})
    assert_same_as_clean(site.root, tmp_path)


def test_a_position_edited_changes_the_words_of_its_explainer_not_of_its_actors_page(tmp_path, monkeypatch):
    """An actor's page quotes its positions, and leaves them out of the index as it does its
    mentions: search finds each where it was written. So a position's edit makes again the
    shard of its explainer only, though the actor's page changed."""
    from .test_incremental import assert_same_as_clean, edit

    site = Edited(tmp_path, monkeypatch, lambda root: edit(
        root / "content" / "explainers" / "putin-visits-pyongyang.md",
        "- Russian goods in return for what it sends", "- Russian grain in return for what it sends"))
    explainer, actor = "explainers/putin-visits-pyongyang/index.html", "actors/north-korea/index.html"
    assert b"Russian grain" in (site.root / "site" / actor).read_bytes()  # quoted there, and changed
    assert site.reworded == {explainer} and actor not in site.changed
    assert site.shards_made(0) == site.shards_of({explainer})
    assert_same_as_clean(site.root, tmp_path)


@pytest.mark.parametrize("ask_most", [search.ASK_MOST, 1])
def test_a_new_stylesheet_indexes_nothing_again(tmp_path, monkeypatch, ask_most):
    """A stylesheet edit gives it a new name, in a <link> in the head of every page, which
    Pagefind does not read (search_readable.only_a_link_changed): no Pagefind runs, however many pages."""
    from .test_incremental import assert_same_as_clean

    monkeypatch.setattr(search, "ASK_MOST", ask_most)
    site = Edited(tmp_path, monkeypatch, lambda root: (root / "assets" / "style.css").write_text(
        (root / "assets" / "style.css").read_text() + "\n.new-rule { color: inherit; }\n"))
    assert len(site.changed) == 32 and not site.reworded
    assert site.runs == []
    assert_same_as_clean(site.root, tmp_path)


@pytest.mark.parametrize("after, same", [
    (b'<html><head><title>T</title><link rel="stylesheet" href="/s.2.css"></head><body><p>A</p></body></html>', True),
    (b'<html><head><title>T</title><link rel="stylesheet" href="/s.1.css"></head><body><p>B</p></body></html>', False),
    (b'<html><head><title>T</title><link rel="stylesheet" href="/s.2.css"></head><body><p>B</p></body></html>', False),
    (b'<html><head><title>T</title><link rel="stylesheet" href="/s.1.css" data-pagefind-meta="x"></head>'
     b'<body><p>A</p></body></html>', False),
    (b'<html><head><title>T</title><meta name="x"><link rel="stylesheet" href="/s.1.css"></head>'
     b'<body><p>A</p></body></html>', False),
    (b'<html><head><title>T</title><link id="s" rel="stylesheet" href="/s.1.css"></head><body><p>A</p></body></html>',
     False),
])
def test_only_a_link_changed(after, same):
    before = b'<html><head><title>T</title><link rel="stylesheet" href="/s.1.css"></head><body><p>A</p></body></html>'
    assert search_readable.only_a_link_changed(before, before)
    assert search_readable.only_a_link_changed(before, after) is same
    assert search_readable.only_a_link_changed(after, before) is same


def test_a_link_that_is_text_is_not_a_link():
    """In a <title> (or a script, a comment...), '<link ...>' is text, and Pagefind reads a title."""
    before = b'<html><head><title>A <link href="/a"> B</title></head><body><p>A</p></body></html>'
    assert not search_readable.only_a_link_changed(before, before.replace(b"/a", b"/b"))
    assert search_readable.only_a_link_changed(before + b"<link href='/a'>", before + b"<link href='/b'>") is False  # in the body


def test_an_edit_gives_pagefind_the_fragments_of_the_pages_that_stayed(tmp_path, monkeypatch):
    """Pagefind names a fragment by its checksum and does not write one that is there already.
    So the shard an edit makes again is given the previous bundle's fragments of its pages that
    stayed (search._seed): Pagefind compresses and writes the edited page's only."""
    from .test_incremental import assert_same_as_clean, edit

    seeded: list[list[str]] = []
    rewritten: list[list[str]] = []
    real_seed, real_run = search._seed, search.run_pagefind

    def seed(previous: Path, bundle: Path, kept: set[str]) -> bool:
        done = real_seed(previous, bundle, kept)
        seeded.append(sorted(p.name for p in (bundle / "fragment").iterdir()) if done else [])
        return done

    def run(site: Path, bundle: Path, *args, **kwargs) -> None:
        made = {path: path.stat().st_mtime_ns for path in bundle.glob("fragment/*")}
        real_run(site, bundle, *args, **kwargs)
        rewritten.append([path.name for path, when in made.items() if path.stat().st_mtime_ns != when])

    monkeypatch.setattr(search, "_seed", seed)
    monkeypatch.setattr(search, "run_pagefind", run)
    site = Edited(tmp_path, monkeypatch, lambda root: edit(
        root / "content" / "explainers" / "russia-courts-sanctioned-partners.md",
        "they, too, live under sanctions.", "they, too, live under Western sanctions."))
    explainer = "explainers/russia-courts-sanctioned-partners/index.html"
    assert site.reworded == {explainer}
    [shard] = site.shards_of({explainer})
    assert seeded[:4] == [[]] * 4 and rewritten[:4] == [[]] * 4  # the clean build had nothing to give
    assert len(seeded) == 5 and len(seeded[4]) == len(shard) - 1  # every fragment but the explainer's
    assert rewritten[4] == []  # and Pagefind left them as they were
    bundles = [folder for folder in (site.root / "site" / search.BUNDLE).glob("**/fragment")]
    [fragments] = [{p.name for p in folder.iterdir()} for folder in bundles if set(seeded[4]) <= {p.name for p in folder.iterdir()}]
    assert len(fragments) == len(shard)
    assert_same_as_clean(site.root, tmp_path)


WITHDRAWN = """---
title: "A note on Pyongyang's airport"
dek: "Published for a day, then withdrawn."
published: 2024-06-20
authors:
  - Explainers desk
actors:
  - north-korea
---

## Why it matters now

The airport saw more foreign aircraft in one week than in the month before.
"""


def test_a_withdrawn_page_leaves_pagefind_the_fragments_of_its_shards_other_pages(tmp_path, monkeypatch):
    """An explainer withdrawn: its shard is made again without it, and given the fragments of
    the shard's pages that stayed, as an edit's shard is."""
    from .test_incremental import assert_same_as_clean

    seeded: list[int] = []
    real_seed = search._seed

    def seed(previous: Path, bundle: Path, kept: set[str]) -> bool:
        done = real_seed(previous, bundle, kept)
        seeded.append(len(list((bundle / "fragment").iterdir())) if done else 0)
        return done

    monkeypatch.setattr(search, "_seed", seed)
    withdrawn = "explainers/a-note-on-pyongyang/index.html"
    pages: dict[str, bytes] = {}

    def publish(root: Path) -> None:
        monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "9")  # 4 shards with it (33 pages) and without (32)
        (root / "content" / "explainers" / "a-note-on-pyongyang.md").write_text(WITHDRAWN, encoding="utf-8")

    def withdraw(root: Path) -> None:
        pages.update({p.relative_to(root / "site").as_posix(): p.read_bytes() for p in (root / "site").rglob("*.html")})
        (root / "content" / "explainers" / "a-note-on-pyongyang.md").unlink()

    site = Edited(tmp_path, monkeypatch, withdraw, setup=publish)
    [shard] = [shard for shard in site.shards if withdrawn in shard]
    stayed = {rel for rel in shard - {withdrawn} if (site.root / "site" / rel).read_bytes() == pages[rel]}
    assert [sorted(run) for run in site.runs if shard - {withdrawn} <= run] == [sorted(shard - {withdrawn})]
    assert stayed and len(seeded) == len(site.shards) + len(site.runs) and seeded[-len(site.runs):].count(len(stayed)) == 1
    assert_same_as_clean(site.root, tmp_path)


def test_a_fragment_pagefind_would_not_make_is_not_kept(tmp_path, monkeypatch):
    """A fragment given to Pagefind that its bundle does not count (here a copy of one under
    another name) gets the shard made again without any: the index is a clean build's."""
    from .test_incremental import assert_same_as_clean, edit

    real_seed = search._seed

    def seed(previous: Path, bundle: Path, kept: set[str]) -> bool:
        done = real_seed(previous, bundle, kept)
        if done:
            first = sorted((bundle / "fragment").iterdir())[0]
            shutil.copy(first, bundle / "fragment" / "en_0000000.pf_fragment")
        return done

    monkeypatch.setattr(search, "_seed", seed)
    site = Edited(tmp_path, monkeypatch, lambda root: edit(
        root / "content" / "explainers" / "russia-courts-sanctioned-partners.md",
        "they, too, live under sanctions.", "they, too, live under Western sanctions."))
    [shard] = site.shards_of({"explainers/russia-courts-sanctioned-partners/index.html"})
    assert site.shards_made(0) == [shard, shard]  # with the stray fragment, then without
    assert not list((site.root / "site").rglob("en_0000000.pf_fragment"))
    assert_same_as_clean(site.root, tmp_path)


def fragment(url: str) -> bytes:
    """A fragment as Pagefind writes it."""
    return gzip.compress(b'pagefind_dcd{"url":' + json.dumps(url).encode() + b',"content":"words"}')


def test_seed_links_the_fragments_of_the_kept_pages_only(tmp_path):
    previous = tmp_path / "previous"
    (previous / "fragment").mkdir(parents=True)
    for name, data in [("en_1111111", fragment("/a/")), ("en_2222222", fragment("/b/")),
                       ("en_3333333", fragment("/c.html")), ("en_4444444", b"not gzip"),
                       ("en_5555555", fragment("/f/findex.html")), ("en_6666666", fragment("/"))]:
        (previous / "fragment" / f"{name}.pf_fragment").write_bytes(data)
    kept = {"a/index.html", "c.html", "d/index.html", "f/findex.html", "index.html"}  # Pagefind's URLs, as tried
    assert search._seed(previous, tmp_path / "bundle", kept)
    linked = sorted((tmp_path / "bundle" / "fragment").iterdir())
    assert [p.name for p in linked] == ["en_1111111.pf_fragment", "en_3333333.pf_fragment", "en_5555555.pf_fragment",
                                        "en_6666666.pf_fragment"]
    assert linked[0].samefile(previous / "fragment" / "en_1111111.pf_fragment")
    assert not search._seed(previous, tmp_path / "none", set())
    assert not search._seed(tmp_path / "missing", tmp_path / "none", {"a/index.html"})
    # two pages whose checksums began alike: Pagefind named them by the order it read them in
    (previous / "fragment" / "en_11111112.pf_fragment").write_bytes(fragment("/e/"))
    assert not search._seed(previous, tmp_path / "none", {"a/index.html"})
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("names, pages, whole", [
    (["en_1234567", "en_89abcde"], 2, True),
    (["en_1234567", "en_89abcde"], 3, False),  # a page without its fragment
    (["en_1234567", "en_89abcde", "en_0000000"], 2, False),  # a fragment of no page
    (["en_1234567", "en_12345678"], 2, False),  # two pages' checksums began alike
])
def test_one_fragment_a_page(names, pages, whole):
    files = {f"fragment/{name}.pf_fragment": b"" for name in names}
    files["pagefind-entry.json"] = json.dumps({"version": "1", "languages": {"en": {"page_count": pages}}}).encode()
    assert search._one_fragment_a_page(files) is whole
    del files["pagefind-entry.json"]
    assert not search._one_fragment_a_page(files)
