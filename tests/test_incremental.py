"""Incremental builds through the real command: what is rendered again, and that it equals a clean build.

Every incremental build here is compared, file by file, with a clean build of the same
sources into another folder. These tests give the build a stand-in Pagefind (PAGEFIND_BINARY_PATH), much faster than
the real one, whose bundle is a pure function of what Pagefind reads of the pages it indexes
(search_readable.readable): the search step is checked like every other.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import shutil
import subprocess
import threading
import sys
from pathlib import Path

import pytest

from .conftest import REPO, run, tree_digest

SUMMARY = re.compile(r"built (\d+) pages \((\d+) rendered, (\d+) unchanged\)")
PAGES = (".html", ".xml", ".txt")

STUB_PAGEFIND = f"""#!{sys.executable}
import hashlib, json, os, pathlib, re, sys
sys.path.insert(0, {str(REPO)!r})
# Pagefind reads no more than readable(), nor a <link> (test_search_readable.py, with the real one),
# and only the pages that mark their readable part, if any page does
from dossier.search_readable import marked, readable
def read(page):
    return re.sub(rb"<link (?![^>]*pagefind)[^>]*>", b"", readable(page))
args = sys.argv[1:]
site = pathlib.Path(args[args.index("--site") + 1])
out = pathlib.Path(args[args.index("--output-path") + 1])
given = {{p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*.html"))}}
indexed = {{rel: page for rel, page in given.items() if marked(page)}} or given
pages = {{rel: hashlib.sha256(read(page)).hexdigest() for rel, page in indexed.items()}}
out.mkdir(parents=True, exist_ok=True)
(out / "pagefind-entry.json").write_text(json.dumps(pages, sort_keys=True))
if os.environ.get("DOSSIER_TEST_PAGEFIND_LOG"):  # one line a run: the pages it was given
    with open(os.environ["DOSSIER_TEST_PAGEFIND_LOG"], "a") as log:
        log.write(json.dumps(sorted(given)) + "\\n")
if os.environ.get("DOSSIER_TEST_PAGEFIND_INODES"):  # one line a run: the inode of the entry it wrote
    with open(os.environ["DOSSIER_TEST_PAGEFIND_INODES"], "a") as log:
        log.write(str((out / "pagefind-entry.json").stat().st_ino) + "\\n")
"""


@pytest.fixture(autouse=True)
def stub_pagefind(tmp_path_factory, monkeypatch):
    stub = tmp_path_factory.getbasetemp() / "pagefind-stub"
    if not stub.exists():
        stub.write_text(STUB_PAGEFIND)
        stub.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(stub))


@pytest.fixture
def site(themed_example_site: Path) -> Path:
    return themed_example_site


def build(root: Path, *args: str) -> tuple[int, int]:
    """Build through the real command; (pages rendered, pages unchanged)."""
    done = run("--root", root, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    found = SUMMARY.search(done.stdout)
    assert found, done.stdout
    assert int(found[2]) + int(found[3]) == int(found[1])
    return int(found[2]), int(found[3])


def clean_build(root: Path, where: Path) -> dict[str, str]:
    """A build of the same sources with no cache and no previous site."""
    shutil.rmtree(where, ignore_errors=True)
    for folder in ("content", "layouts", "assets"):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, where / folder)
    build(where)
    return tree_digest(where / "site")


def assert_same_as_clean(root: Path, tmp_path: Path) -> dict[str, str]:
    built = tree_digest(root / "site")
    clean = clean_build(root, tmp_path / "clean")
    differ = sorted(rel for rel in built.keys() | clean.keys() if built.get(rel) != clean.get(rel))
    assert not differ, f"incremental build differs from a clean one in {differ[:10]}"
    return built


def changed_pages(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {rel for rel in before.keys() | after.keys()
            if rel.endswith(PAGES) and before.get(rel) != after.get(rel)}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_second_build_renders_nothing(site, tmp_path):
    rendered, unchanged = build(site)
    assert rendered > 30 and unchanged == 0
    before = tree_digest(site / "site")
    assert build(site) == (0, rendered)
    assert tree_digest(site / "site") == before
    os.utime(site / "content" / "cards" / "iran-drones.yml")  # a new mtime alone changes nothing
    assert build(site) == (0, rendered)
    assert_same_as_clean(site, tmp_path)


def test_card_claim_edit_renders_only_the_pages_that_show_it(site, tmp_path):
    build(site)
    before = tree_digest(site / "site")
    edit(site / "content" / "cards" / "putin-xi-beijing-meeting.yml", "heavy with symbols", "full of symbols")
    rendered, _ = build(site)
    after = assert_same_as_clean(site, tmp_path)
    changed = changed_pages(before, after)
    # its own page, the explainers that embed it, the timeline (it is dated), the actors it mentions
    assert "cards/putin-xi-beijing-meeting/index.html" in changed
    assert "explainers/putin-visits-pyongyang/index.html" in changed
    assert "explainers/russia-courts-sanctioned-partners/index.html" in changed
    assert "timeline/index.html" in changed
    assert "actors/xi-jinping/index.html" in changed
    assert "index.html" not in changed
    assert rendered == len(changed)


def test_a_card_source_edit_renders_every_explainer_that_embeds_the_card(site, tmp_path):
    """The card partial is made once a build for all the bodies that embed the card: each of
    them must still note what it read, or the second would keep the old source."""
    build(site)
    before = tree_digest(site / "site")
    edit(site / "content" / "cards" / "putin-xi-beijing-meeting.yml", "name: Explainers desk reporting",
         "name: Explainers desk reporting, Moscow")
    build(site)
    after = assert_same_as_clean(site, tmp_path)
    changed = changed_pages(before, after)
    for explainer in ("putin-visits-pyongyang", "russia-courts-sanctioned-partners"):
        page = (site / "site" / "explainers" / explainer / "index.html").read_text()
        assert f"explainers/{explainer}/index.html" in changed and "Explainers desk reporting, Moscow" in page


def test_explainer_paragraph_edit(site, tmp_path):
    build(site)
    before = tree_digest(site / "site")
    edit(site / "content" / "explainers" / "russia-courts-sanctioned-partners.md",
         "His presence there was no accident.", "His presence there was no accident at all.")
    rendered, _ = build(site)
    after = assert_same_as_clean(site, tmp_path)
    changed = changed_pages(before, after)
    assert "explainers/russia-courts-sanctioned-partners/index.html" in changed
    assert rendered == len(changed)


def test_alias_edit_renders_exactly_the_pages_whose_links_change(site, tmp_path):
    build(site)
    us = site / "content" / "actors" / "united-states.md"
    original = us.read_text(encoding="utf-8")
    before = tree_digest(site / "site")
    # "the West" becomes an alias of the United States: an explainer that says it now links it
    edit(us, "  - Washington\n", "  - Washington\n  - the West\n")
    rendered, _ = build(site)
    after = assert_same_as_clean(site, tmp_path)
    changed = changed_pages(before, after)
    assert {"explainers/russia-courts-sanctioned-partners/index.html", "actors/united-states/index.html"} <= changed
    assert rendered == len(changed)
    us.write_text(original, encoding="utf-8")
    rendered, _ = build(site)
    assert tree_digest(site / "site") == before
    assert rendered == len(changed)
    # an alias that occurs nowhere changes the actor's own page only
    edit(us, "  - Washington\n", "  - Washington\n  - Uncle Sam\n")
    rendered, _ = build(site)
    assert changed_pages(before, assert_same_as_clean(site, tmp_path)) == {"actors/united-states/index.html"}
    assert rendered == 1


def test_deleting_the_cache_only_costs_time(site, tmp_path):
    total, _ = build(site)
    before = tree_digest(site / "site")
    shutil.rmtree(site / ".cache")
    assert build(site) == (total, 0)
    assert tree_digest(site / "site") == before
    assert build(site) == (0, total)


def test_a_layout_change_renders_everything_again(site, tmp_path):
    total, _ = build(site)
    edit(site / "layouts" / "base.html", "</footer>", "<p>Edited layout</p></footer>")
    assert build(site) == (total, 0)
    assert "Edited layout" in (site / "site" / "index.html").read_text(encoding="utf-8")
    assert_same_as_clean(site, tmp_path)
    assert build(site) == (0, total)


def test_a_layout_edit_writes_only_the_files_that_came_out_different(site, tmp_path):
    """Every page is rendered again, but a file whose bytes stayed is still the very file it was
    (its inode): the build writes the files that changed, not a whole new site."""
    def files() -> dict[str, int]:
        return {p.relative_to(site / "site").as_posix(): p.stat().st_ino for p in (site / "site").rglob("*") if p.is_file()}

    total, _ = build(site)
    before, inodes = tree_digest(site / "site"), files()
    edit(site / "layouts" / "actor.html", '<header class="actor-header">', '<header class="actor-header edited">')
    assert build(site) == (total, 0)
    after, now = assert_same_as_clean(site, tmp_path), files()
    different = {rel for rel in before.keys() & after.keys() if before[rel] != after[rel]}
    rewritten = {rel for rel in inodes.keys() & now.keys() if inodes[rel] != now[rel]}
    assert "actors/kim-jong-un/index.html" in different and "explainers/putin-visits-pyongyang/index.html" not in different
    assert rewritten == different


def test_an_asset_edit_renders_only_the_pages_that_name_it(site, tmp_path):
    total, _ = build(site)
    style = site / "assets" / "style.css"
    style.write_text(style.read_text(encoding="utf-8") + "/* edited */\n", encoding="utf-8")
    assert build(site) == (total, 0)  # every page links the stylesheet, by its fingerprinted name
    assert_same_as_clean(site, tmp_path)
    (site / "assets" / "extra.png").write_bytes(b"\x89PNG not really")
    assert build(site) == (0, total)  # no page names it
    assert (site / "site" / "assets" / "extra.png").read_bytes() == b"\x89PNG not really"
    assert_same_as_clean(site, tmp_path)
    (site / "assets" / "extra.png").unlink()
    assert build(site) == (0, total)
    assert not (site / "site" / "assets" / "extra.png").exists()


def test_a_damaged_or_deleted_site_is_repaired(site, tmp_path):
    total, _ = build(site)
    page = site / "site" / "actors" / "iran" / "index.html"
    page.write_text("damaged", encoding="utf-8")
    rendered, _ = build(site)
    assert rendered <= 1
    assert_same_as_clean(site, tmp_path)
    shutil.rmtree(site / "site")
    assert build(site) == (0, total)
    assert_same_as_clean(site, tmp_path)


@pytest.mark.parametrize("added", [["CNAME"], ["actors/iran/notes.txt"], ["CNAME", "actors/iran/notes.txt"]])
def test_files_added_to_the_site_by_hand_are_removed_for_good(site, tmp_path, added):
    """At the top of the site or below it (whose folders' times are looked at apart)."""
    total, _ = build(site)
    for rel in added:
        (site / "site" / rel).write_text("mine", encoding="utf-8")
    assert build(site) == (0, total)
    assert_same_as_clean(site, tmp_path)
    edit(site / "content" / "cards" / "iran-drones.yml", "drones", "drones and missiles")
    build(site)  # the folder the previous site was in is not trusted again
    assert_same_as_clean(site, tmp_path)
    edit(site / "content" / "cards" / "iran-drones.yml", "drones and missiles", "drones")
    build(site)
    assert_same_as_clean(site, tmp_path)


def test_a_failed_build_leaves_site_and_cache_usable(site, tmp_path):
    total, _ = build(site)
    before = tree_digest(site / "site")
    card = site / "content" / "cards" / "iran-drones.yml"
    good = card.read_text(encoding="utf-8")
    card.write_text(good.replace("[[iran]]", "[[no-such-actor]]"), encoding="utf-8")
    assert run("--root", site).returncode == 1
    assert tree_digest(site / "site") == before
    card.write_text(good, encoding="utf-8")
    assert build(site) == (0, total)
    edit(site / "layouts" / "card.html", "{% block main %}", "{% block main %}{{ no_such_value }}")
    edit(card, "drones", "drones and missiles")
    done = run("--root", site)
    assert done.returncode == 1 and "no_such_value" in done.stderr
    assert tree_digest(site / "site") == before
    edit(site / "layouts" / "card.html", "{{ no_such_value }}", "")  # the layouts are as they were
    rendered, _ = build(site)
    assert 0 < rendered < total  # the card edit only
    assert_same_as_clean(site, tmp_path)


# --------------------------------------------------------------------------------------
# Randomised sequences of edits, creations, renames and deletions, each checked against
# a clean build. DOSSIER_TEST_STEPS and DOSSIER_TEST_SEEDS run longer and more sequences.

WORDS = ["Velmora", "Quistan", "Oradel", "Brunmark", "Tessaly", "Corvane", "Ilmaris", "Zentho", "Palvura", "Drossen"]


class Editor:
    """Random but valid changes to a copy of the example site."""

    def __init__(self, root: Path, rng: random.Random):
        self.root, self.rng, self.n = root, rng, 0

    def files(self, kind: str) -> list[Path]:
        return sorted((self.root / "content" / kind).iterdir())

    def slugs(self, kind: str) -> list[str]:
        return [p.stem for p in self.files(kind)]

    def names(self) -> list[str]:
        found = []
        for path in self.files("actors"):
            text = path.read_text(encoding="utf-8")
            found += re.findall(r"^name: (.+)$", text, re.M)
            found += re.findall(r"^  - (?!actor:)([^\n]+)$", text.split("relations:")[0], re.M)
        return [n.strip().strip('"') for n in found]

    def sentence(self) -> str:
        self.n += 1
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0:
            return f"[[{rng.choice(self.slugs('actors'))}]] was mentioned again (step {self.n})."
        if choice == 1:
            return f"{rng.choice(self.names())} said something new (step {self.n})."
        if choice == 2:
            return f"{rng.choice(WORDS)} observers disagreed (step {self.n})."
        return f"Nothing else changed (step {self.n})."

    def step(self) -> str:
        ops = [self.edit_claim, self.edit_paragraph, self.edit_alias, self.new_card, self.new_explainer,
               self.new_actor, self.rename, self.delete, self.touch]
        weights = [4, 4, 3, 2, 1, 1, 2, 2, 1]
        return self.rng.choices(ops, weights)[0]()

    def edit_claim(self) -> str:
        path = self.rng.choice(self.files("cards"))
        text = path.read_text(encoding="utf-8")
        claim = re.search(r"^claim: (.*)$", text, re.M)
        value = claim[1]
        if value.startswith('"'):
            value = value[1:-1]
        sentence = self.sentence().replace('"', "")
        path.write_text(text.replace(claim[0], f"claim: \"{value} {sentence}\""), encoding="utf-8")
        return f"claim of {path.name}: + {sentence}"

    def edit_paragraph(self) -> str:
        path = self.rng.choice(self.files("explainers"))
        text = path.read_text(encoding="utf-8")
        head, body = text.split("\n---\n", 1)
        paragraphs = body.split("\n\n")
        plain = [i for i, p in enumerate(paragraphs) if p and (p[0].isalpha() or p.startswith("[["))]
        sentence = self.sentence()
        if plain:
            paragraphs[self.rng.choice(plain)] += " " + sentence
        else:
            paragraphs.append(sentence)
        path.write_text(head + "\n---\n" + "\n\n".join(paragraphs), encoding="utf-8")
        return f"paragraph of {path.name}: + {sentence}"

    def edit_alias(self) -> str:
        path = self.rng.choice(self.files("actors"))
        text = path.read_text(encoding="utf-8")
        taken = set(self.names())
        head, body = text[4:].split("\n---\n", 1)
        lines = head.split("\n")
        if "aliases:" in lines and self.rng.random() < 0.4:
            start = lines.index("aliases:")
            end = start + 1
            while end < len(lines) and lines[end].startswith("  - "):
                end += 1
            gone = self.rng.choice(range(start + 1, end))
            removed = lines.pop(gone)
            if end - start == 2:
                lines.pop(start)
            what = f"alias {removed.strip()} removed from {path.name}"
        else:
            candidates = [w for w in WORDS + ["Harare", "Beijing", "the West", "Tehran"] if w not in taken]
            if not candidates:
                return "no alias left to add"
            alias = self.rng.choice(candidates)
            if "aliases:" in lines:
                lines.insert(lines.index("aliases:") + 1, f"  - {alias}")
            else:
                lines.insert(1, f"aliases:\n  - {alias}")
            what = f"alias {alias} added to {path.name}"
        path.write_text("---\n" + "\n".join(lines) + "\n---\n" + body, encoding="utf-8")
        return what

    def new_card(self) -> str:
        self.n += 1
        slug = f"new-card-{self.n}"
        date = self.rng.choice(["", "date: 2024-05\n", "date: 2023-11-02\n"])
        actor = self.rng.choice(self.slugs("actors"))
        (self.root / "content" / "cards" / f"{slug}.yml").write_text(
            f"title: New card {self.n}\nclaim: \"{self.sentence()}\"\n{date}status: claimed\n"
            f"actors: [{actor}]\nsources:\n  - name: Test wire\n", encoding="utf-8")
        if self.rng.random() < 0.6:
            path = self.rng.choice(self.files("explainers"))
            path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + f"\n\n![[{slug}]]\n", encoding="utf-8")
            return f"new card {slug}, embedded in {path.name}"
        return f"new card {slug}"

    def new_explainer(self) -> str:
        self.n += 1
        slug = f"new-explainer-{self.n}"
        card = self.rng.choice(self.slugs("cards"))
        actor = self.rng.choice(self.slugs("actors"))
        (self.root / "content" / "explainers" / f"{slug}.md").write_text(
            f"---\ntitle: New explainer {self.n}\ndek: A test.\npublished: 2024-0{self.rng.randint(1, 9)}-1{self.n % 10}\n"
            f"actors: [{actor}]\n---\n\n{self.sentence()} {self.sentence()}\n\n## A section\n\n{self.sentence()}\n\n"
            f"![[{card}]]\n", encoding="utf-8")
        return f"new explainer {slug}"

    def new_actor(self) -> str:
        self.n += 1
        taken = set(self.names())
        name = next((f"{w} Group" for w in WORDS if f"{w} Group" not in taken), None)
        if name is None:
            return "no actor name left"
        slug = f"new-actor-{self.n}"
        (self.root / "content" / "actors" / f"{slug}.md").write_text(
            f"---\nname: {name}\nkind: group\n---\nA group. {self.sentence()}\n", encoding="utf-8")
        return f"new actor {slug} ({name})"

    def rename(self) -> str:
        kind = self.rng.choice(["cards", "explainers", "actors"])
        path = self.rng.choice(self.files(kind))
        old = path.stem
        new = f"{old.split('-renamed')[0]}-renamed-{self.n}"
        self.n += 1
        path.rename(path.with_name(new + path.suffix))
        pattern = re.compile(rf"(?<![\w-]){re.escape(old)}(?![\w-])")
        for other in (self.root / "content").rglob("*"):
            if other.is_file() and other.suffix in (".md", ".yml"):
                text = other.read_text(encoding="utf-8")
                if pattern.search(text):
                    other.write_text(pattern.sub(new, text), encoding="utf-8")
        return f"renamed {kind}/{old} to {new}"

    def delete(self) -> str:
        kind = self.rng.choice(["cards", "explainers"])
        files = self.files(kind)
        if len(files) < 2:
            return "nothing to delete"
        path = self.rng.choice(files)
        slug = path.stem
        path.unlink()
        for other in (self.root / "content").rglob("*"):
            if other.is_file() and other.suffix in (".md", ".yml"):
                text = other.read_text(encoding="utf-8")
                new = re.sub(rf"^ {{0,3}}!\[\[{re.escape(slug)}\]\][ \t]*$", "", text, flags=re.M)
                new = re.sub(rf"\[\[{re.escape(slug)}\|([^\]]*)\]\]", r"\1", new)
                new = re.sub(rf"\[\[{re.escape(slug)}\]\]", "that", new)
                if new != text:
                    other.write_text(new, encoding="utf-8")
        return f"deleted {kind}/{slug}"

    def touch(self) -> str:
        path = self.rng.choice(self.files("explainers"))
        path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        return f"rewrote {path.name} unchanged"


@pytest.mark.parametrize("seed", [int(s) for s in os.environ.get("DOSSIER_TEST_SEEDS", "1,2").split(",")])
def test_random_edits_equal_clean_builds(site, tmp_path, seed):
    steps = int(os.environ.get("DOSSIER_TEST_STEPS", "15"))
    editor = Editor(site, random.Random(seed))
    build(site)
    log = []
    for _ in range(steps):
        what = editor.step()
        log.append(what)
        rendered, unchanged = build(site)
        try:
            assert_same_as_clean(site, tmp_path)
        except AssertionError as exc:
            raise AssertionError(f"after steps {log}: {exc}") from None
        if what.startswith("rewrote"):
            assert rendered == 0, log
    assert build(site)[0] == 0


# --------------------------------------------------------------------------------------
# The benchmark's corpus: big enough that rendering is split among worker processes.


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("corpus")
    done = subprocess.run([sys.executable, str(REPO / "bench" / "corpus.py"), "--explainers", "60", "--seed", "3",
                           "--out", str(work), "--sites", "ours"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return work


def test_workers_change_nothing_and_edits_equal_clean_builds(corpus, tmp_path, monkeypatch):
    from dossier import pipeline, render_pool

    if render_pool.workers() < 2:
        pytest.skip("one core: the build never splits its work")
    root = tmp_path / "root"
    shutil.copytree(corpus / "ours", root)
    total, _ = build(root)  # the real command, on every core
    monkeypatch.setattr(render_pool, "workers", lambda: 1)
    alone = tmp_path / "alone"
    shutil.copytree(corpus / "ours", alone)
    pipeline.build(pipeline.Options(root=alone, out=alone / "site"))
    assert tree_digest(root / "site") == tree_digest(alone / "site")

    edits = json.loads((corpus / "manifest.json").read_text())["edits"]
    for name in ("card", "explainer", "alias"):
        before = tree_digest(root / "site")
        edit(root / edits[name]["path"], edits[name]["old"], edits[name]["new"])
        edit(alone / edits[name]["path"], edits[name]["old"], edits[name]["new"])
        rendered, _ = build(root)
        shutil.rmtree(alone / ".cache")
        pipeline.build(pipeline.Options(root=alone, out=alone / "site"))
        after = tree_digest(root / "site")
        assert after == tree_digest(alone / "site"), name
        assert 0 < rendered == len(changed_pages(before, after)) < total / 4, name


@pytest.mark.parametrize("failing", ["_write", "_write_aside"])  # the core record, or the stores (during Pagefind)
def test_a_cache_that_cannot_be_saved_is_a_warning_and_the_next_build_starts_afresh(site, tmp_path, monkeypatch,
                                                                                    failing):
    from dossier import cache, pipeline

    total, _ = build(site)
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Full disk, ")

    def full_disk(path, value):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(cache, failing, full_disk)
        result = pipeline.build(pipeline.Options(root=site, out=site / "site"))
    assert [str(w) for w in result.warnings] == [
        ".cache:1:1: warning: the site is built, but the build cache could not be saved "
        "(No space left on device); the next build starts afresh"]
    assert "Full disk, " in (site / "site" / "cards" / "limousine-gift" / "index.html").read_text(encoding="utf-8")
    assert build(site) == (total, 0)
    assert_same_as_clean(site, tmp_path)


def test_the_build_cache_is_written_aside_while_pagefind_runs(site, monkeypatch):
    """The build cache's record is pickled while Pagefind runs (the build's own thread is idle
    then) and only put in place once the site is: a build that fails afterwards leaves nothing
    of it, and the last record serves the next build."""
    from dossier import cache, pipeline, search

    total, _ = build(site)
    folder = cache.folder_of(site, site / "site")
    prepared = threading.Event()
    real_prepare, real_run = cache.BuildCache.prepare, search.run_pagefind
    monkeypatch.setattr(cache.BuildCache, "prepare", lambda self, *a, **k: (real_prepare(self, *a, **k), prepared.set())[0])
    waited = []

    def pagefind(*args, fail=False, **kwargs):
        waited.append(prepared.wait(10))
        if fail:
            raise search.SearchError("search index: Pagefind failed (a test)")
        return real_run(*args, **kwargs)

    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Aside, ")
    monkeypatch.setattr(search, "run_pagefind", lambda *a, **k: pagefind(*a, fail=True, **k))
    with pytest.raises(search.SearchError):
        pipeline.build(pipeline.Options(root=site, out=site / "site"))
    assert waited and all(waited)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # nothing left aside
    assert "Aside, " not in (site / "site" / "cards" / "limousine-gift" / "index.html").read_text(encoding="utf-8")

    prepared.clear()
    waited.clear()
    monkeypatch.setattr(search, "run_pagefind", pagefind)
    result = pipeline.build(pipeline.Options(root=site, out=site / "site"))
    assert waited and all(waited) and 0 < result.rendered < 10
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]
    monkeypatch.undo()
    assert build(site) == (0, total)  # the record put in place serves the next build


def test_serve_writes_the_build_cache_when_the_editor_pauses_and_no_record_is_lost(site, tmp_path):
    """With Options.record_later (serve) a build keeps its record in memory: the disk is not
    touched until write_remembered() (the editor's pause). What it writes then is what the
    builds since made, every store shard they changed: a new process finds nothing to do."""
    from dossier import cache, pipeline

    total, _ = build(site)
    folder = cache.folder_of(site, site / "site")
    on_disk = lambda: {p.name: p.read_bytes() for p in folder.glob("*.pickle")}  # noqa: E731
    options = pipeline.Options(root=site, out=site / "site", search=False, record_later=True)
    pipeline.build(dataclasses.replace(options, replan=True))  # serve's warm-up: a plan in memory
    before = on_disk()
    for n, (card, old) in enumerate([("limousine-gift", "title: "), ("iran-drones", 'claim: "'),
                                     ("limousine-gift", "title: ")]):
        edit(site / "content" / "cards" / f"{card}.yml", old, f"{old}Later {n}, ")
        assert 0 < pipeline.build(options).rendered < 15
        assert cache.unwritten(site, site / "site") and on_disk() == before  # nothing written yet
    remembered = cache._REMEMBERED[folder]
    for checks in range(12):  # a save stops the writing at once, or after some shards of some stores

        class Save:  # set once checked that many times
            def is_set(self, left=[checks]) -> bool:  # noqa: B006
                left[0] -= 1
                return left[0] < 0

        assert cache.write_remembered(site, site / "site", stop=Save()) is False
        assert cache.unwritten(site, site / "site") and on_disk() == before  # nothing in place, still due
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # nor left aside
    assert cache.write_remembered(site, site / "site") is True
    assert not cache.unwritten(site, site / "site") and on_disk() != before
    del cache._REMEMBERED[folder]  # as a new process finds it
    for name, data in remembered.stores.items():
        assert cache.Store(folder, name).load().data.keys() == data.keys(), name
    assert build(site) == (0, total)  # only the search index catches up: no page is rendered again
    assert_same_as_clean(site, tmp_path)


def test_a_record_that_cannot_be_written_later_is_dropped_not_tried_at_every_pause(site, tmp_path, monkeypatch):
    """A failure while writing the record kept for later (a bug in making the plan's record)
    drops it from memory: the next build starts from the record on disk, and is right."""
    from dossier import cache, pipeline, reuse

    build(site)
    options = pipeline.Options(root=site, out=site / "site", search=False, record_later=True)
    pipeline.build(dataclasses.replace(options, replan=True))
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Unwritten, ")
    pipeline.build(options)
    monkeypatch.setattr(reuse, "tokens", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cache.write_remembered(site, site / "site")
    assert not cache.unwritten(site, site / "site")
    monkeypatch.undo()
    assert build(site)[0] > 0  # the card's pages, rendered again from the record on disk
    assert_same_as_clean(site, tmp_path)


def test_the_site_is_published_before_the_build_cache_is_saved(site, monkeypatch):
    """serve reloads the browsers from Options.published: it must come once the new site is
    in place, and wait neither for the mirror's levelling nor for the cache (seconds on a
    large site)."""
    from dossier import cache, output, pipeline

    build(site)
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Published, ")
    events = []
    card = site / "site" / "cards" / "limousine-gift" / "index.html"
    real_save = cache.BuildCache.save
    real_settle = output.Writer.settle
    monkeypatch.setattr(cache.BuildCache, "save", lambda *a, **k: (events.append("saved"), real_save(*a, **k)))
    monkeypatch.setattr(output.Writer, "settle", lambda *a, **k: (events.append("settled"), real_settle(*a, **k)))

    def published(result):
        events.append(("published", result.rendered, "Published, " in card.read_text(encoding="utf-8")))

    result = pipeline.build(pipeline.Options(root=site, out=site / "site", published=published))
    assert events == [("published", result.rendered, True), "settled", "saved"]
    assert result.rendered > 0
    assert build(site) == (0, result.pages)  # and the levelled mirror and the cache serve the next build


def test_a_build_returns_once_the_folders_pagefind_wrote_in_are_gone(site, monkeypatch):
    """Pagefind writes each shard's bundle in a scratch folder beside OUT, deleted by a thread
    while the build goes on (output.remove_later); the build returns only once it is gone."""
    import time

    from dossier import pipeline

    real, slowed = shutil.rmtree, []

    def slow_rmtree(path, *args, **kwargs):  # a slow disk's deletion
        if Path(path).name.startswith(".site.building-search"):
            time.sleep(0.2)
            slowed.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", slow_rmtree)
    monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "10")  # the example site in four shards
    result = pipeline.build(pipeline.Options(root=site, out=site / "site"))
    assert result.pages > 30 and slowed
    assert not [p.name for p in site.iterdir() if ".building" in p.name]


def test_a_shards_bundle_becomes_the_sites_by_a_link(site, tmp_path, monkeypatch):
    """The files a shard's Pagefind wrote are linked into the next site, not written again: a new
    file is a new inode, dear on a disk without a journal (bench/FINDINGS.md). So after an edit."""
    monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "8")  # the example's 32 marked pages in 4 shards
    log = tmp_path / "pagefind-inodes"
    monkeypatch.setenv("DOSSIER_TEST_PAGEFIND_INODES", str(log))

    def entries() -> dict[str, int]:
        return {p.relative_to(site / "site").as_posix(): p.stat().st_ino
                for p in (site / "site" / "pagefind").rglob("pagefind-entry.json")}

    build(site)
    written = {int(n) for n in log.read_text().split()}
    first = entries()
    assert len(first) == 4 and set(first.values()) == written
    edit(site / "content" / "cards" / "iran-drones.yml", "drones", "drones and missiles")
    build(site)
    again = {int(n) for n in log.read_text().split()} - written
    now = entries()
    remade = {rel for rel in now if now[rel] != first[rel]}
    assert len(remade) == 1 and {now[rel] for rel in remade} == again
    assert_same_as_clean(site, tmp_path)


def test_a_shards_pagefind_reads_links_kept_from_build_to_build(site, tmp_path, monkeypatch):
    """Each shard's Pagefind reads a folder of links to its pages, kept in the build cache: an
    edit links again only the pages whose files changed, not a folder a page. A folder that
    holds a page the shard does not, or another file in a page's place, is mended before
    Pagefind reads it; one that cannot be linked into is given up for a scratch folder."""
    import errno

    from dossier import cache, pipeline

    monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "8")  # the example's 32 marked pages in 4 shards
    log = tmp_path / "pagefind-runs"
    monkeypatch.setenv("DOSSIER_TEST_PAGEFIND_LOG", str(log))
    trees = cache.folder_of(site, site / "site") / "search"

    def held() -> dict[str, dict[str, tuple[int, int]]]:  # a link made again changes its file's ctime
        return {tree.name: {p.relative_to(tree).as_posix(): (p.stat().st_ino, p.stat().st_ctime_ns)
                            for p in tree.rglob("*") if p.is_file()} for tree in trees.iterdir()}

    def folders(tree: Path) -> dict[str, int]:
        return {p.relative_to(tree).as_posix(): p.stat().st_ino for p in tree.rglob("*") if p.is_dir()}

    def runs() -> list[list[str]]:
        return sorted(sorted(json.loads(line)) for line in log.read_text().splitlines())

    build(site)
    before = held()
    assert len(before) == 4 and runs() == sorted(sorted(pages) for pages in before.values())
    assert all(os.path.samefile(trees / name / rel, site / "site" / rel)
               for name, pages in before.items() for rel in pages)

    card = "cards/limousine-gift/index.html"
    [(name, pages)] = [(name, pages) for name, pages in before.items() if card in pages]
    tree, other = trees / name, sorted(set(pages) - {card})[0]
    made = folders(tree)
    (tree / "explainers" / "stray").mkdir(parents=True)
    shutil.copy(site / "site" / other, tree / "explainers" / "stray" / "index.html")  # a page the shard lacks
    (tree / other).unlink()
    (tree / other).write_bytes(b"<html><body data-pagefind-body>stale words</body></html>")  # not the site's file
    log.write_text("")
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Relinked, ")
    build(site)
    after = held()
    assert runs() == [sorted(pages)] and after[name].keys() == pages.keys()
    assert all(os.path.samefile(tree / rel, site / "site" / rel) for rel in pages)
    assert folders(tree) == made  # not a folder made again, and the stray's gone
    rewritten = sorted(rel for rel in pages if (site / "site" / rel).stat().st_ino != pages[rel][0])
    assert card in rewritten and len(rewritten) < len(pages) - 1
    relinked = sorted(rel for rel in pages if after[name][rel] != pages[rel])
    assert relinked == sorted({*rewritten, other})  # the rest: the very links the last build made
    assert all(after[n].keys() == before[n].keys() for n in before)
    assert all(after[n][rel][0] == before[n][rel][0] for n in before if n != name for rel in before[n])  # untouched
    assert_same_as_clean(site, tmp_path)

    real_link = os.link

    def link(source, target, *args, **kwargs):  # the build cache on another disk than the site
        if str(trees) in str(target):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "link", link)
    log.write_text("")
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: Relinked, ", "title: Scratch, ")
    pipeline.build(pipeline.Options(root=site, out=site / "site"))
    monkeypatch.setattr(os, "link", real_link)
    assert runs() == [sorted(pages)] and name not in held() and len(held()) == 3
    assert_same_as_clean(site, tmp_path)

    monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "1000")  # one shard: Pagefind reads the site itself
    build(site)
    assert held() == {}


