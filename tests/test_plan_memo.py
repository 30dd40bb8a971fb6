"""Drawings are kept across builds in one process (the preview), and that never changes a byte.

The plan draws an SVG for the actors index, for each actor's neighbourhood and for each
timeline. `graph` keeps each drawing under its exact inputs for the next build; here a
counter on the drawing functions shows what a build really drew.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier import graph, pipeline

from .conftest import tree_digest
from .test_incremental import clean_build, edit, stub_pagefind  # noqa: F401  (a reproducible search bundle)

DRAWINGS = ("_draw_network", "_draw_neighbourhood", "_draw_timeline")


@pytest.fixture
def draws(monkeypatch) -> dict[str, int]:
    """How many times each drawing function really drew (not served from the memo)."""
    counts = dict.fromkeys(DRAWINGS, 0)
    for name in DRAWINGS:
        def counted(*args, _draw=getattr(graph, name), _name=name):
            counts[_name] += 1
            return _draw(*args)
        monkeypatch.setattr(graph, name, counted)
    return counts


@pytest.fixture
def site(themed_example_site: Path) -> Path:
    return themed_example_site


def build_here(root: Path, draws: dict[str, int]) -> dict[str, int]:
    """A build in this process, as the preview makes it; what it drew."""
    for name in draws:
        draws[name] = 0
    pipeline.build(pipeline.Options(root=root, out=root / "site"))
    return dict(draws)


def test_rebuilds_in_one_process_draw_only_what_changed_and_equal_clean_builds(site, tmp_path, draws):
    actors = len(list((site / "content" / "actors").glob("*.md")))
    first = build_here(site, draws)
    assert first["_draw_network"] == 1 and first["_draw_neighbourhood"] > actors / 2 and first["_draw_timeline"] > 1

    # a claim's wording: no picture changes, none is drawn again
    edit(site / "content/cards/iran-drones.yml", 'claim: "', 'claim: "Reportedly, ')
    assert build_here(site, draws) == dict.fromkeys(DRAWINGS, 0)
    assert tree_digest(site / "site") == clean_build(site, tmp_path / "clean1")

    # a card now names Zimbabwe too: new ties for it and the card's actors, the rest are kept
    edit(site / "content/cards/iran-drones.yml", 'claim: "', 'claim: "[[zimbabwe]] and ')
    drawn = build_here(site, draws)
    assert 0 < drawn["_draw_neighbourhood"] < actors / 2 and drawn["_draw_network"] == 1
    assert tree_digest(site / "site") == clean_build(site, tmp_path / "clean2")

    # a neighbour's kind (a class on its dot) is in its neighbours' pictures, though no tie changed
    edit(site / "content/actors/iran.md", "kind: country", "kind: organization")
    drawn = build_here(site, draws)
    assert drawn["_draw_neighbourhood"] > 1 and drawn["_draw_timeline"] == 0
    assert tree_digest(site / "site") == clean_build(site, tmp_path / "clean3")


def neighbours(kind: str) -> graph.Network:
    nodes = [graph.Node("a", "Alpha", "/a/"), graph.Node("b", "Beta", "/b/", kind), graph.Node("c", "Gamma", "/c/")]
    return graph.network(nodes, [("b", "meets", "c")], [["a", "b"], ["a", "c"]])


def test_the_memo_is_keyed_on_every_input_of_the_drawing(draws):
    graph.keep_only([])  # an empty memo
    first = graph.draw_neighbourhood(neighbours("person"), "a", "T", "D")
    assert graph.draw_neighbourhood(neighbours("person"), "a", "T", "D") == first
    assert draws["_draw_neighbourhood"] == 1
    other = graph.draw_neighbourhood(neighbours("group"), "a", "T", "D")  # a neighbour's kind, nothing else
    assert draws["_draw_neighbourhood"] == 2 and other == first.replace("net-person", "net-group") != first
    assert graph.draw_neighbourhood(neighbours("person"), "a", "T", "D2") != first  # its description


def test_the_memo_keeps_the_drawings_the_last_plan_shows(draws):
    graph.keep_only([])
    shown = graph.draw_neighbourhood(neighbours("person"), "a", "T", "D")
    graph.draw_neighbourhood(neighbours("person"), "a", "T", "not shown")
    graph.keep_only([shown, None])  # a plan whose pages show the first picture only
    assert graph.draw_neighbourhood(neighbours("person"), "a", "T", "D") is shown
    assert draws["_draw_neighbourhood"] == 2
    graph.draw_neighbourhood(neighbours("person"), "a", "T", "not shown")
    assert draws["_draw_neighbourhood"] == 3
    graph.keep_only([])
    graph.draw_neighbourhood(neighbours("person"), "a", "T", "D")
    assert draws["_draw_neighbourhood"] == 4


def test_an_explainer_gathers_the_actors_its_cards_newly_mention_in_one_process(site, tmp_path, draws):
    """The index keeps what an explainer gathers from its embedded cards while they are the
    same objects: a new alias changes a card's body (its mentions) but not the card's file."""
    build_here(site, draws)
    edit(site / "content/actors/zimbabwe.md", "  - Harare", "  - Harare\n  - defied")  # only a card's claim says it
    build_here(site, draws)
    page = (site / "site/explainers/putin-visits-pyongyang/index.html").read_text(encoding="utf-8")
    assert 'actors/zimbabwe/"' in page  # the limousine card it embeds now names Zimbabwe
    assert tree_digest(site / "site") == clean_build(site, tmp_path / "clean")


def test_a_body_kept_from_the_last_build_takes_a_new_title_it_links_to_in_one_process(site, tmp_path, draws):
    """A body the last build kept matched that build's link table; an entry of the table that
    changed since (a title, the text a bare [[slug]] shows) still makes it render again."""
    build_here(site, draws)
    edit(site / "content/explainers/russia-courts-sanctioned-partners.md",
         'title: "Russia\'s search for friends', 'title: "Russia\'s hunt for friends')
    build_here(site, draws)
    page = (site / "site/explainers/putin-visits-pyongyang/index.html").read_text(encoding="utf-8")
    assert "Russia&#39;s hunt for friends among the sanctioned</a>" in page
    assert tree_digest(site / "site") == clean_build(site, tmp_path / "clean")
