"""Markdown bodies to HTML plus facts, each reused while what it was made from is unchanged.

Cards come first, since explainers embed them. A body's rendering depends on its text,
on the link table entries of the slugs it references or names, on the names and
aliases that occur in it, and on the cards it embeds (their claim and the attributes
the card partial read). The cache keeps, with each rendered body, exactly those;
a body whose inputs all match is not parsed again. Bodies with problems are never
kept, so their problems are reported again by every build.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import render, render_pool
from .cache import Store, key
from .deps import Fields, Reads, Recorder, digest
from .markup import REF, MarkdownRenderer, Rendered
from .model import Body, Content
from .output import checksum
from .pages import Urls, names, targets
from .problems import Problem, Problems
from .reuse import ByIdentity

OPTIONS = {"card": {"allow_embeds": False, "inline": True}, "explainer": {"autolink": True}, "actor": {}}


@dataclass
class BodyEntry:
    rendered: Rendered
    targets: dict[str, tuple | None]  # every slug it references or names -> its link-table entry (url, label, kind)
    embeds: dict[str, bytes]  # card slug -> digest of the claim HTML it embedded
    reads: Reads  # what the card partial read of the embedded cards
    token: bytes = b""  # made anew whenever the body is rendered: the version of `rendered` (reuse.Record)
    said: dict[str, bytes | None] | None = None  # actor -> digest of its mentions and positions here (reuse.tokens)


class BodyRenderer:
    """Renders the bodies of one build, reusing the cache's entries that are still valid."""

    def __init__(self, content: Content, env, recorder: Recorder, urls: Urls, root: Path,
                 store: Store, fields: Fields, old_names: dict[str, str]):
        self.content, self.env, self.recorder, self.root = content, env, recorder, root
        self.store, self.fields = store, fields
        self.targets = targets(content, urls)
        self._entries = {slug: (t.url, t.label, t.kind) for slug, t in self.targets.items()}
        # The entries the last build in this process kept or made, and the slugs whose link-table
        # entry changed since: such an entry that names none of them still has its targets (serve).
        self._kept, self._relinked = _LAST.since(self._entries)
        self._reclaimed: set[str] | None = None  # cards whose claim may differ from the last build's (render_all)
        table = names(content)
        self.names = table
        self.renamed = sorted(n for n in old_names.keys() | table.keys() if old_names.get(n) != table.get(n))
        self.markdown = _RENDERER.get(table)
        self.bodies: dict[tuple[str, str], Rendered] = {}
        self.entries: dict[tuple[str, str], BodyEntry] = {}  # each body's, recalled or made
        self.used: set[bytes] = set()
        self.rendered = 0
        self.new_reads: list[Reads] = []  # of the bodies rendered (deps.Fields.table)
        self._claims: dict[str, bytes] = {}
        self._embedded: dict[str, tuple[str, Reads]] = {}  # card slug -> its partial's HTML and reads (_embed)
        self._task: tuple[Problems, dict[str, bytes]] | None = None

    def render_all(self, problems: Problems) -> dict[tuple[str, str], Rendered]:
        """Every body: the cards' claims first, then explainers and actors."""
        c = self.content
        _KEYS.next_round()
        self.markdown.targets, self.markdown.embed = self.targets, self._embed
        try:
            self._stage([("card", s, card.claim) for s, card in c.cards.items()], problems)
            self._reclaimed = _LAST.reclaimed(self.bodies)
            self._stage([("explainer", s, e.body) for s, e in c.explainers.items()]
                        + [("actor", s, a.body) for s, a in c.actors.items()], problems)
        finally:  # the renderer is kept for the next build: it holds nothing of this one
            self.markdown.targets, self.markdown.embed = {}, _no_embed
        _LAST.keep(self._entries, self.entries.values(), self.bodies)
        return {k: self.bodies[k] for k in sorted(self.bodies, key=_order)}

    def _stage(self, items: list[tuple[str, str, Body]], problems: Problems) -> None:
        todo = []
        for kind, slug, body in items:
            entry_key = _KEYS.get(body, (kind,), _entry_key)
            entry = self.store.get(entry_key)
            if entry is not None and self._valid(entry, body.text):
                self.bodies[(kind, slug)] = entry.rendered
                self.entries[(kind, slug)] = entry
                self.used.add(entry_key)
            else:
                todo.append((kind, slug, body, entry_key))
        results = render_pool.run(self._render, todo, cost=lambda task: 2_000 + len(task[2].text))
        self.rendered += len(todo)
        for (kind, slug, body, entry_key), (entry, found) in zip(todo, results):
            problems.extend(found)
            self.bodies[(kind, slug)] = entry.rendered
            self.entries[(kind, slug)] = entry
            if not found:
                self.store.put(entry_key, entry)
                self.used.add(entry_key)
                self.new_reads.append(entry.reads)

    def _valid(self, entry: BodyEntry, text: str) -> bool:
        """Whether a cached body would render the same today."""
        kept = self._kept.get(id(entry)) is entry  # it matched the last build's link table and claims
        if not kept or self._relinked and not self._relinked.isdisjoint(entry.targets):
            entries = self._entries
            for slug, target in entry.targets.items():
                if entries.get(slug) != target:
                    return False
        if not kept or self._reclaimed is None or not self._reclaimed.isdisjoint(entry.embeds):
            for slug, claim in entry.embeds.items():
                if self._claim(slug) != claim:
                    return False
        if entry.reads and self.fields.changed(entry.reads):
            return False
        return not any(name in text for name in self.renamed)

    def _claim(self, slug: str) -> bytes | None:
        if slug not in self._claims:
            rendered = self.bodies.get(("card", slug))
            self._claims[slug] = checksum(rendered.html.encode()) if rendered else None
        return self._claims[slug]

    def _render(self, tasks: list) -> list[tuple[BodyEntry, list[Problem]]]:
        """Render bodies (in this process or a worker); each with its dependencies and problems."""
        results = []
        for kind, slug, body, _ in tasks:
            found, embeds = Problems(), {}
            self._task = (found, embeds)
            self.recorder.start()
            try:
                rendered = self.markdown.render(body, found, **OPTIONS[kind])
            finally:
                reads = self.recorder.stop()
                self._task = None
            used = {m.group(1).strip() for m in REF.finditer(body.text)} | {m.actor for m in rendered.mentions}
            entry = BodyEntry(rendered, {s: self._entries.get(s) for s in sorted(used)}, embeds, reads, os.urandom(16),
                              _said(rendered))
            results.append((entry, found.items))
        return results

    def _embed(self, slug: str) -> str:
        """A card's partial, made once a build (the benchmark's cards are embedded three times on average),
        its reads noted by every body that embeds it. One with a layout error is made each time,
        so each body reports it."""
        problems, embeds = self._task
        claim = self.bodies[("card", slug)].html
        embeds[slug] = checksum(claim.encode())
        made = self._embedded.get(slug)
        if made is None:
            found = Problems()
            made = self.recorder.apart(lambda: render.render_partial(
                self.env, "partials/card.html", found, self.root, card=self.content.cards[slug], claim=claim,
                heading_level=3))
            problems.extend(found.items)
            if not found.items:
                self._embedded[slug] = made
        html, reads = made
        self.recorder.replay(reads)
        return html