def test_a_stopped_build_ends_at_its_next_step_and_touches_nothing(site, monkeypatch):
    """serve stops a search catch-up when a save comes in: on a big site the steps before
    Pagefind take seconds, so the build must end between them, not when it reaches Pagefind."""
    import threading

    from dossier import pipeline, search

    build(site)
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Stopped, ")
    before = tree_digest(site / "site")
    ran = []
    monkeypatch.setattr(search, "run_pagefind", lambda *args, **kwargs: ran.append(args))
    stop = threading.Event()
    stop.set()
    with pytest.raises(search.SearchStopped):
        pipeline.build(pipeline.Options(root=site, out=site / "site", stop=stop))
    assert not ran and tree_digest(site / "site") == before
    assert not [p.name for p in site.iterdir() if ".building" in p.name]
    rendered, _ = build(site)  # and the next build goes on from the last one's record
    assert 0 < rendered < 10


def test_a_search_catch_up_stopped_in_pagefind_leaves_the_next_build_its_mirror(site, monkeypatch):
    """serve's search catch-up changes no page: stopped for a save while Pagefind reads the
    mirror, it must leave the mirror a twin of the site, or the save's build would first link
    the whole site twice over (seconds on a big site)."""
    from dossier import output, pipeline, search

    build(site)
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Behind, ")
    assert pipeline.build(pipeline.Options(root=site, out=site / "site", search=False)).search_behind
    stop = threading.Event()

    def save_arrives(site_folder, bundle, stop_event, timeout):
        assert (site_folder / "cards" / "limousine-gift" / "index.html").is_file()  # it reads whole pages
        stop.set()  # a save arrives
        raise search.SearchStopped("search index: stopped")

    monkeypatch.setattr(search, "run_pagefind", save_arrives)
    with pytest.raises(search.SearchStopped):
        pipeline.build(pipeline.Options(root=site, out=site / "site", stop=stop))
    monkeypatch.undo()
    writers, remade = [], []
    real_init, real_make = output.Writer.__init__, output.Writer._make_mirror
    monkeypatch.setattr(output.Writer, "__init__", lambda self, *a, **k: (writers.append(self), real_init(self, *a, **k))[1])
    monkeypatch.setattr(output.Writer, "_make_mirror", lambda self: (remade.append(self), real_make(self))[1])
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: Behind, ", "title: Saved, ")
    result = pipeline.build(pipeline.Options(root=site, out=site / "site", search=False))
    assert [w.incremental for w in writers] == [True] and not remade
    assert 0 < result.rendered < 10
    assert "Saved, " in (site / "site" / "cards" / "limousine-gift" / "index.html").read_text(encoding="utf-8")


