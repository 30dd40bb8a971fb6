"""The reference index: built once per build from the facts every body gave up.

Pages read from it; nothing here reads text again. A process that builds again and again
(serve) patches the last index where items and bodies changed (_Last) instead.
"""

from __future__ import annotations

import bisect
import dataclasses
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple

from .markup import Mention, Position, Rendered
from .model import Actor, Card, Content, Explainer, Source


class Backlink(NamedTuple):
    """A mention of an actor, seen from the actor: where it is and what it says.

    A tuple: two builds' lists of them are compared (reuse.py), and tuples compare in C."""

    kind: str  # explainer, card or actor
    slug: str
    mention: Mention


@dataclass
class Index:
    mentions: dict[str, list[Backlink]] = field(default_factory=lambda: defaultdict(list))
    positions: dict[str, list[tuple[str, Position]]] = field(default_factory=lambda: defaultdict(list))  # explainers'
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
    by_date = sorted(content.explainers, key=lambda s: (-content.explainers[s].published.toordinal(), s))
    rank = {slug: n for n, slug in enumerate(by_date)}  # newest first, then by slug
    given = _Given(dict(content.explainers), dict(content.cards), dict(content.actors), dict(bodies), by_date)
    index = _LAST.patched(given, content, rank) or _whole(content, bodies, rank)
    index.explainers_by_date = by_date
    if (last is not None and last.explainers_by_date == index.explainers_by_date
            and last.explainer_actors == index.explainer_actors):
        index.related = last.related  # a function of those two alone
    else:
        bits = {actor: _bits(rank[e] for e in explainers) for actor, explainers in index.actor_explainers.items()}
        index.related = {explainer: _related(explainer, index, rank, bits) for explainer in content.explainers}
    _LAST.keep(given, index)
    return index


def _whole(content: Content, bodies: dict[tuple[str, str], Rendered], rank: dict[str, int]) -> Index:
    """The index but for its explainers by date and related explainers, made from every body and item."""
    index = Index()
    for (kind, slug), rendered in sorted(bodies.items()):
        for actor, backlinks in _backlinks(rendered, kind, slug):
            index.mentions[actor] += backlinks
        if kind == "explainer":
            for actor, found in _positions(rendered, slug):
                index.positions[actor] += found
    index.relations = _relations(content)
    for card in content.cards.values():
        index.card_actors[card.slug] = _card_actors(card, bodies)
        for actor in index.card_actors[card.slug]:
            index.actor_cards[actor].append(card.slug)
    for explainer in content.explainers.values():
        cards, actors, sources = _gathered(explainer, bodies, content, index.card_actors)
        index.explainer_cards[explainer.slug] = cards
        for card in cards:
            index.embedded_in[card].append(explainer.slug)
        index.explainer_actors[explainer.slug] = actors
        for actor in actors:
            index.actor_explainers[actor].append(explainer.slug)
        index.explainer_sources[explainer.slug] = sources
    for explainers in index.actor_explainers.values():
        explainers.sort(key=rank.__getitem__)
    index.timeline = sorted((c.slug for c in content.cards.values() if c.date), key=_on_timeline(content))
    return index


class _Given(NamedTuple):
    """What build_index was given: copies of the dicts, holding the very items and bodies."""

    explainers: dict[str, Explainer]
    cards: dict[str, Card]
    actors: dict[str, Actor]
    bodies: dict[tuple[str, str], Rendered]
    by_date: list[str]


