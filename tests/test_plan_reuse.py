"""Builds in one process (as the preview makes them) plan again only the pages whose inputs changed.

reuse.py hands the last build's page back for every page none of whose recorded inputs
changed. Here each such build is compared, file by file, with a clean build made by the
real command in another process (which has nothing to reuse), after random edits,
creations, renames and deletions, and after edits that move pages around: an actor's
kind, a card's date, an explainer's date, a relation.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import signal
from pathlib import Path

import pytest

from dossier import cache, deps, graph, output_intact, pipeline, render_pages, reuse
from dossier import index as indexing
from dossier import pages as planning
from dossier.load import load
from dossier.problems import Problems

from .test_incremental import Editor, assert_same_as_clean, edit, stub_pagefind  # noqa: F401  (a reproducible search bundle)


def build_here(root: Path, afresh: bool = False) -> int:
    """A build in this process; how many pages its plan took over from the last one.

    `afresh`: as a new process would build, with nothing remembered in this one: the pages it
    takes over are the stand-ins of the plan the build cache recorded (reuse.Record)."""
    if afresh:
        for folder in [folder for folder in cache._REMEMBERED if folder.is_relative_to(root)]:
            del cache._REMEMBERED[folder]
    plans = []
    real_plan = planning.plan

    def plan(*args, **kwargs):
        plans.append(real_plan(*args, **kwargs))
        return plans[-1]

    planning.plan = plan
    try:
        pipeline.build(pipeline.Options(root=root, out=root / "site"))
    finally:
        planning.plan = real_plan
    return plans[0].reused if plans else 0


class DeepEditor(Editor):
    """Editor's changes, and those that move a page in a list or a dot in a picture."""

    def step(self) -> str:
        if self.rng.random() < 0.35:
            return self.rng.choice([self.edit_kind, self.edit_date, self.edit_published, self.add_relation])()
        return super().step()

    def edit_kind(self) -> str:
        path = self.rng.choice(self.files("actors"))
        kind = self.rng.choice(["person", "country", "organization", "group"])
        path.write_text(re.sub(r"^kind: .*$", f"kind: {kind}", path.read_text(encoding="utf-8"), count=1, flags=re.M),
                        encoding="utf-8")
        return f"{path.name} is now a {kind}"

    def edit_date(self) -> str:
        path = self.rng.choice(self.files("cards"))
        date = f"date: {self.rng.choice(['2019', '2024-02', '2024-06-19', '2025-01-05'])}"
        text = re.sub(r"^date: .*\n", "", path.read_text(encoding="utf-8"), flags=re.M)
        path.write_text(text.replace("\nstatus:", f"\n{date}\nstatus:", 1), encoding="utf-8")
        return f"{path.name}: {date}"

    def edit_published(self) -> str:
        path = self.rng.choice(self.files("explainers"))
        date = f"published: 20{self.rng.randint(18, 25)}-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}"
        # without its update date, which the new date may come after (an error)
        text = re.sub(r"^updated: .*\n", "", path.read_text(encoding="utf-8"), count=1, flags=re.M)
        path.write_text(re.sub(r"^published: .*$", date, text, count=1, flags=re.M), encoding="utf-8")
        return f"{path.name}: {date}"

    def add_relation(self) -> str:
        path, other = self.rng.sample(self.files("actors"), 2)
        head, body = path.read_text(encoding="utf-8")[4:].split("\n---\n", 1)
        relation = f"  - actor: {other.stem}\n    label: met with"
        if f"actor: {other.stem}\n" in head:
            return "no new relation"
        head = head.replace("relations:", f"relations:\n{relation}", 1) if "relations:" in head \
            else f"{head}\nrelations:\n{relation}"
        path.write_text(f"---\n{head}\n---\n{body}", encoding="utf-8")
        return f"{path.stem} met with {other.stem}"


@pytest.fixture
def site(themed_example_site: Path) -> Path:
    return themed_example_site


