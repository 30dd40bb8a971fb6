"""Every page of the site as a plan: where it goes, which layout, what it shows.

Pure: (content, index) in, pages out. URLs are paths under base_url's path, so
the site works wherever that path is served.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .index import Index
from .markup import Rendered, Target
from .model import Actor, Card, Content, Explainer

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
    pages = [Page("index.html", "home.html", {
        "explainers": [content.explainers[s] for s in index.explainers_by_date],
        "actors_of": {s: [content.actors[a] for a in index.explainer_actors[s]] for s in content.explainers},
        "jsonld": _jsonld_site(site, urls),
    }, urls.base_path)]
    for slug in index.explainers_by_date:
        pages.append(_explainer_page(content.explainers[slug], content, index, bodies, urls))
    pages.append(Page("actors/index.html", "actors.html", {
        "groups": _actors_by_kind(content),
        "jsonld": _jsonld_collection("Actors", urls.absolute(urls.path("actor"))),
    }, urls.path("actor")))
    for actor in content.actors.values():
        pages.append(_actor_page(actor, content, index, bodies, urls))
    for card in content.cards.values():
        pages.append(Page(f"cards/{card.slug}/index.html", "card.html", {
            "card": card,
            "claim": bodies[("card", card.slug)].html,
            "embedded_in": [content.explainers[s] for s in index.embedded_in.get(card.slug, [])],
            "actors": [content.actors[a] for a in index.card_actors[card.slug]],
            "jsonld": _jsonld_card(card, urls),
        }, urls.path("card", card.slug)))
    pages.append(Page("timeline/index.html", "timeline.html", {
        "cards": [content.cards[s] for s in index.timeline],
        "claims": {s: bodies[("card", s)].html for s in index.timeline},
        "jsonld": _jsonld_collection("Timeline", urls.absolute(urls.path("timeline"))),
    }, urls.path("timeline")))
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
            "about": [{"@id": urls.absolute(urls.path("actor", a.slug)) + "#actor"} for a in actors],
            "publisher": {"@type": "Organization", "name": content.site.title},
            "inLanguage": content.site.language,
        },
    }, url)


def _actor_page(actor: Actor, content: Content, index: Index,
                bodies: dict[tuple[str, str], Rendered], urls: Urls) -> Page:
    url = urls.path("actor", actor.slug)
    mentions: dict[tuple[str, str], list] = {}
    for backlink in index.mentions.get(actor.slug, []):
        if (backlink.kind, backlink.slug) != ("actor", actor.slug):
            mentions.setdefault((backlink.kind, backlink.slug), []).append(backlink.mention)
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
        "cards": [content.cards[c] for c in index.timeline if c in set(index.actor_cards.get(actor.slug, []))],
        "undated_cards": [content.cards[c] for c in index.actor_cards.get(actor.slug, []) if not content.cards[c].date],
        "jsonld": jsonld,
    }, url)


def _actors_by_kind(content: Content) -> list[tuple[str, list[Actor]]]:
    groups = []
    for kind, title in (("person", "People"), ("country", "Countries"), ("organization", "Organizations"), ("group", "Groups")):
        members = sorted((a for a in content.actors.values() if a.kind == kind), key=lambda a: (a.name, a.slug))
        if members:
            groups.append((title, members))
    return groups


def _jsonld_card(card: Card, urls: Urls) -> dict[str, Any]:
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Claim", "name": card.title,
                            "text": card.claim.text, "url": urls.absolute(urls.path("card", card.slug))}
    if card.date:
        data["dateCreated"] = card.date.iso
    data["appearance"] = [{"@type": "CreativeWork", "name": s.name, **({"url": s.url} if s.url else {})}
                          for s in card.sources]
    return data


def _jsonld_site(site, urls: Urls) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "WebSite", "name": site.title, "url": site.base_url}


def _jsonld_collection(name: str, url: str) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "CollectionPage", "name": name, "url": url}
