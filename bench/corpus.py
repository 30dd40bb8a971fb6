"""Deterministic benchmark corpus: one seed and one size give the same bytes, every time.

The corpus is generated once, in memory, as plain records (actors, cards, explainers whose
bodies use our Markdown dialect), then written out four ways from that same text:

  ours/      content/site.yml, content/explainers/*.md, content/actors/*.md, content/cards/*.yml
  hugo/      hugo.toml, content/{explainers,actors,cards}/*.md, layouts/
  pelican/   pelicanconf.py, content/explainers/*.md (articles), content/pages/... , theme/
  mkdocs/    mkdocs.yml, docs/{explainers,actors,cards}/*.md, theme/

For the peers, `[[slug]]` references become plain Markdown links, a `![[card]]` embed becomes
a block quote holding the card's figure, claim, date, status and source, and actor and card
pages are ordinary Markdown pages. Plain-text mentions of actors stay plain text.

Only the standard library is used, so the corpus can be made by any Python 3.11.

    python bench/corpus.py --explainers 100 --seed 1 --out bench/work/try
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

GENERATOR_VERSION = 1  # bump when the output format changes on purpose
WORDS_PER_EXPLAINER = 1200
SITE_TITLE = "Benchmark Briefs"
BASE_URL = "https://example.org/"

# --------------------------------------------------------------------------------------
# Word banks. Actor names are made-up words checked against these, so ordinary prose never
# mentions an actor by accident.

GENERIC_SUBJECTS = [
    "officials", "analysts", "diplomats", "the ministry", "negotiators", "observers",
    "the central bank", "regional governments", "lawmakers", "the committee",
    "independent monitors", "aid agencies", "investors", "military planners",
    "the opposition", "local reporters", "trade groups", "security services",
    "economists", "the delegation", "senior advisers", "border guards", "the courts",
    "energy traders", "shipping firms", "human rights groups", "former ambassadors",
]
SAY_VERBS = [
    "said", "warned", "argued", "acknowledged", "insisted", "suggested", "claimed",
    "reported", "noted", "conceded", "signalled", "predicted", "complained", "hinted",
]
ACT_VERBS = [
    "would expand", "had delayed", "could restore", "might limit", "was preparing",
    "has rejected", "will review", "plans to extend", "is unlikely to renew",
    "intends to fund", "quietly supported", "openly opposed", "agreed to resume",
    "refused to discuss", "is still negotiating", "has promised", "was forced to cut",
    "moved to block", "helped to finance", "struggled to enforce",
]
ADJECTIVES = [
    "new", "long-range", "regional", "economic", "bilateral", "temporary", "formal",
    "limited", "secret", "public", "annual", "military", "humanitarian", "nuclear",
    "commercial", "fragile", "ambitious", "costly", "informal", "disputed", "delayed",
    "expanded", "emergency", "cross-border", "multiyear", "provisional",
]
NOUNS = [
    "agreement", "sanctions", "shipments", "talks", "pipeline", "exercises", "loans",
    "tariffs", "ceasefire", "inspections", "deliveries", "investments", "elections",
    "reforms", "subsidies", "patrols", "negotiations", "exports", "guarantees", "funding",
    "railway", "port", "grain corridor", "power grid", "debt relief", "arms deliveries",
    "refugee quotas", "fishing rights", "satellite launches", "visa rules",
]
TAILS = [
    "before the end of the year", "despite mounting pressure", "in exchange for technical support",
    "according to people familiar with the matter", "as early as next month",
    "after weeks of speculation", "without consulting its partners", "for the first time since {year}",
    "while markets watched nervously", "under the terms of the {year} accord",
    "at a closed-door meeting", "in a statement released late on Tuesday",
    "even as talks stalled", "once the winter ends", "if the vote goes ahead",
    "as satellite images suggested", "amid a slowing economy", "after the {year} elections",
]
LINKERS = [
    "remains a central concern for", "has become a bargaining chip for", "is a quiet test for",
    "was welcomed by", "has alarmed", "puts new pressure on", "matters most to",
    "has divided", "was criticised by", "offers an opening to",
]
CONNECTIVES = [
    "Still,", "Even so,", "At the same time,", "For now,", "In practice,", "Privately,",
    "By contrast,", "Until recently,", "Meanwhile,", "Crucially,",
]
QUANTITIES = ["about {n} million", "nearly {n} billion dollars", "{n} percent", "roughly {n},000",
              "more than {n} million", "at least {n}", "some {n} tonnes"]
EXTRA_SECTIONS = [
    "How we got here", "The numbers behind it", "What happens next", "What to watch",
    "The view from the region", "Key dates", "Who pays the price", "The legal questions",
    "What could go wrong", "The money trail",
]
TITLE_PATTERNS = [
    "Why {a} is betting on {adj} {noun}",
    "What the {adj} {noun} means for {a}",
    "{a} and {b}: the {adj} {noun}, explained",
    "How {a} turned {noun} into leverage",
    "The fight over {adj} {noun} between {a} and {b}",
    "Can {a} keep its {adj} {noun} on track?",
    "Inside the {adj} {noun} that {a} wants",
]
DEK_PATTERNS = [
    "{A} and {B} are closer than they have been in years, and the {adj} {noun} shows why.",
    "A {adj} deal over {noun} could reshape the balance between {A} and {B}.",
    "What {A} wants, what {B} fears, and why the {noun} matters now.",
    "The {adj} {noun} is small on paper but large in what it signals about {A}.",
]
ROLES = {
    "person": ["Foreign Minister of {c}", "President of {c}", "Defence Minister of {c}",
               "Central bank governor of {c}", "Opposition leader in {c}", "Envoy of {c}",
               "Prime Minister of {c}", "Trade negotiator for {c}"],
    "country": ["Republic on the {r} coast", "Landlocked state in the {r}", "Island nation in the {r}",
                "Federal state in the {r}"],
    "organization": ["Regional body based in {c}", "State-owned company of {c}",
                     "Intergovernmental agency", "Industry association headquartered in {c}"],
    "group": ["Armed movement active in {c}", "Protest movement in {c}",
              "Coalition of opposition parties in {c}", "Militia operating near the {c} border"],
}
REGIONS = ["Northern Sea", "Eastern Steppe", "Southern Gulf", "Western Highlands", "Inner Basin"]
ORG_NOUNS = ["Energy Agency", "Trade Council", "Development Bank", "Security Forum",
             "Shipping Authority", "Water Commission", "Mining Corporation", "Rail Company"]
GROUP_NOUNS = ["Front", "Movement", "Brigade", "Alliance", "Assembly", "Guard"]
FIRST_NAMES = [
    "Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hassan", "Ines", "Jonas",
    "Kira", "Lucas", "Mira", "Nikolai", "Olga", "Pavel", "Rosa", "Samir", "Tamara", "Ulrich",
    "Vera", "Yusuf", "Zofia", "Amir", "Bianca", "Cyrus", "Dalia", "Emil", "Freya", "Goran",
]
AUTHORS = [
    "Ana Ruiz", "Ben Okafor", "Chen Wei", "Dana Levy", "Emre Kaya", "Fiona Byrne",
    "Gita Rao", "Hugo Lindqvist", "Ivana Petrova", "Jamal Reed", "Keiko Sato", "Luis Moreno",
]
OUTLETS = ["Northern Wire", "The Harbor Times", "Daily Ledger", "Continental Review",
           "Meridian News", "The Steppe Observer", "Gulf Monitor", "Capital Dispatch"]
RELATION_LABELS = ["allied with", "funds", "opposes", "negotiates with", "member of",
                   "borders", "rivals", "supplies", "advises"]
STATUSES = ["confirmed"] * 4 + ["reported"] * 4 + ["claimed"] * 2 + ["disputed"]
FIGURE_AMOUNTS = ["about {n} million", "{n},000", "nearly {n} million", "more than {n},000",
                  "almost {n} billion"]
FIGURE_NOUNS = ["artillery shells", "barrels a day", "tonnes of grain", "workers", "troops",
                "dollars in loans", "households", "flights", "containers", "megawatts"]

ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
          "br", "dr", "gr", "kr", "pr", "tr", "st", "sk", "sh", "ch", "vl", "zh"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ei", "ou", "ia"]
CODAS = ["", "", "", "n", "r", "s", "l", "k", "m", "sk", "rn", "nt", "v"]
COUNTRY_ENDINGS = ["ia", "a", "an", "istan", "land", "", "ova"]

YAML_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}


def _bank_words() -> set[str]:
    text = " ".join(
        GENERIC_SUBJECTS + SAY_VERBS + ACT_VERBS + ADJECTIVES + NOUNS + TAILS + LINKERS
        + CONNECTIVES + QUANTITIES + EXTRA_SECTIONS + TITLE_PATTERNS + DEK_PATTERNS
        + REGIONS + ORG_NOUNS + GROUP_NOUNS + FIRST_NAMES + AUTHORS + OUTLETS
        + RELATION_LABELS + FIGURE_AMOUNTS + FIGURE_NOUNS
        + [r for rs in ROLES.values() for r in rs]
    )
    return {w.lower() for w in re.findall(r"[A-Za-z]+", text)} | YAML_RESERVED


# --------------------------------------------------------------------------------------
# The model


@dataclass
class Actor:
    slug: str
    name: str
    kind: str
    role: str
    aliases: list[str]
    relations: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""

    @property
    def forms(self) -> list[str]:
        return [self.name] + self.aliases


@dataclass
class Card:
    slug: str
    title: str
    claim: str
    figure: str
    date: str
    status: str
    actors: list[str]
    sources: list[tuple[str, str, str]]


@dataclass
class Explainer:
    slug: str
    title: str
    dek: str
    published: str
    updated: str
    authors: list[str]
    actors: list[str]
    body: str
    embeds: list[str] = field(default_factory=list)


@dataclass
class Corpus:
    seed: int
    explainers: list[Explainer]
    actors: list[Actor]
    cards: list[Card]
    edits: dict  # the one-file edits the benchmark applies, chosen here so they are deterministic

    def titles(self) -> dict[str, tuple[str, str]]:
        """slug -> (section, display text)."""
        out = {a.slug: ("actors", a.name) for a in self.actors}
        out.update({c.slug: ("cards", c.title) for c in self.cards})
        out.update({e.slug: ("explainers", e.title) for e in self.explainers})
        return out


# --------------------------------------------------------------------------------------
# Generation


def slugify(text: str) -> str:
    """Lower-case words joined by hyphens, as the content format wants."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