class Renderers:
    """A Markdown renderer for the actors' names, made again only when they change: its name
    matcher and Markdown instance took 50 ms at 2,500 actors, and were each build's garbage,
    with the link table they held in a cycle (serve: 57,000 objects at 5,000 explainers for
    the collector to find). One for each thread that renders: a build's, a first look's."""

    def __init__(self) -> None:
        self._names: dict[str, str] | None = None
        self._renderer: MarkdownRenderer | None = None

    def get(self, names: dict[str, str]) -> MarkdownRenderer:
        if self._renderer is None or self._names != names:
            self._names, self._renderer = dict(names), MarkdownRenderer({}, names)
        return self._renderer


_RENDERER = Renderers()  # the builds' (one at a time, in one thread)


class LastTable:
    """The link table of the last build in this process, with the body entries it kept or made,
    and its bodies.

    Each of those entries matched that table, so it matches this build's unless it names a
    slug whose entry changed: at 5,000 explainers comparing every entry's targets, about twenty
    each, took 0.03-0.04 s of an edit in serve; a card's claim changes no entry. Likewise each
    embeds the claims of that build's cards, and a card whose body is the very same object has
    the same claim.
    """

    def __init__(self) -> None:
        self._table: dict[str, tuple] | None = None
        self._entries: dict[int, BodyEntry] = {}
        self._bodies: dict[tuple[str, str], Rendered] = {}

    def since(self, table: dict[str, tuple]) -> tuple[dict[int, BodyEntry], set[str]]:
        """The entries of the last build by id, and the slugs whose entry differs in `table`."""
        last = self._table
        if last is None:
            return {}, set()
        return self._entries, {slug for slug in last.keys() | table.keys() if last.get(slug) != table.get(slug)}

    def reclaimed(self, bodies: dict[tuple[str, str], Rendered]) -> set[str]:
        """The cards whose claim, among `bodies`, is not the very body of the last build: an entry
        it kept or made embeds the others' claims as they still are (15,000 embeds at 5k)."""
        last = self._bodies
        return {slug for (kind, slug), rendered in bodies.items()
                if kind == "card" and last.get((kind, slug)) is not rendered}

    def keep(self, table: dict[str, tuple], entries, bodies: dict[tuple[str, str], Rendered]) -> None:
        self._table, self._entries, self._bodies = table, {id(entry): entry for entry in entries}, bodies


_LAST = LastTable()  # the builds' (one at a time, in one thread)


def _no_embed(slug: str) -> str:
    return ""


def _said(rendered: Rendered) -> dict[str, bytes | None]:
    """What a body says of each actor it names, as a digest of those mentions and positions."""
    said: dict[str, tuple[list, list]] = {}
    for mention in rendered.mentions:
        said.setdefault(mention.actor, ([], []))[0].append(mention)
    for position in rendered.positions:
        said.setdefault(position.actor, ([], []))[1].append(position)
    return {actor: digest(both) or os.urandom(16) for actor, both in said.items()}  # never None: None is "unsaid"


def _entry_key(body: Body, kind: str) -> bytes:
    return key(kind, body.text)


_KEYS = ByIdentity()  # each body's store key (a checksum of its text), while the body is the same object (serve)


def _order(body_key: tuple[str, str]) -> tuple[int, str]:
    return ({"card": 0, "explainer": 1, "actor": 2}[body_key[0]], body_key[1])
