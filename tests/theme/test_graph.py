"""The SVG drawings are pure and deterministic: same data, same bytes."""

from __future__ import annotations

import random

from dossier import graph


def sample(seed: int = 0):
    nodes = [graph.Node(f"n{i}", f"Actor number {i}", f"/actors/n{i}/", "person" if i % 2 else "country")
             for i in range(30)]
    rng = random.Random(seed)
    relations = [(f"n{rng.randrange(30)}", "talks to", f"n{rng.randrange(30)}") for _ in range(25)]
    groups = [[f"n{rng.randrange(30)}" for _ in range(4)] for _ in range(40)]
    return nodes, relations, groups


def test_same_data_same_bytes_whatever_the_order():
    nodes, relations, groups = sample()
    first = graph.network(nodes, relations, groups)
    second = graph.network(list(reversed(nodes)), list(reversed(relations)), list(reversed(groups)))
    assert graph.draw_network(first, "T", "D") == graph.draw_network(second, "T", "D")
    assert graph.draw_neighbourhood(first, "n3", "T", "D") == graph.draw_neighbourhood(second, "n3", "T", "D")


def test_drawings_are_svg_with_title_desc_and_links():
    net = graph.network(*sample())
    svg = graph.draw_network(net, "Network & co", "Who is tied to whom", limit=10)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert '<title id="net-title">Network &amp; co</title>' in svg and '<desc id="net-desc">' in svg
    assert svg.count('<a href="/actors/') == 10
    assert "<script" not in svg


def test_an_actor_without_ties_gets_no_neighbourhood():
    net = graph.network([graph.Node("a", "A", "/a/"), graph.Node("b", "B", "/b/")], [], [])
    assert graph.draw_neighbourhood(net, "a", "T", "D") == ""
    assert graph.draw_network(net, "T", "D") == ""


def test_relations_and_co_mentions_make_weighted_edges():
    nodes = [graph.Node(s, s.title(), f"/{s}/") for s in ("kim", "nk", "ru")]
    net = graph.network(nodes, [("kim", "leads", "nk")], [["kim", "nk"], ["nk", "ru", "nk"]])
    edges = {(e.a, e.b): e for e in net.edges}
    assert edges[("kim", "nk")].relations == ("Kim leads Nk",) and edges[("kim", "nk")].together == 1
    assert edges[("nk", "ru")].relations == () and edges[("nk", "ru")].together == 1


def test_timeline_numbers_dots_and_links_them():
    moments = [graph.Moment(730000 + d, 2000 + d // 365, f"day {d}", f"Card {d}", f"#tl-{n}")
               for n, d in enumerate((0, 3, 900, 905), start=1)]
    svg = graph.draw_timeline(moments, "Timeline", "Four cards")
    assert [f'href="#tl-{n}"' in svg for n in range(1, 5)] == [True] * 4
    assert svg.count('class="tl-break"') == 1  # the long gap is marked
    assert graph.draw_timeline(moments, "Timeline", "Four cards") == svg
