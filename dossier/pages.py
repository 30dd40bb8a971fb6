"""Every page of the site as a plan: where it goes, which layout, what it shows.

Pure: (content, index) in, pages out. URLs are paths under base_url's path, so
the site works wherever that path is served.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Collection

from markupsafe import Markup

from . import graph, reuse
from .index import Index
from .markup import Rendered, Target
from .model import Actor, Card, Content, Explainer, PartialDate

DRAWN = ("drawing", "network", "neighbourhood")  # the context entries that hold drawings (graph.py)
HOME_SIZE = 100  # explainers on a page of the archive; the home page shows one to two pages' worth
JSONLD_TYPES = {"person": "Person", "country": "Country", "organization": "Organization", "group": "Organization"}


@dataclass(frozen=True)
class Page:
    output: str  # path under OUT, e.g. "explainers/visit/index.html"
    template: str
    context: dict[str, Any] = field(hash=False)
    url: str = ""  # path under the site, e.g. "/briefs/explainers/visit/"; "" for non-pages
    in_sitemap: bool = True


class Urls:
    """Paths and absolute URLs of everything, from base_url."""

    def __init__(self, base_url: str, base_path: str):
        self.base_url = base_url
        self.base_path = base_path

    def path(self, kind: str, slug: str = "") -> str:
        folder = {"explainer": "explainers", "actor": "actors", "card": "cards"}.get(kind, kind)
        return f"{self.base_path}{folder}/{slug + '/' if slug else ''}"

    def absolute(self, path: str) -> str:
        return self.base_url + path[len(self.base_path):]


def targets(content: Content, urls: Urls) -> dict[str, Target]:
    """What each slug links to: the table every [[reference]] resolves through."""
    table = {}
    for kind, items in (("explainer", content.explainers), ("actor", content.actors), ("card", content.cards)):
        for slug, item in items.items():
            table[slug] = target(kind, item, urls)
    return table


def target(kind: str, item: Explainer | Actor | Card, urls: Urls) -> Target:
    """What a [[reference]] to this item links to, and with which label."""
    return Target(urls.path(kind, item.slug), item.name if kind == "actor" else item.title, kind)


def listing(count: int) -> tuple[int, int]:
    """How `count` explainers, newest first, are listed: how many the home page shows, and how
    many archive pages of HOME_SIZE follow it. Up to 2 * HOME_SIZE, the home page shows them
    all. Past that, the archive pages are numbered from the oldest (/archive/1/ holds the oldest
    HOME_SIZE) and the home page shows the rest, HOME_SIZE + 1 to 2 * HOME_SIZE of them: so a new
    explainer changes the home page, not the archive, whose pages keep their addresses and their
    explainers. A big site's home page stays small for readers, and quick to make again."""
    archived = max(0, math.ceil(count / HOME_SIZE) - 2)
    return count - archived * HOME_SIZE, archived


def names(content: Content) -> dict[str, str]:
    """Every actor name and alias, to the actor's slug."""
    table = {}
    for actor in content.actors.values():
        table[actor.name] = actor.slug
        for alias in actor.aliases:
            table[alias.text] = actor.slug
    return table


def plan_inputs(content: Content, index: Index, bodies: dict[tuple[str, str], Rendered], urls: Urls) -> reuse.Inputs:
    """What pages are planned from: the model, the bodies, the index, the actor network and
    each dated card's place on the timeline."""
    net = actor_network(content, index, bodies, urls)
    when = {slug: n for n, slug in enumerate(index.timeline)}
    return reuse.Inputs(content, bodies, index, net, when)


