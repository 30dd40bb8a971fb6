"""The validated content: plain dataclasses, no I/O.

Everything here was checked by the loader; references between items (actor slugs,
[[refs]]) are checked against the whole model in load.check_references.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .problems import Mark

ACTOR_KINDS = ("person", "country", "organization", "group")
CARD_STATUSES = ("confirmed", "reported", "claimed", "disputed")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date that may be only a year or a year and month (cards' dates)."""

    year: int
    month: int = 0  # 0: not given
    day: int = 0

    @property
    def iso(self) -> str:
        parts = [f"{self.year:04d}"] + [f"{n:02d}" for n in (self.month, self.day) if n]
        return "-".join(parts)

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def __str__(self) -> str:
        return self.iso


@dataclass(frozen=True)
class SlugRef:
    """A slug written in front matter, with where it was written."""

    slug: str
    mark: Mark


@dataclass(frozen=True)
class Alias:
    """Another name of an actor, with where it was written."""

    text: str
    mark: Mark


@dataclass(frozen=True)
class Relation:
    actor: SlugRef
    label: str


@dataclass(frozen=True)
class Source:
    name: str
    url: str | None = None
    date: PartialDate | None = None


@dataclass(frozen=True)
class Site:
    title: str
    base_url: str  # always ends with "/"
    description: str = ""
    language: str = "en"

    @property
    def base_path(self) -> str:
        """The path part of base_url: '/' or '/briefs/'."""
        rest = self.base_url.split("://", 1)[1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


@dataclass(frozen=True)
class Body:
    """Markdown text and the line of the file it starts on (for error marks)."""

    text: str
    path: str
    first_line: int
    first_col: int = 1
    source: str = ""  # as written in the file, where that differs from text (a quoted YAML scalar)


@dataclass(frozen=True)
class Explainer:
    slug: str
    path: str
    title: str
    dek: str
    published: dt.date
    body: Body
    updated: dt.date | None = None
    authors: tuple[str, ...] = ()
    actors: tuple[SlugRef, ...] = ()
    draft: bool = False
    marks: dict[str, Mark] = field(default_factory=dict, compare=False, repr=False)

    kind = "explainer"

    @property
    def modified(self) -> dt.date:
        return self.updated or self.published


@dataclass(frozen=True)
class Actor:
    slug: str
    path: str
    name: str
    kind: str
    body: Body
    role: str = ""
    aliases: tuple[Alias, ...] = ()
    relations: tuple[Relation, ...] = ()
    wikidata: str = ""
    marks: dict[str, Mark] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Card:
    slug: str
    path: str
    title: str
    claim: Body
    sources: tuple[Source, ...]
    figure: str = ""
    date: PartialDate | None = None
    status: str = "reported"
    actors: tuple[SlugRef, ...] = ()

    kind = "card"


@dataclass
class Content:
    """Everything loaded from content/, keyed by slug, in sorted slug order."""

    site: Site
    explainers: dict[str, Explainer] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    media: tuple[str, ...] = ()  # paths relative to content/media

    def kind_of(self, slug: str) -> str | None:
        for kind, table in (("explainer", self.explainers), ("actor", self.actors), ("card", self.cards)):
            if slug in table:
                return kind
        return None

    def all_slugs(self) -> set[str]:
        return set(self.explainers) | set(self.actors) | set(self.cards)