@pytest.mark.parametrize("afresh", [False, True], ids=["in-one-process", "each-in-a-new-process"])
@pytest.mark.parametrize("seed", [int(s) for s in os.environ.get("DOSSIER_TEST_SEEDS", "1,2").split(",")])
def test_random_edits_equal_clean_builds_planning_only_what_changed(site, tmp_path, seed, afresh):
    steps = int(os.environ.get("DOSSIER_TEST_STEPS", "15"))
    editor = DeepEditor(site, random.Random(seed))
    build_here(site)
    log, reused = [], []
    for _ in range(steps):
        log.append(editor.step())
        reused.append(build_here(site, afresh))
        try:
            assert_same_as_clean(site, tmp_path)
            assert_record_holds_a_clean_builds(site, tmp_path / "clean")
        except AssertionError as exc:
            raise AssertionError(f"after steps {log}: {exc}") from None
    assert max(reused) > 10, (log, reused)  # pages were taken over, so the comparison above tested that


def made_and_whole(module, name: str, fresh, make):
    """make() as it is, then with module.name (what the last build left to patch) a fresh one."""
    made = make()
    remembered = getattr(module, name)
    setattr(module, name, fresh())
    try:
        whole = make()
    finally:
        setattr(module, name, remembered)
    return made, whole


@pytest.mark.parametrize("seed", [int(s) for s in os.environ.get("DOSSIER_TEST_SEEDS", "1,2").split(",")])
def test_an_index_and_a_network_patched_after_random_edits_equal_ones_made_whole(site, seed, monkeypatch):
    """A build in the process that made the last index and actor network patches them
    (index._Last, graph.Networks): after each random edit, each must equal one made from
    every body and item, table by table and edge by edge."""
    patched = {"index": [], "network": [], "alike": []}

    def build_index(content, bodies, last=None):
        made, whole = made_and_whole(indexing, "_LAST", indexing._Last, lambda: real_build_index(content, bodies, last))
        assert vars(made) == vars(whole), [name for name in vars(made) if vars(made)[name] != vars(whole)[name]]
        return made

    def actor_network(*args):
        made, whole = made_and_whole(planning, "_NETWORKS", graph.Networks, lambda: real_actor_network(*args))
        assert (made.nodes, made.edges) == (whole.nodes, whole.edges)
        return made

    def spy(kind, real):
        return lambda *args: patched[kind].append(real(*args)) or patched[kind][-1]

    def same_digest(a, b):  # a page's plan told alike the last one's keeps its shape: it must digest alike
        same = deps.same_digest(a, b)
        assert not same or deps.digest(a) == deps.digest(b), a[0]
        patched["alike"].append(same)
        return same

    real_build_index, real_actor_network = indexing.build_index, planning.actor_network
    monkeypatch.setattr(indexing, "build_index", build_index)
    monkeypatch.setattr(planning, "actor_network", actor_network)
    monkeypatch.setattr(indexing._Last, "patched", spy("index", indexing._Last.patched))
    monkeypatch.setattr(graph.Networks, "_counted_again", spy("network", graph.Networks._counted_again))
    monkeypatch.setattr(render_pages, "same_digest", same_digest)
    # patched however much changed: more kinds of change
    monkeypatch.setattr(indexing._Last, "SHARE", 1)
    monkeypatch.setattr(graph.Networks, "SHARE", 1)
    editor, log = DeepEditor(site, random.Random(seed)), []
    build_here(site)
    for _ in range(int(os.environ.get("DOSSIER_TEST_STEPS", "15"))):
        log.append(editor.step())
        try:
            build_here(site)
        except AssertionError as exc:
            raise AssertionError(f"after steps {log}: {exc}") from None
    # the comparisons above tested patched ones
    assert sum(found is not None for found in patched["index"]) >= 8, log
    assert sum(found is not None for found in patched["network"]) >= 5, log
    assert patched["alike"].count(True) >= 10, log