def test_a_fresh_sites_mirror_is_linked_while_pagefind_runs(site, monkeypatch):
    """A clean build links its mirror (the twin of OUT the next build edits) while Pagefind
    runs, not after the swap: on a big site that is seconds of work in Pagefind's shadow.
    The mirror it leaves is a whole twin of the site, and the next build edits it."""
    import time

    from dossier import cache, output, pipeline, search

    mirror = cache.folder_of(site, site / "site") / "mirror"
    page = "cards/limousine-gift/index.html"
    seen = []
    real_run = search.run_pagefind

    def pagefind(source, *args, **kwargs):
        deadline = time.monotonic() + 10
        while not (mirror / page).is_file() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append((mirror / page).is_file() and os.path.samefile(mirror / page, source / page))
        return real_run(source, *args, **kwargs)

    monkeypatch.setattr(search, "run_pagefind", pagefind)
    pipeline.build(pipeline.Options(root=site, out=site / "site"))
    assert seen == [True]  # linked from the next site before Pagefind ended
    token = (mirror.parent / "mirror.ok").read_text()
    files = {p.relative_to(site / "site").as_posix() for p in (site / "site").rglob("*") if p.is_file()}
    assert files == {p.relative_to(mirror).as_posix() for p in mirror.rglob("*") if p.is_file()}
    assert all(os.path.samefile(site / "site" / rel, mirror / rel) for rel in files)
    assert any(rel.startswith(f"{search.BUNDLE}/") for rel in files)  # what was put after Pagefind too
    monkeypatch.undo()
    writers = []
    real_init = output.Writer.__init__
    monkeypatch.setattr(output.Writer, "__init__", lambda self, *a, **k: (writers.append(self), real_init(self, *a, **k))[1])
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Twin, ")
    result = pipeline.build(pipeline.Options(root=site, out=site / "site"))
    assert [w.incremental for w in writers] == [True] and writers[0].token != token
    assert 0 < result.rendered < 10


