"""Every page of the site as a plan: where it goes, which layout, what it shows.

Pure: (content, index) in, pages out. URLs are paths under base_url's path, so
the site works wherever that path is served.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import graph
from .index import Index
from .markup import Rendered, Target
from .model import Actor, Card, Content, Explainer, PartialDate

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
    for kind, items, label in (("explainer", content.explainers, "title"), ("actor", content.actors, "name"),
                               ("card", content.cards, "title")):
        for slug, item in items.items():
            table[slug] = Target(urls.path(kind, slug), getattr(item, label), kind)
    return table


def names(content: Content) -> dict[str, str]:
    """Every actor name and alias, to the actor's slug."""
    table = {}
    for actor in content.actors.values():
        table[actor.name] = actor.slug
        for alias in actor.aliases:
            table[alias.text] = actor.slug
    return table


def plan(content: Content, index: Index, bodies: dict[tuple[str, str], Rendered], urls: Urls) -> list[Page]:
    """All pages, in a fixed order."""
    site = content.site
    graph.next_generation()  # drawings the last build made and this one does not draw again are let go
    net = actor_network(content, index, urls)
    pages = [Page("index.html", "home.html", {
        "explainers": [content.explainers[s] for s in index.explainers_by_date],
        "actors_of": {s: [content.actors[a] for a in index.explainer_actors[s]] for s in content.explainers},
        "jsonld": _jsonld_site(site, urls),
    }, urls.base_path)]
    for slug in index.explainers_by_date:
        pages.append(_explainer_page(content.explainers[slug], content, index, bodies, urls))
    pages.append(Page("actors/index.html", "actors.html", {
        "groups": _actors_by_kind(content),
        "network": graph.draw_network(
            net, "Network of actors",
            "Each dot is an actor and links to its page. A solid line joins two actors with a stated "
            "relation; a dashed line joins actors named together in a fact card or a sentence; thicker "
            "lines mean more ties. The list below names every actor."),
        "jsonld": _jsonld_collection("Actors", urls.absolute(urls.path("actor"))),
    }, urls.path("actor")))
    when = {slug: n for n, slug in enumerate(index.timeline)}  # each dated card's place on the timeline
    for actor in content.actors.values():
        pages.append(_actor_page(actor, content, index, bodies, urls, net, when))
    for card in content.cards.values():
        pages.append(Page(f"cards/{card.slug}/index.html", "card.html", {
            "card": card,
            "claim": bodies[("card", card.slug)].html,
            "embedded_in": [content.explainers[s] for s in index.embedded_in.get(card.slug, [])],
            "actors": [content.actors[a] for a in index.card_actors[card.slug]],
            "jsonld": _jsonld_card(card, index.card_actors[card.slug], urls),
        }, urls.path("card", card.slug)))
    pages.append(Page("timeline/index.html", "timeline.html", {
        "cards": [content.cards[s] for s in index.timeline],
        "claims": {s: bodies[("card", s)].html for s in index.timeline},
        "drawing": draw_cards_timeline([content.cards[s] for s in index.timeline], "Timeline of dated fact cards"),
        "jsonld": _jsonld_collection("Timeline", urls.absolute(urls.path("timeline"))),
    }, urls.path("timeline")))
    pages.append(Page("search/index.html", "search.html", {
        "jsonld": _jsonld_collection("Search", urls.absolute(urls.path("search"))),
    }, urls.path("search"), in_sitemap=False))
    pages.append(Page("404.html", "404.html", {"jsonld": _jsonld_site(site, urls)},
                      urls.base_path + "404.html", in_sitemap=False))
    html_pages = [p for p in pages if p.in_sitemap]
    pages.append(Page("feed.xml", "feed.xml", {
        "explainers": [content.explainers[s] for s in index.explainers_by_date],
        "updated": max((e.modified for e in content.explainers.values()), default=dt.date(1970, 1, 1)),
    }))
    pages.append(Page("sitemap.xml", "sitemap.xml", {"pages": html_pages}))
    pages.append(Page("robots.txt", "robots.txt", {}))
    return pages


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
        "words": _words(explainer.body.text),
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


@functools.lru_cache(maxsize=65_536)  # a text unchanged since the last build is the same object: its hash is kept
def _words(text: str) -> int:
    return len(text.split())


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
        "positions": [(content.explainers[e], p) for e, p in index.positions.get(actor.slug, [])
                      if e in content.explainers],
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


def _jsonld_card(card: Card, actors: list[str], urls: Urls) -> dict[str, Any]:
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Claim", "name": card.title,
                            "text": card.claim.text, "url": urls.absolute(urls.path("card", card.slug))}
    if card.date:
        data["dateCreated"] = card.date.iso
    if actors:
        data["about"] = [{"@id": urls.absolute(urls.path("actor", a)) + "#actor"} for a in actors]
    data["appearance"] = [{"@type": "CreativeWork", "name": s.name, **({"url": s.url} if s.url else {}),
                           **({"datePublished": s.date.iso} if s.date else {})}
                          for s in card.sources]
    return data


def actor_network(content: Content, index: Index, urls: Urls) -> graph.Network:
    """Actors tied by their relations and by being named together (in a card, or in one sentence)."""
    nodes = [graph.Node(a.slug, a.name, urls.path("actor", a.slug), a.kind) for a in content.actors.values()]
    relations = [(actor.slug, r.label, r.actor.slug) for actor in content.actors.values() for r in actor.relations]
    sentences: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # a set made only for a new sentence
    for slug, backlinks in index.mentions.items():
        for backlink in backlinks:
            group = sentences[backlink.kind, backlink.slug, backlink.mention.sentence]
            group.add(slug)
            if backlink.kind == "actor":
                group.add(backlink.slug)  # a profile ties its actor to those it names
    # unsorted: the network counts the groups, so their order does not matter (sorting them cost seconds)
    return graph.network(nodes, relations, [*index.card_actors.values(), *sentences.values()])


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