def test_an_index_and_a_network_are_patched_where_a_body_names_no_one_and_a_card_has_new_sources(site, monkeypatch):
    """What random edits rarely make: bodies that name no actor any more (the only explainer
    to give a position, and the only profile to name two actors together), and a card with other
    sources embedded in an explainer whose body is the same object. Each patched index and
    network must equal one made whole."""
    given, patched = [], []
    real_build_index, real_patched = indexing.build_index, indexing._Last.patched
    monkeypatch.setattr(indexing, "build_index", lambda *args: given.append(args) or real_build_index(*args))
    monkeypatch.setattr(indexing._Last, "patched", lambda *args: patched.append(real_patched(*args)) or patched[-1])
    pipeline.build(pipeline.Options(root=site, out=site / "site", write=False))
    content, bodies, last = given[-1]
    urls = planning.Urls(content.site.base_url, content.site.base_path)

    def patched_and_whole(content, bodies):
        made, whole = made_and_whole(indexing, "_LAST", indexing._Last, lambda: real_build_index(content, bodies, last))
        assert patched[-2] is not None and patched[-1] is None  # the first call patched, the second made it whole
        assert vars(made) == vars(whole)
        net, whole_net = made_and_whole(planning, "_NETWORKS", graph.Networks,
                                        lambda: planning.actor_network(content, made, bodies, urls))
        assert (net.nodes, net.edges) == (whole_net.nodes, whole_net.edges)
        return whole, whole_net

    before, net_before = patched_and_whole(content, bodies)
    silent = dict(bodies)
    for key in ("explainer", "putin-visits-pyongyang"), ("actor", "vladimir-putin"):
        silent[key] = dataclasses.replace(bodies[key], mentions=[], positions=[])
    index, net = patched_and_whole(content, silent)
    assert "north-korea" in before.positions and "north-korea" not in index.positions  # its only explainer
    ties = [{(e.a, e.b) for e in found.edges} for found in (net_before, net)]
    assert ties[0] - ties[1] == {("ukraine", "vladimir-putin")}  # named together only in Putin's profile
    card = content.cards["iran-drones"]
    cards = {**content.cards,
             card.slug: dataclasses.replace(card, sources=[dataclasses.replace(card.sources[0], name="Another desk")])}
    index, _ = patched_and_whole(dataclasses.replace(content, cards=cards), silent)
    assert index.explainer_sources != before.explainer_sources


def test_values_told_alike_digest_alike(site):
    """deps.same_digest stands in for comparing two plans' digests: model objects count by key."""
    card = next(iter(load(site, Problems()).cards.values()))
    changed = dataclasses.replace(card, title="Another title")
    other = dataclasses.replace(card, slug="another-card")
    pairs = [
        ({"cards": [card], "n": 1}, {"cards": [changed], "n": 1}, True),  # the same card, another version
        ({"cards": [card]}, {"cards": [other]}, False),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, False),  # dicts in another order pickle apart
        ((True,), (1,), False),
        ([0.0], [-0.0], False),
        ([0.5, "x", None], [0.5, "x", None], True),
        ((card, "x"), [card, "x"], False),
    ]
    for a, b, same in pairs:
        assert deps.same_digest(a, b) is same, (a, b)
        assert (deps.digest(a) == deps.digest(b)) is same, (a, b)


def assert_record_holds_a_clean_builds(root: Path, clean: Path) -> None:
    """The attribute record (deps.Fields.table) is carried from build to build, not made again:
    every attribute a clean build of the same sources recorded must be in it, with the same
    version and digest, or the next build would keep a page that changed."""
    def record(where: Path) -> dict:
        return cache.Store(cache.BuildCache(where, where / "site").folder, "fields").load().data

    kept, made = record(root), record(clean)
    assert made
    wrong = [(k, attribute) for k, (version, digests) in made.items() for attribute, value in digests.items()
             if k not in kept or kept[k][0] != version or kept[k][1].get(attribute, b"absent") != value]
    assert not wrong, f"the record kept differs from a clean build's at {wrong[:5]}"


