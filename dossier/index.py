"""The reference index: built once per build from the facts every body gave up.

Pages read from it; nothing here reads text again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from .markup import Mention, Position, Rendered
from .model import Content, Explainer, Source
from .reuse import ByIdentity


class Backlink(NamedTuple):
    """A mention of an actor, seen from the actor: where it is and what it says.

    A tuple: two builds' lists of them are compared (reuse.py), and tuples compare in C."""

    kind: str  # explainer, card or actor
    slug: str
    mention: Mention


@dataclass
class Index:
    mentions: dict[str, list[Backlink]] = field(default_factory=lambda: defaultdict(list))
    positions: dict[str, list[tuple[str, Position]]] = field(default_factory=lambda: defaultdict(list))
    relations: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    explainer_actors: dict[str, list[str]] = field(default_factory=dict)
    explainer_cards: dict[str, list[str]] = field(default_factory=dict)
    explainer_sources: dict[str, list[Source]] = field(default_factory=dict)
    related: dict[str, list[str]] = field(default_factory=dict)
    actor_explainers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    actor_cards: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    card_actors: dict[str, list[str]] = field(default_factory=dict)
    embedded_in: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    explainers_by_date: list[str] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)


def build_index(content: Content, bodies: dict[tuple[str, str], Rendered], last: Index | None = None) -> Index:
    """Invert what each body says into what each actor and card is part of.

    `last`, an index made before, lends its related explainers if they were made from the same facts.
    """
    index = Index()
    for memo in (_BACKLINKS, _CARDS, _EXPLAINERS):
        memo.next_round()
    for (kind, slug), rendered in sorted(bodies.items()):
        for actor, backlinks in _BACKLINKS.get(rendered, (kind, slug), _backlinks):
            index.mentions[actor] += backlinks
        for position in rendered.positions:
            index.positions[position.actor].append((slug, position))

    for actor in content.actors.values():
        for relation in actor.relations:
            triple = (actor.slug, relation.label, relation.actor.slug)
            index.relations[actor.slug].append(triple)
            index.relations[relation.actor.slug].append(triple)

    for card in content.cards.values():
        named = [ref.slug for ref in card.actors] + [m.actor for m in bodies[("card", card.slug)].mentions]
        index.card_actors[card.slug] = _unique(named)
        for actor in index.card_actors[card.slug]:
            index.actor_cards[actor].append(card.slug)

    for explainer in content.explainers.values():
        rendered = bodies[("explainer", explainer.slug)]
        cards = _CARDS.get(rendered, (), _cards)
        # what it gathers from itself and its cards, made again only if one of them is new (serve)
        made = _EXPLAINERS.get_all((explainer, rendered, *(content.cards[card] for card in cards),
                                    *(bodies[("card", card)] for card in cards)),
                                   lambda: _gathered(explainer, rendered, cards, content, index))
        cards, actors, sources = (list(found) for found in made)  # lists, as a recorded index holds them
        index.explainer_cards[explainer.slug] = cards
        for card in cards:
            index.embedded_in[card].append(explainer.slug)
        index.explainer_actors[explainer.slug] = actors
        for actor in actors:
            index.actor_explainers[actor].append(explainer.slug)
        index.explainer_sources[explainer.slug] = sources

    index.explainers_by_date = sorted(content.explainers,
                                      key=lambda s: (-content.explainers[s].published.toordinal(), s))
    rank = {slug: n for n, slug in enumerate(index.explainers_by_date)}  # newest first, then by slug
    if (last is not None and last.explainers_by_date == index.explainers_by_date
            and last.explainer_actors == index.explainer_actors):
        index.related = last.related  # a function of those two alone
    else:
        bits = {actor: _bits(rank[e] for e in explainers) for actor, explainers in index.actor_explainers.items()}
        for explainer in content.explainers:
            index.related[explainer] = _related(explainer, index, rank, bits)
    # by date (as its fields: PartialDate's own comparison is Python's, and 5,000 cards take 40 ms), title, slug
    index.timeline = [card.slug for card in sorted((c for c in content.cards.values() if c.date), key=_on_timeline)]
    for explainers in index.actor_explainers.values():
        explainers.sort(key=rank.__getitem__)
    return index


def _backlinks(rendered: Rendered, kind: str, slug: str) -> list[tuple[str, list[Backlink]]]:
    """A body's mentions as backlinks, by the actor named, each actor's in the body's order."""
    found: dict[str, list[Backlink]] = defaultdict(list)
    for mention in rendered.mentions:
        found[mention.actor].append(Backlink(kind, slug, mention))
    return list(found.items())


_BACKLINKS = ByIdentity()  # each body's backlinks, while the body is the very same object (serve)


def _cards(rendered: Rendered) -> tuple[str, ...]:
    """The cards a body embeds, each once, in order."""
    return tuple(_unique(slug for slug, _ in rendered.embeds))


def _gathered(explainer: Explainer, rendered: Rendered, cards: tuple[str, ...], content: Content,
              index: Index) -> tuple:
    """An explainer's cards, its actors (named in front matter, mentioned, or on its cards) and its cards' sources."""
    named = [ref.slug for ref in explainer.actors] + [m.actor for m in rendered.mentions]
    named += [actor for card in cards for actor in index.card_actors[card]]
    sources = (source for card in cards for source in content.cards[card].sources)
    return cards, tuple(_unique(named)), tuple(_unique(sources))


def _on_timeline(card) -> tuple:
    return card.date.year, card.date.month, card.date.day, card.title, card.slug


_CARDS = ByIdentity()  # each explainer body's cards (serve)
_EXPLAINERS = ByIdentity()  # each explainer's _gathered, while it, its body, its cards and theirs are the same (serve)


def _related(slug: str, index: Index, rank: dict[str, int], bits: dict[str, int], limit: int = 5) -> list[str]:
    """Other explainers sharing the most actors, then the newest (then by slug).

    Written for big sites, where a popular actor is in thousands of explainers: sets of
    explainers are bits of an int (bit n: the explainer of rank n, newest first), so that
    counting what they share is a few whole-int operations per actor, not a loop over them.
    """
    at_least = [-1]  # at_least[c]: the explainers sharing at least c of its actors (-1: all of them)
    for actor in index.explainer_actors[slug]:
        mask = bits[actor]
        at_least.append(0)
        for c in range(len(at_least) - 1, 0, -1):
            at_least[c] |= at_least[c - 1] & mask
    others = ~(1 << rank[slug])
    found: list[str] = []
    for c in range(len(at_least) - 1, 0, -1):  # most shared first; within a count, newest first
        exactly = at_least[c] & ~(at_least[c + 1] if c + 1 < len(at_least) else 0) & others
        while exactly and len(found) < limit:
            lowest = exactly & -exactly
            found.append(index.explainers_by_date[lowest.bit_length() - 1])
            exactly ^= lowest
    return found


def _bits(numbers) -> int:
    """An int with these bits set."""
    flags = 0
    for n in numbers:
        flags |= 1 << n
    return flags


def _unique(items) -> list:
    return list(dict.fromkeys(items))