def test_an_edit_indexes_again_only_the_search_shards_of_the_pages_it_changed(site, tmp_path, monkeypatch):
    """Pagefind cannot replace a page in an index, so a big site's index is made in shards:
    an edit runs Pagefind again on the shards of the pages it changed where Pagefind reads
    them, and on no other."""
    import json

    from dossier.search_readable import readable

    monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "8")  # the example's 32 marked pages in 4 shards
    log = tmp_path / "pagefind-runs"
    monkeypatch.setenv("DOSSIER_TEST_PAGEFIND_LOG", str(log))
    build(site)
    bundle = site / "site" / "pagefind"
    shards = {p.parent.relative_to(bundle).as_posix(): set(json.loads(p.read_text()))
              for p in bundle.rglob("pagefind-entry.json")}
    merged = json.loads((bundle / "shards.json").read_text())["merge"]
    assert sorted(f"{name}/" for name in shards if name != ".") == sorted(merged) and len(shards) == 4
    every = [page for pages in shards.values() for page in pages]
    assert len(every) == len(set(every)) == 32  # each marked page in one shard; list pages in none
    assert "index.html" not in every and "cards/limousine-gift/index.html" in every
    assert len(log.read_text().splitlines()) == 4

    log.write_text("")
    before = tree_digest(site / "site")
    read_before = {rel: readable((site / "site" / rel).read_bytes()) for rel in every}
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Sharded, ")
    build(site)
    changed = {rel for rel in changed_pages(before, tree_digest(site / "site")) if rel in every}
    read_changed = {rel for rel in every if readable((site / "site" / rel).read_bytes()) != read_before[rel]}
    runs = [set(json.loads(line)) for line in log.read_text().splitlines()]
    assert read_changed and sorted(map(sorted, runs)) == sorted(sorted(pages) for pages in shards.values()
                                                                if pages & read_changed)
    # the actors' pages list the card where Pagefind does not look: changed, not indexed again
    assert {rel for rel in changed - read_changed if rel.startswith("actors/")}
    assert len(runs) < len([pages for pages in shards.values() if pages & changed])
    assert_same_as_clean(site, tmp_path)

    monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "1000")  # another shard size, and nothing else changed
    build(site)
    assert json.loads((bundle / "shards.json").read_text())["merge"] == []
    assert_same_as_clean(site, tmp_path)


def test_an_index_left_behind_is_made_again_where_it_is_behind(site, tmp_path, monkeypatch):
    """A build with search off (serve, on a save) keeps the last index, made from older pages.
    The build that catches up must compare the pages with those the index was made from, not
    with the previous site's: here only the card's own page and the explainers showing it read
    differently, and only from the older pages."""
    import json

    from dossier import pipeline

    monkeypatch.setenv("DOSSIER_SEARCH_SHARD_PAGES", "8")
    log = tmp_path / "pagefind-runs"
    monkeypatch.setenv("DOSSIER_TEST_PAGEFIND_LOG", str(log))
    build(site)
    log.write_text("")
    edit(site / "content" / "cards" / "limousine-gift.yml", "title: ", "title: Behind, ")
    result = pipeline.build(pipeline.Options(root=site, out=site / "site", search=False))
    assert result.search_behind and log.read_text() == ""
    build(site)  # the catch-up: the pages are those of the previous site, the index is older
    runs = [set(json.loads(line)) for line in log.read_text().splitlines()]
    assert any("cards/limousine-gift/index.html" in run for run in runs)
    assert_same_as_clean(site, tmp_path)