def test_a_page_changed_by_hand_between_builds_in_one_process_is_made_again(site, tmp_path, monkeypatch):
    """From a process's second build on, a helper process holds the records of the last site and
    tells the next build which files are no longer as written (output_intact): a page written
    over in place (the site's mirror, hard-linked, shares the change) is made again. So it is
    when the helper is gone before it is asked, or before it answers."""
    answers = []
    real_answer = output_intact.Helper._answer
    monkeypatch.setattr(output_intact.Helper, "_answer",
                        lambda self, serial: answers.append(real_answer(self, serial)) or answers[-1])
    card = site / "content/cards/iran-drones.yml"
    for n in range(3):  # the second build starts the helper (if this process has none yet), the third asks it
        edit(card, 'claim: "', f'claim: "{n} ')
        build_here(site)
    page = site / "site/actors/iran/index.html"
    page.write_text("written over", encoding="utf-8")
    build_here(site)
    assert answers[-1] == {"actors/iran/index.html"}  # as the helper told it
    assert_same_as_clean(site, tmp_path)
    output_intact.HELPER._process.kill()  # a helper gone: the build stats the files itself
    output_intact.HELPER._process.wait()
    asked = len(answers)
    page.write_text("written over again", encoding="utf-8")
    build_here(site)
    assert len(answers) == asked  # it could not be asked
    assert_same_as_clean(site, tmp_path)
    edit(card, 'claim: "', 'claim: "3 ')
    build_here(site)  # starts another helper, which the next build asks
    page.write_text("written over once more", encoding="utf-8")
    build_here(site)
    assert answers[-1] == {"actors/iran/index.html"}
    assert_same_as_clean(site, tmp_path)

    def asked_then_gone(self, message):  # the helper is stopped before it can answer, then killed
        if message[0] == "check":
            os.kill(self._process.pid, signal.SIGSTOP)
        sent = real_send(self, message)
        if message[0] == "check":
            self._process.kill()
        return sent

    real_send = output_intact.Helper._send
    monkeypatch.setattr(output_intact.Helper, "_send", asked_then_gone)
    page.write_text("written over at last", encoding="utf-8")
    build_here(site)
    assert answers[-1] is None  # no answer: the build stats the files itself
    assert_same_as_clean(site, tmp_path)


@pytest.mark.parametrize("afresh", [False, True], ids=["in-one-process", "in-a-new-process"])
def test_a_claim_edit_plans_again_only_the_pages_that_read_the_card(site, tmp_path, afresh):
    build_here(site)
    pages = len(next(e for f, e in cache._REMEMBERED.items() if f.is_relative_to(site)).planned.plan.outputs)
    edit(site / "content/cards/iran-drones.yml", 'claim: "', 'claim: "Reportedly, ')
    reused = build_here(site, afresh)
    # the card's page, the explainers and actor profiles that embed or name it, its actors, the timeline,
    # the sitemap and robots.txt (made every time): a handful, not the site
    assert pages - 15 < reused < pages, (reused, pages)
    assert_same_as_clean(site, tmp_path)


def test_a_tie_between_two_neighbours_is_redrawn_in_the_actor_page_between_them(site, tmp_path):
    """Zimbabwe and Russia, both tied to Mnangagwa, are named together once more: the line
    between them in his page's picture thickens, and nothing else his page reads changes."""
    build_here(site)
    explainer = site / "content/explainers/putin-visits-pyongyang.md"
    explainer.write_text(explainer.read_text(encoding="utf-8")
                         + "\n[[zimbabwe]] and [[russia]] signed nothing new.\n",
                         encoding="utf-8")
    build_here(site)
    assert_same_as_clean(site, tmp_path)


def test_a_new_tie_plans_again_the_pages_that_show_it_not_every_page_tied_to_its_ends(site, tmp_path, monkeypatch):
    """Iran's profile names Russia once more: the line between them thickens in their own
    pages. China's page, tied to Russia, shows neither that line nor any other tie that changed,
    so it is taken over, not planned again (reuse.NetworkView)."""
    build_here(site)
    made = []
    real_make = reuse.Planner._make
    monkeypatch.setattr(reuse.Planner, "_make", lambda self, key, make: (made.append(key), real_make(self, key, make))[1])
    profile = site / "content/actors/iran.md"
    profile.write_text(profile.read_text(encoding="utf-8") + "\n[[russia]] sells it parts, too.\n", encoding="utf-8")
    build_here(site)
    actors = {key[1] for key in made if key[0] == "actor"}
    assert {"russia", "iran"} <= actors, made
    assert "china" not in actors, made
    assert_same_as_clean(site, tmp_path)