def plan(inputs: reuse.Inputs, urls: Urls, last: reuse.Plan | None = None,
         recorded: tuple[reuse.Record, reuse.Inputs] | None = None) -> reuse.Plan:
    """All pages, in a fixed order (`Plan.outputs`), each with what it was planned from.

    `last`, the plan of the last build in this process, lends every page none of whose
    inputs changed since (reuse.py). Else `recorded`, the last build's reuse.Record with these
    inputs as its tokens, lends a stand-in for each such page. Each page reads its inputs
    through the planner's views.
    """
    content, index = inputs.content, inputs.index
    planner = reuse.Planner(inputs, last, recorded)
    c, ix, b = planner.views.content, planner.views.index, planner.views.bodies
    page = planner.page
    shown, archived = listing(len(index.explainers_by_date))

    def listed(start: int, stop: int) -> dict[str, Any]:  # the explainers by_date[start:stop], newest first
        slugs = ix.explainers_by_date[start:stop]
        return {"explainers": [c.explainers[s] for s in slugs],
                "actors_of": {s: [c.actors[a] for a in ix.explainer_actors[s]] for s in slugs}}

    pages = [page(("home",), lambda: Page("index.html", "home.html", {
        **listed(0, shown),
        "newer": None,
        "older": urls.path("archive", str(archived)) if archived else None,
        "jsonld": _jsonld_site(c.site, urls),
    }, urls.base_path))]
    for n in range(archived, 0, -1):  # numbered from the oldest, so a new explainer changes none of them
        first = shown + (archived - n) * HOME_SIZE
        pages.append(page(("archive", n), lambda n=n, first=first: Page(f"archive/{n}/index.html", "archive.html", {
            **listed(first, first + HOME_SIZE),
            "newer": urls.path("archive", str(n + 1)) if n < archived else urls.base_path,
            "older": urls.path("archive", str(n - 1)) if n > 1 else None,
            "jsonld": _jsonld_collection("Explainers", urls.absolute(urls.path("archive", str(n)))),
        }, urls.path("archive", str(n)))))
    for slug in index.explainers_by_date:
        pages.append(page(("explainer", slug), lambda slug=slug: _explainer_page(c.explainers[slug], c, ix, b, urls)))
    pages.append(page(("actors",), lambda: Page("actors/index.html", "actors.html", {
        "groups": _actors_by_kind(c),
        "network": graph.draw_network(
            planner.views.net, "Network of actors",
            "Each dot is an actor and links to its page. A solid line joins two actors with a stated "
            "relation; a dashed line joins actors named together in a fact card or a sentence; thicker "
            "lines mean more ties. The list below names every actor."),
        "jsonld": _jsonld_collection("Actors", urls.absolute(urls.path("actor"))),
    }, urls.path("actor"))))
    for slug in content.actors:
        pages.append(page(("actor", slug), lambda slug=slug: _actor_page(
            c.actors[slug], c, ix, b, urls, planner.views.net, planner.views.when)))
    for slug in content.cards:
        pages.append(page(("card", slug), lambda slug=slug: _card_page(c.cards[slug], c, ix, b, urls)))
    pages.append(page(("timeline",), lambda: Page("timeline/index.html", "timeline.html", {
        "cards": [c.cards[s] for s in ix.timeline],
        "claims": {s: b[("card", s)].html for s in ix.timeline},
        "drawing": draw_cards_timeline([c.cards[s] for s in ix.timeline], "Timeline of dated fact cards"),
        "jsonld": _jsonld_collection("Timeline", urls.absolute(urls.path("timeline"))),
    }, urls.path("timeline"))))
    pages.append(page(("search",), lambda: Page("search/index.html", "search.html", {
        "jsonld": _jsonld_collection("Search", urls.absolute(urls.path("search"))),
    }, urls.path("search"), in_sitemap=False)))
    pages.append(page(("404",), lambda: Page("404.html", "404.html", {"jsonld": _jsonld_site(c.site, urls)},
                                             urls.base_path + "404.html", in_sitemap=False)))
    in_sitemap = [p for p in pages if p.in_sitemap]
    pages.append(page(("feed",), lambda: Page("feed.xml", "feed.xml", {
        "explainers": [c.explainers[s] for s in ix.explainers_by_date],
        "updated": max((e.modified for e in c.explainers.values()), default=dt.date(1970, 1, 1)),
    })))
    # made from the pages themselves, so made every time (the pages it lists are mostly the same objects)
    pages.append(Page("sitemap.xml", "sitemap.xml", {"pages": in_sitemap}))
    pages.append(Page("robots.txt", "robots.txt", {}))
    planner.plan.outputs = {p.output: p for p in pages}
    graph.keep_only(p.context.get(name) for p in pages for name in DRAWN)  # the next plan may draw them again
    return planner.plan


def item_page(kind: str, item: Explainer | Actor | Card, content: Content, index: Index,
              bodies: dict[tuple[str, str], Rendered], urls: Urls, net: graph.Network, when: dict[str, int]) -> Page:
    """The page of one explainer, actor or card."""
    if kind == "explainer":
        return _explainer_page(item, content, index, bodies, urls)
    if kind == "actor":
        return _actor_page(item, content, index, bodies, urls, net, when)
    return _card_page(item, content, index, bodies, urls)