class _Last:
    """The last index this process made, and what it was made from.

    serve builds after every save, and a save changes a card or an explainer or two: the next
    index is this one with the entries that what changed is part of made again, and the rest
    shared with it. Items and bodies are compared by identity: a file read again, or a body
    rendered again, is a new object (cache.Memo, render_bodies). At 5,000 explainers, making
    the whole index took 0.16 s in serve, and patching it after a card's edit takes ms.
    """

    SHARE = 8  # patched while at most one item or body in SHARE is new; else made whole

    def __init__(self) -> None:
        self.given: _Given | None = None
        self.index: Index | None = None

    def keep(self, given: _Given, index: Index) -> None:
        self.given, self.index = given, index

    def patched(self, given: _Given, content: Content, rank: dict[str, int]) -> Index | None:
        """The last index, patched for what changed since; None if an item was added or removed,
        the explainers' order by date changed, or much changed."""
        old, last = self.given, self.index
        if (old is None or last is None or old.by_date != given.by_date or old.bodies.keys() != given.bodies.keys()
                or old.cards.keys() != given.cards.keys() or old.actors.keys() != given.actors.keys()):
            return None
        bodies = [key for key, rendered in given.bodies.items() if old.bodies[key] is not rendered]
        new_cards = _new(old.cards, given.cards)
        cards = new_cards | {slug for kind, slug in bodies if kind == "card"}
        explainers = _new(old.explainers, given.explainers) | {slug for kind, slug in bodies if kind == "explainer"}
        actors = _new(old.actors, given.actors)
        if (len(bodies) + len(cards) + len(explainers) + len(actors)) * self.SHARE > len(given.bodies):
            return None
        index = dataclasses.replace(last)
        bodies.sort()
        index.mentions = _patch(last.mentions, set(bodies), _of(old.bodies[key].mentions for key in bodies),
                                [found for key in bodies for found in _backlinks(given.bodies[key], *key)],
                                lambda backlink: (backlink.kind, backlink.slug))
        said = [slug for kind, slug in bodies if kind == "explainer"]
        index.positions = _patch(last.positions, set(said), _of(old.bodies[("explainer", e)].positions for e in said),
                                 [found for e in said for found in _positions(given.bodies[("explainer", e)], e)],
                                 operator.itemgetter(0))
        if actors:
            index.relations = _relations(content)
        cards_in_order = [slug for slug in given.cards if slug in cards]
        index.card_actors = dict(last.card_actors)
        for card in cards_in_order:
            index.card_actors[card] = _card_actors(given.cards[card], given.bodies)
        place = {slug: n for n, slug in enumerate(given.cards)}.__getitem__
        index.actor_cards = _patch(last.actor_cards, cards,
                                   (actor for card in cards for actor in last.card_actors[card]),
                                   [(actor, [card]) for card in cards_in_order for actor in index.card_actors[card]],
                                   _itself, place)
        regathered = explainers | {e for card in cards for e in last.embedded_in.get(card, ())}
        regathered_in_order = [slug for slug in given.explainers if slug in regathered]
        for table in ("explainer_cards", "explainer_actors", "explainer_sources"):
            setattr(index, table, dict(getattr(last, table)))
        for slug in regathered_in_order:
            gathered = _gathered(given.explainers[slug], given.bodies, content, index.card_actors)
            index.explainer_cards[slug], index.explainer_actors[slug], index.explainer_sources[slug] = gathered
        place = {slug: n for n, slug in enumerate(given.explainers)}.__getitem__
        index.embedded_in = _patch(last.embedded_in, regathered,
                                   (card for e in regathered for card in last.explainer_cards[e]),
                                   [(card, [e]) for e in regathered_in_order for card in index.explainer_cards[e]],
                                   _itself, place)
        index.actor_explainers = _patch(last.actor_explainers, regathered,
                                        (actor for e in regathered for actor in last.explainer_actors[e]),
                                        [(actor, [e]) for e in regathered_in_order
                                         for actor in index.explainer_actors[e]], _itself, rank.__getitem__)
        if new_cards:  # the others where they were, the new versions put in their places
            index.timeline = [slug for slug in last.timeline if slug not in new_cards]
            on_timeline = _on_timeline(content)
            for slug in sorted(new_cards):
                if given.cards[slug].date:
                    bisect.insort(index.timeline, slug, key=on_timeline)
        return index


_LAST = _Last()