def test_planning_adds_no_key_to_the_index(site, monkeypatch):
    """The plan's tokens are taken after planning when no record is compared with them (in
    Pagefind's shadow), so planning, which looks up actors the index's defaultdicts may not
    hold, must leave the index as it was."""
    tables = []
    real_plan = planning.plan

    def keys(index) -> dict[str, set]:
        return {name: set(table) for name, table in vars(index).items() if isinstance(table, dict)}

    def plan(inputs, *args, **kwargs):
        tables.append(keys(inputs.index))
        try:
            return real_plan(inputs, *args, **kwargs)
        finally:
            tables.append(keys(inputs.index))

    monkeypatch.setattr(planning, "plan", plan)
    pipeline.build(pipeline.Options(root=site, out=site / "site"))
    before, after = tables
    assert len(before["positions"]) < len(before["mentions"])  # some actors are quoted nowhere
    assert after == before


def test_a_view_reads_a_missing_key_of_a_defaultdict_without_adding_it():
    from collections import defaultdict

    from dossier.reuse import Tracker, View

    table: defaultdict = defaultdict(list, {"kim-jong-un": [1]})
    tracker = Tracker()
    tracker.reads = set()
    view = View("index.mentions", table, tracker)
    assert view["kim-jong-un"] == [1] and view["nobody"] == []
    assert dict(table) == {"kim-jong-un": [1]}
    assert tracker.reads == {("index.mentions", "kim-jong-un"), ("index.mentions", "nobody")}
    with pytest.raises(KeyError):
        View("content.explainers", {}, tracker)["nobody"]  # a plain dict's missing key is still an error


def test_reads_found_within_one_record_are_checked_again_when_a_later_record_drops_an_object():
    """deps.Fields keeps, from build to build, which reads lie within the objects the record
    holds (serve): only while no object is dropped. A read of an object the record no longer
    holds counts as a change, though the object is not among those whose version moved."""
    from dossier.deps import Fields
    from dossier.model import Body, Card

    def table(*slugs: str) -> dict:
        return {("card", slug): (b"v1", {"claim": b"d"}) for slug in slugs}

    def fields(old: dict) -> Fields:
        made = Fields(old)
        for _, slug in old:  # nothing moved: each object is added with its version in the record
            made.add(Card(slug, f"content/cards/{slug}.yml", slug, Body("", "", 1), ()), b"v1")
        return made

    reads = {("card", "a"): frozenset({"claim"}), ("card", "b"): frozenset({"claim"})}
    assert not fields(table("a", "b")).changed(reads)
    assert not fields(table("a", "b", "c")).changed(reads)  # an object more: still within
    assert fields(table("a", "c")).changed(reads)  # "b" dropped: the reads are not within any more
    assert fields(table("a", "b", "c")).changed(reads) is False
    assert fields(table("a")).changed({("card", "z"): frozenset({"claim"})})  # never within


def test_two_tables_with_the_very_same_values_under_other_keys_differ():
    """reuse._compare's quick path (the very same values, in order) also needs the same keys."""
    from dossier import reuse

    item = object()
    found: set = set()
    reuse._compare(found, "body", {"a": item}, {"b": item}, identical=True)
    assert found == {("body", "a"), ("body", "b"), ("body", reuse.ANY)}
    found.clear()
    reuse._compare(found, "body", {"a": item}, {"a": item}, identical=True)
    reuse._compare(found, "when", {"a": 1, "b": 2}, {"a": 1, "b": 2})
    assert not found
    reuse._compare(found, "when", {"a": 1}, {"a": 2})
    assert found == {("when", "a"), ("when", reuse.ANY)}