def _card_page(card: Card, content: Content, index: Index, bodies: dict[tuple[str, str], Rendered],
               urls: Urls) -> Page:
    claim = bodies[("card", card.slug)].html
    return Page(f"cards/{card.slug}/index.html", "card.html", {
        "card": card,
        "claim": claim,
        "embedded_in": [content.explainers[s] for s in index.embedded_in.get(card.slug, [])],
        "actors": [content.actors[a] for a in index.card_actors[card.slug]],
        "jsonld": _jsonld_card(card, claim, index.card_actors[card.slug], urls),
    }, urls.path("card", card.slug))


def _explainer_page(explainer: Explainer, content: Content, index: Index,
                    bodies: dict[tuple[str, str], Rendered], urls: Urls) -> Page:
    rendered = bodies[("explainer", explainer.slug)]
    actors = [content.actors[a] for a in index.explainer_actors[explainer.slug]]
    url = urls.path("explainer", explainer.slug)
    # about: the actors it declares or gives a position to; mentions: the others it names
    central = [ref.slug for ref in explainer.actors] + [p.actor for p in rendered.positions]
    about = [a.slug for a in actors if a.slug in central]
    actor_id = lambda slug: {"@id": urls.absolute(urls.path("actor", slug)) + "#actor"}  # noqa: E731
    return Page(f"explainers/{explainer.slug}/index.html", "explainer.html", {
        "explainer": explainer,
        "body": rendered.html,
        "toc": rendered.toc,
        "words": len(explainer.body.text.split()),
        "actors": actors,
        "cards": [content.cards[c] for c in index.explainer_cards[explainer.slug]],
        "sources": index.explainer_sources[explainer.slug],
        "related": [content.explainers[s] for s in index.related[explainer.slug]],
        "jsonld": {
            "@context": "https://schema.org", "@type": "NewsArticle",
            "headline": explainer.title, "description": explainer.dek,
            "datePublished": explainer.published.isoformat(), "dateModified": explainer.modified.isoformat(),
            "author": [{"@type": "Person", "name": n} for n in explainer.authors],
            "mainEntityOfPage": urls.absolute(url), "url": urls.absolute(url),
            "about": [actor_id(a) for a in about],
            "mentions": [actor_id(a.slug) for a in actors if a.slug not in about],
            "publisher": {"@type": "Organization", "name": content.site.title},
            "inLanguage": content.site.language,
        },
    }, url)


def _actor_page(actor: Actor, content: Content, index: Index, bodies: dict[tuple[str, str], Rendered],
                urls: Urls, net: graph.Network, when: dict[str, int]) -> Page:
    url = urls.path("actor", actor.slug)
    # its dated cards in timeline order: a sort of its own cards, not a scan of the whole timeline per actor
    dated = [content.cards[c] for c in sorted((c for c in index.actor_cards.get(actor.slug, []) if c in when),
                                              key=when.__getitem__)]
    ties = net.ties(actor.slug)
    mentions: dict[tuple[str, str], list] = defaultdict(list)
    for backlink in index.mentions.get(actor.slug, []):
        if backlink.slug != actor.slug or backlink.kind != "actor":  # not its own profile naming it
            mentions[backlink.kind, backlink.slug].append(backlink.mention)
    item_of = {"explainer": content.explainers, "card": content.cards, "actor": content.actors}
    jsonld = {"@context": "https://schema.org", "@type": JSONLD_TYPES[actor.kind],
              "@id": urls.absolute(url) + "#actor", "name": actor.name, "url": urls.absolute(url)}
    if actor.role:
        jsonld["description"] = actor.role
    if actor.aliases:
        jsonld["alternateName"] = [a.text for a in actor.aliases]
    if actor.wikidata:
        jsonld["sameAs"] = f"https://www.wikidata.org/wiki/{actor.wikidata}"
    return Page(f"actors/{actor.slug}/index.html", "actor.html", {
        "actor": actor,
        "body": bodies[("actor", actor.slug)].html,
        "relations": [(content.actors[s], label, content.actors[o]) for s, label, o in index.relations.get(actor.slug, [])],
        "positions": [(content.explainers[e], p) for e, p in index.positions.get(actor.slug, [])],
        "mentions": [(kind, item_of[kind][slug], found) for (kind, slug), found in mentions.items()],
        "explainers": [content.explainers[e] for e in index.actor_explainers.get(actor.slug, [])],
        "cards": dated,
        "drawing": draw_cards_timeline(dated, f"Timeline of fact cards naming {actor.name}"),
        "ties": [(content.actors[e.other(actor.slug)], e) for e in ties],
        "neighbourhood": graph.draw_neighbourhood(
            net, actor.slug, f"{actor.name} and the actors it is tied to",
            f"{actor.name} in the middle, linked to the actors it has a stated relation with (solid lines) "
            "or is named together with in fact cards and sentences (dashed lines). Each actor links to its page; "
            "the list below says how each one is tied."),
        "undated_cards": [content.cards[c] for c in index.actor_cards.get(actor.slug, []) if not content.cards[c].date],
        "jsonld": jsonld,
    }, url)