def _new(before: dict[str, object], now: dict[str, object]) -> set[str]:
    """The keys whose items are new objects (both dicts have the same keys)."""
    return {key for key, item in now.items() if before[key] is not item}


def _of(groups) -> list[str]:
    """The actors that lists of mentions or positions name."""
    return [found.actor for group in groups for found in group]


def _itself(entry: str) -> str:
    return entry


def _patch(table: dict[str, list], sources: set, held: Iterable[str], added: list[tuple[str, list]],
           source_of: Callable[[Any], Any], order: Callable[[Any], Any] = _itself) -> defaultdict[str, list]:
    """An inverted table (actor -> what names it, in the order of what it is named in) with the
    entries from `sources` taken out of the lists that `held` them, and those `added` put in.

    Each list is kept in the order its entries' sources have by `order`, and a source's entries
    in the order they were given: the untouched entries are in order, so a stable sort puts
    the added ones in their places. The lists of the other actors are the last table's own.
    """
    patched = defaultdict(list, table)
    adding: dict[str, list] = defaultdict(list)
    for target, entries in added:
        adding[target] += entries
    for target in sorted(set(held) | adding.keys()):
        entries = [entry for entry in table.get(target, ()) if source_of(entry) not in sources] + adding[target]
        entries.sort(key=lambda entry: order(source_of(entry)))
        if entries:
            patched[target] = entries
        else:
            patched.pop(target, None)
    return patched


def _backlinks(rendered: Rendered, kind: str, slug: str) -> list[tuple[str, list[Backlink]]]:
    """A body's mentions as backlinks, by the actor named, each actor's in the body's order."""
    found: dict[str, list[Backlink]] = defaultdict(list)
    for mention in rendered.mentions:
        found[mention.actor].append(Backlink(kind, slug, mention))
    return list(found.items())


def _positions(rendered: Rendered, slug: str) -> list[tuple[str, list[tuple[str, Position]]]]:
    """An explainer body's positions, by the actor whose they are, in the body's order."""
    found: dict[str, list[tuple[str, Position]]] = defaultdict(list)
    for position in rendered.positions:
        found[position.actor].append((slug, position))
    return list(found.items())


def _relations(content: Content) -> defaultdict[str, list[tuple[str, str, str]]]:
    """Each actor's stated relations, those it states and those stated of it."""
    relations: defaultdict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for actor in content.actors.values():
        for relation in actor.relations:
            triple = (actor.slug, relation.label, relation.actor.slug)
            relations[actor.slug].append(triple)
            relations[relation.actor.slug].append(triple)
    return relations


def _card_actors(card: Card, bodies: dict[tuple[str, str], Rendered]) -> list[str]:
    """The actors a card names in its front matter, then those its claim mentions."""
    return _unique([ref.slug for ref in card.actors] + [m.actor for m in bodies[("card", card.slug)].mentions])


def _gathered(explainer: Explainer, bodies: dict[tuple[str, str], Rendered], content: Content,
              card_actors: dict[str, list[str]]) -> tuple[list[str], list[str], list[Source]]:
    """An explainer's cards, its actors (named in front matter, mentioned, or on its cards) and its cards' sources."""
    rendered = bodies[("explainer", explainer.slug)]
    cards = _unique(slug for slug, _ in rendered.embeds)
    named = [ref.slug for ref in explainer.actors] + [m.actor for m in rendered.mentions]
    named += [actor for card in cards for actor in card_actors[card]]
    return cards, _unique(named), _unique(source for card in cards for source in content.cards[card].sources)


def _on_timeline(content: Content) -> Callable[[str], tuple]:
    """A card's place on the timeline: by date (as its fields: PartialDate's own comparison is
    Python's, and 5,000 cards took 40 ms), title and slug."""

    def place(slug: str) -> tuple:
        card = content.cards[slug]
        return card.date.year, card.date.month, card.date.day, card.title, card.slug

    return place


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