class Generator:
    """Draws everything from one random.Random(seed), in a fixed order."""

    def __init__(self, seed: int, n_explainers: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.n = n_explainers
        self.taken_words = _bank_words()
        self.taken_forms: set[str] = set()
        self.taken_slugs: set[str] = set()

    # ---- small helpers

    def pseudo_word(self) -> str:
        r = self.rng
        while True:
            syl = "".join(r.choice(ONSETS) + r.choice(VOWELS) for _ in range(r.choice((2, 2, 3))))
            word = (syl + r.choice(CODAS)).capitalize()
            if word.lower() not in self.taken_words and 4 <= len(word) <= 11:
                self.taken_words.add(word.lower())
                return word

    def unique_slug(self, text: str) -> str:
        base = slugify(text)[:60].strip("-") or "item"
        slug, k = base, 2
        while slug in self.taken_slugs:
            slug, k = f"{base}-{k}", k + 1
        self.taken_slugs.add(slug)
        return slug

    def claim_form(self, form: str) -> bool:
        if form in self.taken_forms:
            return False
        self.taken_forms.add(form)
        return True

    def day(self, start: int = 2012, years: int = 13) -> date:
        return date(start, 1, 1) + timedelta(days=self.rng.randrange(365 * years))

    def quantity(self) -> str:
        return self.rng.choice(QUANTITIES).format(n=self.rng.randint(2, 95))

    # ---- actors

    def make_actors(self, count: int) -> list[Actor]:
        r = self.rng
        kinds = r.choices(["person", "country", "organization", "group"], [45, 20, 25, 10], k=count)
        kinds[0] = "country"  # roles name a country, so there is always one
        actors: list[Actor] = []
        countries: list[str] = []
        for kind in kinds:
            while True:
                actor = self.make_actor(kind, countries)
                if actor:
                    break
            actors.append(actor)
            if kind == "country":
                countries.append(actor.name)
        # Relations: a few per actor, each unordered pair at most once.
        pairs: set[tuple[str, str]] = set()
        for i, actor in enumerate(actors):
            for _ in range(r.choice((0, 1, 1, 2, 3))):
                other = actors[r.randrange(count)]
                key = tuple(sorted((actor.slug, other.slug)))
                if other is actor or key in pairs:
                    continue
                pairs.add(key)
                actor.relations.append((other.slug, r.choice(RELATION_LABELS)))
        for actor in actors:
            actor.body = self.actor_body(actor, actors)
        return actors

    def make_actor(self, kind: str, countries: list[str]) -> Actor | None:
        r = self.rng
        country = r.choice(countries) if countries else "the region"
        aliases: list[str] = []
        if kind == "person":
            last = self.pseudo_word()
            name = f"{r.choice(FIRST_NAMES)} {last}"
            aliases = [f"{r.choice(('Mr.', 'Ms.', 'Dr.'))} {last}"]
            if r.random() < 0.5:
                aliases.append(last)
        elif kind == "country":
            stem = self.pseudo_word()
            name = stem + r.choice(COUNTRY_ENDINGS) if not stem.endswith(("a", "ia")) else stem
            capital = self.pseudo_word()
            aliases = [capital]
            demonym = name + ("n" if name.endswith("a") else "ian")
            if demonym.lower() not in self.taken_words:
                self.taken_words.add(demonym.lower())
                aliases.append(demonym)
        elif kind == "organization":
            stem = self.pseudo_word()
            name = f"{stem} {r.choice(ORG_NOUNS)}"
            acronym = "".join(w[0] for w in name.split()).upper()
            if acronym not in self.taken_forms and acronym.lower() not in self.taken_words:
                aliases.append(acronym)
            else:
                aliases.append(stem)
        else:
            stem = self.pseudo_word()
            name = f"{stem} {r.choice(GROUP_NOUNS)}"
            aliases = [f"{stem} fighters" if name.endswith(("Brigade", "Guard")) else f"{stem} activists"]
        forms = [name] + aliases
        if any(f in self.taken_forms for f in forms) or len(set(forms)) != len(forms):
            return None
        for f in forms:
            self.claim_form(f)
        slug = self.unique_slug(name)
        role = r.choice(ROLES[kind]).format(c=country, r=r.choice(REGIONS))
        return Actor(slug=slug, name=name, kind=kind, role=role, aliases=aliases)

    def actor_body(self, actor: Actor, actors: list[Actor]) -> str:
        r = self.rng
        paras = []
        for _ in range(r.choice((1, 2, 2, 3))):
            sents = []
            for _ in range(r.randint(2, 4)):
                subj = actor.name if r.random() < 0.5 else r.choice(actor.forms)
                if actor.relations and r.random() < 0.3:
                    obj = f"[[{r.choice(actor.relations)[0]}]]"
                else:
                    obj = r.choice(GENERIC_SUBJECTS)
                sents.append(
                    f"{subj} {r.choice(ACT_VERBS)} {r.choice(ADJECTIVES)} {r.choice(NOUNS)} "
                    f"with {obj} {self.tail()}."
                )
            paras.append(" ".join(sents))
        return "\n\n".join(paras) + "\n"

    def tail(self) -> str:
        return self.rng.choice(TAILS).format(year=self.rng.randint(1991, 2024))

    # ---- cards

    def make_card(self, actors: list[Actor], when: date) -> Card:
        r = self.rng
        lead = actors[0]
        noun = r.choice(FIGURE_NOUNS)
        figure = self.rng.choice(FIGURE_AMOUNTS).format(n=r.randint(2, 95)) + " " + noun
        title = f"{lead.name} {r.choice(NOUNS)} {when.year}"
        refs = " and ".join(f"[[{a.slug}]]" for a in actors[:2])
        claim = f"{refs} {r.choice(ACT_VERBS)} {figure} {self.tail()}."
        if r.random() < 0.4:
            claim += f" {r.choice(GENERIC_SUBJECTS).capitalize()} {r.choice(SAY_VERBS)} the figure."
        roll = r.random()
        if roll < 0.8:
            when_text = when.isoformat()
        elif roll < 0.93:
            when_text = when.isoformat()[:7]
        else:
            when_text = str(when.year)
        sources = []
        for _ in range(r.choice((1, 1, 2, 3))):
            outlet = r.choice(OUTLETS)
            src_day = when + timedelta(days=r.randint(0, 30))
            url = f"https://news.example.com/{src_day.year}/{slugify(outlet)}/{r.randrange(10**6)}"
            sources.append((outlet, url if r.random() < 0.9 else "",
                            src_day.isoformat() if r.random() < 0.7 else ""))
        return Card(slug=self.unique_slug(title), title=title, claim=claim, figure=figure,
                    date=when_text, status=r.choice(STATUSES),
                    actors=[a.slug for a in actors], sources=sources)

    # ---- explainers

    def explainer_body(self, actors: list[Actor], own_card: Card, other_cards: list[Card],
                       related: list[str], counts: dict[str, int]) -> str:
        """About WORDS_PER_EXPLAINER words of Markdown with refs, embeds, lists, a table, links."""
        r = self.rng
        ctx = _Context(self, actors, counts)
        target = int(WORDS_PER_EXPLAINER * r.uniform(0.9, 1.1))
        blocks: list[str] = [ctx.paragraph(), ctx.paragraph()]

        blocks.append("## Why it matters now")
        blocks.append(ctx.paragraph())
        blocks.append("\n".join(f"- {ctx.sentence(short=True)}" for _ in range(r.randint(3, 5))))
        blocks.append(f"![[{own_card.slug}]]")
        blocks.append(ctx.paragraph())

        blocks.append("## What each side wants")
        blocks.append(ctx.paragraph(sentences=2))
        for actor in actors[: r.randint(2, min(4, len(actors)))]:
            blocks.append(f"### [[{actor.slug}]]")
            blocks.append(ctx.paragraph(lead=actor))
            if r.random() < 0.4:
                blocks.append(ctx.paragraph(lead=actor))

        extra = r.sample(EXTRA_SECTIONS, 2)
        blocks.append(f"## {extra[0]}")
        blocks.append(ctx.paragraph())
        rows = ["| Year | Development | Figure |", "| --- | --- | --- |"]
        for _ in range(r.randint(3, 5)):
            who = r.choice(actors).name if r.random() < 0.5 else r.choice(GENERIC_SUBJECTS).capitalize()
            rows.append(f"| {r.randint(1995, 2024)} | {who} {r.choice(ACT_VERBS)} {r.choice(NOUNS)} "
                        f"| {self.quantity()} |")
        blocks.append("\n".join(rows))
        for card in other_cards:
            blocks.append(ctx.paragraph())
            blocks.append(f"![[{card.slug}]]")
        inline_card = other_cards[0] if other_cards else own_card
        blocks.append(ctx.paragraph() + f" The [[{inline_card.slug}|figures]] are contested.")

        blocks.append(f"## {extra[1]}")
        outlet = r.choice(OUTLETS)
        link = f"https://example.org/reports/{r.randint(2015, 2024)}/{r.randrange(10**6)}"
        blocks.append(ctx.paragraph() + f" A [{outlet} report]({link}) describes the background.")
        blocks.append("\n".join(f"{i}. {ctx.sentence(short=True)}" for i in range(1, r.randint(3, 5) + 1)))
        if related:
            blocks.append("See also " + " and ".join(f"[[{s}]]" for s in related) + ".")
        words = sum(len(b.split()) for b in blocks)
        while words < target:
            para = ctx.paragraph()
            blocks.append(para)
            words += len(para.split())
        return "\n\n".join(blocks) + "\n"

    def make_explainer(self, actors: list[Actor], own_card: Card, other_cards: list[Card],
                       related: list[str], counts: dict[str, int]) -> Explainer:
        r = self.rng
        a, b = actors[0], actors[1 % len(actors)]
        title = r.choice(TITLE_PATTERNS).format(a=a.name, b=b.name, adj=r.choice(ADJECTIVES),
                                                noun=r.choice(NOUNS))
        dek = r.choice(DEK_PATTERNS).format(A=a.name, B=b.name, adj=r.choice(ADJECTIVES),
                                            noun=r.choice(NOUNS))
        published = self.day(2016, 9)
        updated = published + timedelta(days=r.randint(1, 200)) if r.random() < 0.4 else None
        authors = r.sample(AUTHORS, r.choice((1, 1, 2)))
        body = self.explainer_body(actors, own_card, other_cards, related, counts)
        fm_actors = [x.slug for x in actors[: r.randint(1, len(actors))]]
        return Explainer(slug=self.unique_slug(title), title=title, dek=dek,
                         published=published.isoformat(),
                         updated=updated.isoformat() if updated else "",
                         authors=authors, actors=fm_actors, body=body,
                         embeds=[own_card.slug] + [c.slug for c in other_cards])


class _Context:
    """Sentence maker for one explainer: knows its actors and counts mentions."""

    def __init__(self, gen: Generator, actors: list[Actor], counts: dict[str, int]):
        self.gen, self.r, self.actors, self.counts = gen, gen.rng, actors, counts
        # The first actors are the leads: mentioned more often.
        self.weights = [1.0 / (i + 1) for i in range(len(actors))]

    def mention(self, actor: Actor | None = None) -> str:
        r = self.r
        actor = actor or r.choices(self.actors, self.weights)[0]
        roll = r.random()
        if roll < 0.15:
            return f"[[{actor.slug}]]"
        form = actor.name if roll < 0.5 or not actor.aliases else r.choice(actor.aliases)
        self.counts[form] = self.counts.get(form, 0) + 1
        return form

    def subject(self, lead: Actor | None = None) -> str:
        if lead is not None and self.r.random() < 0.5:
            return self.mention(lead)
        return self.mention() if self.r.random() < 0.35 else self.r.choice(GENERIC_SUBJECTS)

    def sentence(self, short: bool = False, lead: Actor | None = None) -> str:
        r = self.r
        obj = f"{r.choice(ADJECTIVES)} {r.choice(NOUNS)}"
        if short:
            s = f"{self.subject(lead)} {r.choice(ACT_VERBS)} {obj}"
            return s[0].upper() + s[1:] + "."
        kind = r.randrange(5)
        if kind == 0:
            s = f"{self.subject(lead)} {r.choice(SAY_VERBS)} that {self.subject()} {r.choice(ACT_VERBS)} {obj} {self.gen.tail()}"
        elif kind == 1:
            t = self.gen.tail()
            s = f"{t[0].upper() + t[1:]}, {self.subject(lead)} {r.choice(ACT_VERBS)} {obj}"
        elif kind == 2:
            s = f"The {obj} {r.choice(LINKERS)} {self.subject(lead)}, {r.choice(SAY_VERBS)} {r.choice(GENERIC_SUBJECTS)}"
        elif kind == 3:
            s = (f"{r.choice(CONNECTIVES)} {self.subject(lead)} {r.choice(ACT_VERBS)} "
                 f"{self.gen.quantity()} in {r.choice(NOUNS)} — a figure {r.choice(GENERIC_SUBJECTS)} "
                 f"{r.choice(SAY_VERBS)} was {r.choice(('too low', 'inflated', 'plausible', 'a record'))}")
        else:
            s = (f"{self.subject(lead)} {r.choice(ACT_VERBS)} {obj} with {self.subject()}, "
                 f"and {r.choice(GENERIC_SUBJECTS)} {r.choice(SAY_VERBS)} it would not last")
        return s[0].upper() + s[1:] + "."

    def paragraph(self, sentences: int | None = None, lead: Actor | None = None) -> str:
        n = sentences or self.r.randint(3, 6)
        return " ".join(self.sentence(lead=lead) for _ in range(n))


def generate(n_explainers: int, seed: int) -> Corpus:
    """The whole corpus for a size and a seed, in memory."""
    if n_explainers < 2:
        raise ValueError("need at least 2 explainers")
    gen = Generator(seed, n_explainers)
    r = gen.rng
    actors = gen.make_actors(max(4, n_explainers // 2))
    # Popularity: a few actors appear everywhere (Zipf-like), most rarely.
    cum, total = [], 0.0
    for i in range(len(actors)):
        total += 1.0 / (i + 1) ** 0.8
        cum.append(total)

    def pick_actors(k: int) -> list[Actor]:
        chosen: list[Actor] = []
        while len(chosen) < k:
            a = r.choices(actors, cum_weights=cum)[0]
            if a not in chosen:
                chosen.append(a)
        return chosen

    cast = [pick_actors(min(r.randint(3, 7), len(actors))) for _ in range(n_explainers)]
    cards = [gen.make_card(cast[i][: r.randint(1, 3)], gen.day()) for i in range(n_explainers)]
    counts: dict[str, int] = {}
    explainer_slugs: list[str] = []
    explainers = []
    for i in range(n_explainers):
        others = [cards[r.randrange(n_explainers)] for _ in range(r.randint(1, 3))]
        others = [c for j, c in enumerate(others) if c is not cards[i] and c not in others[:j]]
        related = [explainer_slugs[r.randrange(len(explainer_slugs))]] if explainer_slugs and r.random() < 0.7 else []
        e = gen.make_explainer(cast[i], cards[i], others, related, counts)
        explainers.append(e)
        explainer_slugs.append(e.slug)
    corpus = Corpus(seed=seed, explainers=explainers, actors=actors, cards=cards, edits={})
    corpus.edits = choose_edits(corpus, gen, counts)
    return corpus


def choose_edits(corpus: Corpus, gen: Generator, counts: dict[str, int]) -> dict:
    """One card claim, one explainer paragraph, one actor alias: old and new text of each file."""
    mid = len(corpus.explainers) // 2
    card = corpus.cards[mid]
    old_claim = f"claim: {q(card.claim)}"
    new_claim = f"claim: {q(card.claim + ' The figure was later revised.')}"

    expl = corpus.explainers[mid]
    paras = [p for p in expl.body.split("\n\n") if p and p[0].isalpha() and expl.body.count(p) == 1]
    para = paras[len(paras) // 2]

    # An actor whose alias is used in prose, at about the 90th percentile of popularity.
    aliased = sorted((a for a in corpus.actors if any(counts.get(x) for x in a.aliases)),
                     key=lambda a: (-sum(counts.get(x, 0) for x in a.aliases), a.slug))
    actor = aliased[len(aliased) // 10] if aliased else corpus.actors[0]
    alias = max(actor.aliases, key=lambda x: (counts.get(x, 0), x))
    new_alias = gen.pseudo_word()
    new_aliases = [new_alias if x == alias else x for x in actor.aliases]
    mentions = sum(1 for e in corpus.explainers if re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", e.body))
    return {
        "card": {"path": f"content/cards/{card.slug}.yml", "old": old_claim, "new": new_claim,
                 "what": f"claim of card {card.slug}"},
        "explainer": {"path": f"content/explainers/{expl.slug}.md", "old": para,
                      "new": para + " Officials declined to comment further.",
                      "what": f"one paragraph of explainer {expl.slug}"},
        "alias": {"path": f"content/actors/{actor.slug}.md",
                  "old": f"aliases: {ql(actor.aliases)}", "new": f"aliases: {ql(new_aliases)}",
                  "what": f"alias {alias!r} -> {new_alias!r} of actor {actor.slug} "
                          f"(used in {mentions} explainers)"},
    }


# --------------------------------------------------------------------------------------
# Writing: ours


def q(text: str) -> str:
    """A YAML double-quoted scalar (never read as a bool, number or date)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ql(items: list[str]) -> str:
    return "[" + ", ".join(q(x) for x in items) + "]"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_ours(corpus: Corpus, root: Path) -> None:
    c = root / "content"
    write(c / "site.yml", f"title: {q(SITE_TITLE)}\nbase_url: {q(BASE_URL)}\n"
          f"description: {q('Generated explainers for the speed benchmark.')}\nlanguage: en\n")
    for a in corpus.actors:
        lines = ["---", f"name: {q(a.name)}", f"kind: {a.kind}", f"role: {q(a.role)}"]
        if a.aliases:
            lines.append(f"aliases: {ql(a.aliases)}")
        if a.relations:
            lines.append("relations:")
            lines += [f"  - {{actor: {s}, label: {q(label)}}}" for s, label in a.relations]
        write(c / "actors" / f"{a.slug}.md", "\n".join(lines) + "\n---\n" + a.body)
    for k in corpus.cards:
        lines = [f"title: {q(k.title)}", f"claim: {q(k.claim)}", f"figure: {q(k.figure)}",
                 f"date: {k.date if len(k.date) == 10 else q(k.date)}", f"status: {k.status}",
                 f"actors: [{', '.join(k.actors)}]", "sources:"]
        for name, url, day in k.sources:
            lines.append(f"  - name: {q(name)}")
            if url:
                lines.append(f"    url: {q(url)}")
            if day:
                lines.append(f"    date: {day}")
        write(c / "cards" / f"{k.slug}.yml", "\n".join(lines) + "\n")
    for e in corpus.explainers:
        lines = ["---", f"title: {q(e.title)}", f"dek: {q(e.dek)}", f"published: {e.published}"]
        if e.updated:
            lines.append(f"updated: {e.updated}")
        lines.append(f"authors: {ql(e.authors)}")
        lines.append(f"actors: [{', '.join(e.actors)}]")
        write(c / "explainers" / f"{e.slug}.md", "\n".join(lines) + "\n---\n\n" + e.body)


# --------------------------------------------------------------------------------------
# Writing: the peers (plain Markdown pages, refs as links)

REF = re.compile(r"\[\[([a-z0-9-]+)(?:\|([^\]]+))?\]\]")
EMBED = re.compile(r"^!\[\[([a-z0-9-]+)\]\]$", re.M)


class PeerText:
    """Turns our dialect into plain Markdown, given how the peer spells a page's URL."""

    def __init__(self, corpus: Corpus, url):
        self.titles = corpus.titles()
        self.cards = {k.slug: k for k in corpus.cards}
        self.url = url  # (section, slug, from_section) -> href

    def links(self, text: str, here: str) -> str:
        def sub(m):
            section, title = self.titles[m.group(1)]
            return f"[{m.group(2) or title}]({self.url(section, m.group(1), here)})"
        return REF.sub(sub, text)

    def embed(self, slug: str, here: str) -> str:
        k = self.cards[slug]
        src = k.sources[0]
        src_text = f"[{src[0]}]({src[1]})" if src[1] else src[0]
        return (f"> **{k.figure}** — {self.links(k.claim, here)}\n>\n"
                f"> {k.date} · {k.status} · Source: {src_text} · "
                f"[{k.title}]({self.url('cards', slug, here)})")

    def body(self, text: str, here: str) -> str:
        text = EMBED.sub(lambda m: self.embed(m.group(1), here), text)
        return self.links(text, here)

    def actor_page(self, a: Actor, here: str = "actors") -> str:
        out = [f"*{a.role}*", ""]
        if a.aliases:
            out += ["Also known as: " + ", ".join(a.aliases) + ".", ""]
        if a.relations:
            out += [f"- {a.name} — {label} — [{self.titles[s][1]}]({self.url('actors', s, here)})"
                    for s, label in a.relations] + [""]
        return "\n".join(out) + "\n" + self.links(a.body, here)

    def card_page(self, k: Card, here: str = "cards") -> str:
        out = [f"**{k.figure}**", "", self.links(k.claim, here), "",
               f"Date: {k.date} · Status: {k.status}", "", "Actors: " + ", ".join(
                   f"[{self.titles[s][1]}]({self.url('actors', s, here)})" for s in k.actors), "",
               "Sources:", ""]
        for name, url, day in k.sources:
            out.append(f"- {f'[{name}]({url})' if url else name}{f' ({day})' if day else ''}")
        return "\n".join(out) + "\n"


def card_date(k: Card) -> str:
    return (k.date + "-01-01"[len(k.date) - 4:]) if len(k.date) < 10 else k.date


def write_hugo(corpus: Corpus, root: Path) -> None:
    pt = PeerText(corpus, lambda section, slug, here: f"/{section}/{slug}/")
    write(root / "hugo.toml", f'''baseURL = "{BASE_URL}"
title = "{SITE_TITLE}"
disableKinds = ["taxonomy", "term"]
enableRobotsTXT = true

[markup.tableOfContents]
startLevel = 2
endLevel = 3
''')
    write(root / "layouts" / "baseof.html", HUGO_BASEOF)
    write(root / "layouts" / "single.html", HUGO_SINGLE)
    write(root / "layouts" / "list.html", HUGO_LIST)
    c = root / "content"
    write(c / "_index.md", f"---\ntitle: {q(SITE_TITLE)}\n---\n")
    for section in ("explainers", "actors", "cards"):
        write(c / section / "_index.md", f"---\ntitle: {q(section.capitalize())}\n---\n")
    for e in corpus.explainers:
        fm = [f"title: {q(e.title)}", f"description: {q(e.dek)}", f"date: {e.published}"]
        if e.updated:
            fm.append(f"lastmod: {e.updated}")
        fm.append(f"authors: {ql(e.authors)}")
        write(c / "explainers" / f"{e.slug}.md",
              "---\n" + "\n".join(fm) + "\n---\n\n" + pt.body(e.body, "explainers"))
    for a in corpus.actors:
        write(c / "actors" / f"{a.slug}.md",
              f"---\ntitle: {q(a.name)}\ndescription: {q(a.role)}\n---\n\n" + pt.actor_page(a))
    for k in corpus.cards:
        write(c / "cards" / f"{k.slug}.md",
              f"---\ntitle: {q(k.title)}\ndescription: {q(k.figure)}\ndate: {card_date(k)}\n---\n\n"
              + pt.card_page(k))


HUGO_BASEOF = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ .Title }} | {{ site.Title }}</title>
<meta name="description" content="{{ .Description }}">
<link rel="canonical" href="{{ .Permalink }}">
<meta property="og:title" content="{{ .Title }}">
<meta property="og:url" content="{{ .Permalink }}">
</head>
<body>
<header><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main>
</body>
</html>
"""
HUGO_SINGLE = """{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p class="dek">{{ .Description }}</p>
{{ with .Params.authors }}<p>By {{ delimit . ", " }}</p>{{ end }}
<time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time>
<nav class="toc">{{ .TableOfContents }}</nav>
{{ .Content }}
</article>
{{ end }}
"""
HUGO_LIST = """{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Description }}</li>
{{ end }}</ul>
{{ end }}
"""


def write_pelican(corpus: Corpus, root: Path) -> None:
    pt = PeerText(corpus, lambda section, slug, here: f"/{section}/{slug}/")
    write(root / "pelicanconf.py", PELICAN_CONF)
    write(root / "theme" / "templates" / "base.html", PELICAN_BASE)
    write(root / "theme" / "templates" / "article.html", PELICAN_ARTICLE)
    write(root / "theme" / "templates" / "page.html", PELICAN_PAGE)
    write(root / "theme" / "templates" / "index.html", PELICAN_INDEX)
    c = root / "content"
    for e in corpus.explainers:
        meta = [f"Title: {e.title}", f"Date: {e.published}", f"Slug: {e.slug}",
                f"Authors: {', '.join(e.authors)}", f"Summary: {e.dek}", "Category: Explainers"]
        if e.updated:
            meta.append(f"Modified: {e.updated}")
        write(c / "explainers" / f"{e.slug}.md", "\n".join(meta) + "\n\n" + pt.body(e.body, "explainers"))
    for a in corpus.actors:
        write(c / "pages" / "actors" / f"{a.slug}.md",
              f"Title: {a.name}\nSlug: {a.slug}\nKind: actors\nSummary: {a.role}\n\n" + pt.actor_page(a))
    for k in corpus.cards:
        write(c / "pages" / "cards" / f"{k.slug}.md",
              f"Title: {k.title}\nSlug: {k.slug}\nKind: cards\nSummary: {k.figure}\n\n" + pt.card_page(k))


PELICAN_CONF = f'''# Generated by bench/corpus.py: the Pelican twin of the benchmark corpus.
import os

AUTHOR = "Benchmark"
SITENAME = "{SITE_TITLE}"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
THEME = os.path.join(os.path.dirname(__file__), "theme")
ARTICLE_PATHS = ["explainers"]
PAGE_PATHS = ["pages"]
ARTICLE_URL = "explainers/{{slug}}/"
ARTICLE_SAVE_AS = "explainers/{{slug}}/index.html"
PAGE_URL = "{{kind}}/{{slug}}/"
PAGE_SAVE_AS = "{{kind}}/{{slug}}/index.html"
DIRECT_TEMPLATES = ["index"]
DEFAULT_PAGINATION = False
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAG_SAVE_AS = ""
TAGS_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
FEED_ALL_ATOM = "feed.xml"
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
FEED_DOMAIN = "{BASE_URL.rstrip('/')}"
# Content caching lets a second build skip re-reading unchanged sources (the "warm" run).
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = os.environ.get("PELICAN_CACHE_PATH", "cache")
MARKDOWN = {{
    "extension_configs": {{
        "markdown.extensions.toc": {{}},
        "markdown.extensions.tables": {{}},
        "markdown.extensions.footnotes": {{}},
        "markdown.extensions.attr_list": {{}},
    }},
    "output_format": "html5",
}}
'''
PELICAN_BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{% block title %}{{ SITENAME }}{% endblock %}</title>
{% block head %}{% endblock %}
</head>
<body>
<header><a href="/">{{ SITENAME }}</a></header>
<main>{% block content %}{% endblock %}</main>
</body>
</html>
"""
PELICAN_ARTICLE = """{% extends "base.html" %}
{% block title %}{{ article.title }} | {{ SITENAME }}{% endblock %}
{% block head %}<meta name="description" content="{{ article.summary|striptags }}">
<link rel="canonical" href="{{ FEED_DOMAIN }}/{{ article.url }}">
<meta property="og:title" content="{{ article.title }}">{% endblock %}
{% block content %}
<article>
<h1>{{ article.title }}</h1>
<p class="dek">{{ article.summary|striptags }}</p>
<p>By {% for a in article.authors %}{{ a }}{% if not loop.last %}, {% endif %}{% endfor %}</p>
<time datetime="{{ article.date.isoformat() }}">{{ article.locale_date }}</time>
{{ article.content }}
</article>
{% endblock %}
"""
PELICAN_PAGE = """{% extends "base.html" %}
{% block title %}{{ page.title }} | {{ SITENAME }}{% endblock %}
{% block head %}<meta name="description" content="{{ page.summary|striptags }}">
<link rel="canonical" href="{{ FEED_DOMAIN }}/{{ page.url }}">{% endblock %}
{% block content %}
<article>
<h1>{{ page.title }}</h1>
{{ page.content }}
</article>
{% endblock %}
"""
PELICAN_INDEX = """{% extends "base.html" %}
{% block content %}
<ul>
{% for article in articles %}<li><a href="/{{ article.url }}">{{ article.title }}</a> {{ article.summary|striptags }}</li>
{% endfor %}</ul>
{% endblock %}
"""


def write_mkdocs(corpus: Corpus, root: Path) -> None:
    def url(section: str, slug: str, here: str) -> str:
        return f"{section}/{slug}.md" if here == "" else f"../{section}/{slug}.md"

    pt = PeerText(corpus, url)
    write(root / "mkdocs.yml", f"""site_name: {q(SITE_TITLE)}
site_url: {q(BASE_URL)}
docs_dir: docs
theme:
  name: null
  custom_dir: theme
markdown_extensions:
  - toc
  - tables
  - footnotes
  - attr_list
# A small nav: the default theme's full nav would put every page in every page.
nav:
  - Home: index.md
validation:
  omitted_files: ignore
""")
    write(root / "theme" / "main.html", MKDOCS_MAIN)
    d = root / "docs"
    newest = sorted(corpus.explainers, key=lambda e: (e.published, e.slug), reverse=True)
    write(d / "index.md", f"# {SITE_TITLE}\n\n" + "\n".join(
        f"- [{e.title}](explainers/{e.slug}.md) — {e.dek}" for e in newest) + "\n")
    for e in corpus.explainers:
        write(d / "explainers" / f"{e.slug}.md",
              f"---\ndescription: {q(e.dek)}\n---\n\n# {e.title}\n\n*{e.dek}*\n\nBy {', '.join(e.authors)} · {e.published}\n\n"
              + pt.body(e.body, "explainers"))
    for a in corpus.actors:
        write(d / "actors" / f"{a.slug}.md", f"# {a.name}\n\n" + pt.actor_page(a))
    for k in corpus.cards:
        write(d / "cards" / f"{k.slug}.md",
              f"---\ndescription: {q(k.figure)}\n---\n\n# {k.title}\n\n" + pt.card_page(k))


MKDOCS_MAIN = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{% if page.title %}{{ page.title }} | {% endif %}{{ config.site_name }}</title>
<meta name="description" content="{{ page.meta.description or config.site_name }}">
{% if page.canonical_url %}<link rel="canonical" href="{{ page.canonical_url }}">{% endif %}
</head>
<body>
<header><a href="{{ nav.homepage.url|url }}">{{ config.site_name }}</a></header>
<nav class="toc"><ul>{% for item in page.toc %}<li><a href="{{ item.url }}">{{ item.title }}</a>
<ul>{% for sub in item.children %}<li><a href="{{ sub.url }}">{{ sub.title }}</a></li>{% endfor %}</ul></li>
{% endfor %}</ul></nav>
<main>{{ page.content }}</main>
</body>
</html>
"""

# --------------------------------------------------------------------------------------
# Preparing a work folder (cached: a second run with the same size and seed reuses it)

WRITERS = {"ours": write_ours, "hugo": write_hugo, "pelican": write_pelican, "mkdocs": write_mkdocs}


def fingerprint(n_explainers: int, seed: int) -> str:
    src = Path(__file__).read_bytes()
    return hashlib.sha256(src + f"|{GENERATOR_VERSION}|{n_explainers}|{seed}".encode()).hexdigest()[:16]


def prepare(work: Path, n_explainers: int, seed: int, sites: list[str], fresh: bool = False) -> dict:
    """Write the requested sites under `work` unless an identical corpus is already there.

    Returns the manifest: sizes, the edits to apply, and which sites exist.
    """
    manifest_path = work / "manifest.json"
    fp = fingerprint(n_explainers, seed)
    manifest = None
    if manifest_path.exists() and not fresh:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("fingerprint") != fp:
            manifest = None
    missing = [s for s in sites if manifest is None or s not in manifest["sites"]]
    if not missing:
        return manifest
    corpus = generate(n_explainers, seed)
    if manifest is None:
        if work.exists():
            shutil.rmtree(work)
        manifest = {
            "fingerprint": fp, "seed": seed, "explainers": len(corpus.explainers),
            "actors": len(corpus.actors), "cards": len(corpus.cards),
            "words": sum(len(e.body.split()) for e in corpus.explainers),
            "edits": corpus.edits, "sites": [],
        }
    for site in missing:
        target = work / site
        if target.exists():
            shutil.rmtree(target)
        WRITERS[site](corpus, target)
        manifest["sites"].append(site)
    work.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--explainers", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, required=True, help="work folder to write the sites into")
    p.add_argument("--sites", default="ours,hugo,pelican,mkdocs")
    p.add_argument("--fresh", action="store_true", help="regenerate even if cached")
    args = p.parse_args(argv)
    sites = [s for s in args.sites.split(",") if s]
    unknown = set(sites) - set(WRITERS)
    if unknown:
        p.error(f"unknown site(s): {', '.join(sorted(unknown))}")
    m = prepare(args.out, args.explainers, args.seed, sites, args.fresh)
    print(f"{args.out}: {m['explainers']} explainers, {m['actors']} actors, {m['cards']} cards, "
          f"{m['words'] // m['explainers']} words per explainer; sites: {', '.join(m['sites'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