def _actors_by_kind(content: Content) -> list[tuple[str, list[Actor]]]:
    groups = []
    for kind, title in (("person", "People"), ("country", "Countries"), ("organization", "Organisations"), ("group", "Groups")):
        members = sorted((a for a in content.actors.values() if a.kind == kind), key=lambda a: (a.name, a.slug))
        if members:
            groups.append((title, members))
    return groups


def _jsonld_card(card: Card, claim: str, actors: list[str], urls: Urls) -> dict[str, Any]:
    """`claim` is the claim as rendered: its text is what a reader sees, not its Markdown."""
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Claim", "name": card.title,
                            "text": Markup(claim).striptags(), "url": urls.absolute(urls.path("card", card.slug))}
    if card.date:
        data["dateCreated"] = card.date.iso
    if actors:
        data["about"] = [{"@id": urls.absolute(urls.path("actor", a)) + "#actor"} for a in actors]
    data["appearance"] = [{"@type": "CreativeWork", "name": s.name, **({"url": s.url} if s.url else {}),
                           **({"datePublished": s.date.iso} if s.date else {})}
                          for s in card.sources]
    return data


def actor_network(content: Content, index: Index, bodies: dict[tuple[str, str], Rendered], urls: Urls) -> graph.Network:
    """Actors tied by their relations and by being named together (in a card, or in one sentence)."""
    nodes = [graph.Node(a.slug, a.name, urls.path("actor", a.slug), a.kind) for a in content.actors.values()]
    relations = [(actor.slug, r.label, r.actor.slug) for actor in content.actors.values() for r in actor.relations]
    sources: dict[tuple, Any] = {(CARD_ACTORS, slug): actors for slug, actors in index.card_actors.items()}
    sources.update(bodies)
    return _NETWORKS.network(nodes, relations, sources, _groups)


CARD_ACTORS = "card's actors"  # a source of the network: the actors a card names (the others are bodies)


def _groups(key: tuple[str, str], source: Any) -> list[Collection[str]]:
    """The groups of actors a source of the network names together."""
    return [source] if key[0] == CARD_ACTORS else _named_together(source, *key)


def _named_together(rendered: Rendered, kind: str, slug: str) -> list[set[str]]:
    """The actors each sentence of a body names together; a profile ties its actor to those it names."""
    sentences: dict[str, set[str]] = defaultdict(set)
    for mention in rendered.mentions:
        group = sentences[mention.sentence]
        group.add(mention.actor)
        if kind == "actor":
            group.add(slug)
    return [group for group in sentences.values() if len(group) > 1]  # one actor ties nothing


_NETWORKS = graph.Networks()  # the actor network, counted again only where its sources changed (serve)


def draw_cards_timeline(cards: list[Card], title: str) -> str:
    """Dated cards as a drawn line; dot N links to item N of the page's list (id tl-N)."""
    moments = [graph.Moment(*_day_and_label(c.date), c.title, f"#tl-{n}") for n, c in enumerate(cards, start=1)]
    desc = (f"{len(cards)} dated fact cards, oldest first, as numbered dots on a line; "
            "a long gap is shortened and marked with a break. Each number matches the list that follows.")
    return graph.draw_timeline(moments, title, desc)


@functools.lru_cache(maxsize=4096)  # a card is on the timeline and on each of its actors' pages; dates repeat
def _day_and_label(date: PartialDate) -> tuple[int, int, str]:
    """A date as a timeline moment places it: (ordinal day, year, label)."""
    return _first_day(date).toordinal(), date.year, _human(date)


def _first_day(date: PartialDate) -> dt.date:
    return dt.date(date.year, date.month or 1, date.day or 1)


def _human(date: PartialDate) -> str:
    if not date.month:
        return str(date.year)
    day = _first_day(date)
    return f"{date.day} {day.strftime('%B %Y')}" if date.day else day.strftime("%B %Y")


def _jsonld_site(site, urls: Urls) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "WebSite", "name": site.title, "url": site.base_url}


def _jsonld_collection(name: str, url: str) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "CollectionPage", "name": name, "url": url}
