"""Pages planned again only where what they are planned from changed.

While pages.plan() makes a page, every key it reads is noted: a content item or a Markdown
body by slug, an index entry, a node of the actor network, a card's place on the timeline.
It reads them through read-only views (`View`, `Inputs.views`) that note each key, so what
a page depends on is recorded, not declared. The next build in the same process (serve)
compares its inputs with the last build's key by key (`changed`): items and bodies by
identity (an unchanged file is recalled as the very same object, cache.Memo), everything
else by value. A page none of whose keys changed is the page the last build planned, the
very object: it holds the same objects, or equal values, that planning it again would.

Iterating over a table, or reading anything the views do not know, notes the table's ANY
key, which changes whenever any of its keys does: correct, only less of a saving.

A build in a new process (`python build.py` after an edit) has no plan in memory. The build
cache keeps what the last one planned as a `Record`: the keys each page read, and the inputs
with items, bodies and what bodies say of actors as tokens of their versions (`tokens`), so
that two records compare by value. A page none of whose keys changed since is a stand-in
(its output, layout and URL, no context) whose shape is the one recorded; it is planned only
if it must be rendered again. At 5,000 explainers this takes a card's edit from 10.2 s to
8.4 s (plan 1.7 s to 0.6 s, shapes 1.5 s to 0.05 s; the record is 13 MB).
"""

from __future__ import annotations

import dataclasses
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

ITEMS = {"explainers": "explainer", "actors": "actor", "cards": "card"}  # content tables -> their keys' name
ANY = ("*",)  # the key noted for a read of a whole table; no slug or body key is a 1-tuple
_MISSING = object()


class Tracker:
    """The keys read while one page is planned (None: not planning a page)."""

    def __init__(self) -> None:
        self.reads: set | None = None

    def note(self, key: tuple) -> None:
        if self.reads is not None:
            self.reads.add(key)


class View:
    """A dict, read-only, that notes each key read as (name, key) and a whole read as (name, ANY)."""

    __slots__ = ("_data", "_name", "_tracker")

    def __init__(self, name: str, data: dict, tracker: Tracker):
        self._data, self._name, self._tracker = data, name, tracker

    def __getitem__(self, key: Any) -> Any:
        self._tracker.note((self._name, key))
        data = self._data
        if key in data or not isinstance(data, defaultdict):
            return data[key]
        return data.default_factory()  # read, not added: planning leaves the index as it was

    def get(self, key: Any, default: Any = None) -> Any:
        self._tracker.note((self._name, key))
        return self._data.get(key, default)

    def __contains__(self, key: Any) -> bool:
        self._tracker.note((self._name, key))
        return key in self._data

    def __iter__(self):
        self._tracker.note((self._name, ANY))
        return iter(self._data)

    def __len__(self) -> int:
        self._tracker.note((self._name, ANY))
        return len(self._data)

    def keys(self):
        self._tracker.note((self._name, ANY))
        return self._data.keys()

    def values(self):
        self._tracker.note((self._name, ANY))
        return self._data.values()

    def items(self):
        self._tracker.note((self._name, ANY))
        return self._data.items()


class _Attributes:
    """An object seen through a Tracker: its dict attributes as Views, its other data noted as
    (name, ANY), and anything else of it (a method) noted as a read of the whole: (whole, ANY)."""

    def __init__(self, whole: str, target: Any, tracker: Tracker, keyed: dict[str, str] | None = None):
        self._whole, self._target, self._tracker = whole, target, tracker
        self._keyed = keyed or {}  # attribute -> the name its dict's keys are noted under

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        name = self._keyed.get(attribute, f"{self._whole}.{attribute}")
        if callable(value):
            self._tracker.note((self._whole, ANY))
        elif isinstance(value, dict):
            view = View(name, value, self._tracker)
            setattr(self, attribute, view)  # found by normal lookup next time
            return view
        else:
            self._tracker.note((name, ANY))
        return value


class NetworkView(_Attributes):
    """The actor network, by three kinds of key: ("net", node) covers the node, its edges and
    their order; ("net.node", node) the node alone; ("net.edge", (a, b)) the edge between two.

    So an actor's page, which draws its ties and the edges among the actors it is tied to,
    is not planned again when one of those actors gains a tie elsewhere: at 5,000 explainers
    an alias edit changed a country's ties, and the 810 pages that show that country were
    planned again, and their shapes digested, for 25 that changed (6.8 s then, 6.2 s now)."""

    def __init__(self, net: Any, tracker: Tracker):
        super().__init__("net", net, tracker, keyed={"nodes": "net.node"})

    def ties(self, node: str) -> list:
        ties = self._target.ties(node)
        note = self._tracker.note
        note(("net", node))
        for edge in ties:  # the ties' order goes by the other ends' labels
            note(("net.node", edge.other(node)))
        return ties

    def edge_between(self, a: str, b: str) -> Any:
        self._tracker.note(("net.edge", (a, b) if a < b else (b, a)))
        return self._target.edge_between(a, b)


@dataclass
class Inputs:
    """What pages are planned from."""

    content: Any  # model.Content
    bodies: dict
    index: Any  # index.Index
    net: Any  # graph.Network
    when: dict[str, int]  # each dated card's place on the timeline

    def views(self, tracker: Tracker) -> "Inputs":
        content = _Attributes("content", self.content, tracker, keyed=ITEMS)
        return Inputs(content, View("body", self.bodies, tracker), _Attributes("index", self.index, tracker),
                      NetworkView(self.net, tracker), View("when", self.when, tracker))


def changed(old: Inputs, new: Inputs, by_identity: bool = True) -> set[tuple]:
    """Every key whose value differs between two builds' inputs, and (name, ANY) for each table,
    and (whole, ANY) for each of content, index and network, that any of them is in.

    Items and bodies are compared by identity, or, `by_identity` off, by value: that of their
    tokens, when both inputs are `tokens()` of a build's."""
    found: set[tuple] = set()
    _compare_attributes(found, "content", old.content, new.content, by_identity)
    _compare(found, "body", old.bodies, new.bodies, identical=by_identity)
    _compare_attributes(found, "index", old.index, new.index)
    _compare(found, "when", old.when, new.when)
    _compare(found, "net.node", old.net.nodes, new.net.nodes)
    for node in old.net.nodes.keys() | new.net.nodes.keys():
        if ("net.node", node) in found or old.net.edges_of(node) != new.net.edges_of(node):
            found.add(("net", node))
    if old.net.edges != new.net.edges:
        found.add(("net.edges", ANY))
        _compare(found, "net.edge", {(e.a, e.b): e for e in old.net.edges}, {(e.a, e.b): e for e in new.net.edges})
    if any(key[0].startswith("net") for key in found):
        found.add(("net", ANY))
    return found


def _alike(old: dict, new: dict, identical: bool) -> bool:
    """Whether _compare() would find nothing: the same keys, each with the very same value
    (`identical`, in the same order) or an equal one."""
    if not identical:
        return old == new
    return (len(old) == len(new) and all(map(operator.is_, old.values(), new.values()))
            and all(map(operator.eq, old, new)))


def _compare_attributes(found: set, whole: str, old: Any, new: Any, by_identity: bool = True) -> None:
    """Content or index: items by identity (unless by_identity is off), everything else by value."""
    before = len(found)
    for attribute, value in vars(new).items():
        was = getattr(old, attribute, _MISSING)
        name = ITEMS.get(attribute, f"{whole}.{attribute}") if whole == "content" else f"{whole}.{attribute}"
        if isinstance(value, dict) and isinstance(was, dict):
            _compare(found, name, was, value, identical=by_identity and attribute in ITEMS and whole == "content")
        elif was != value:
            found.add((name, ANY))
    if len(found) > before:
        found.add((whole, ANY))


def _compare(found: set, name: str, old: dict, new: dict, identical: bool = False) -> None:
    if _alike(old, new, identical):  # in C: most tables did not change (serve builds again and again)
        return
    before = len(found)
    for key in old.keys() | new.keys():
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if (a is not b) if identical else (a is not b and a != b):
            found.add((name, key))
    if len(found) > before:
        found.add((name, ANY))


class ByIdentity:
    """What a pure function made of an object, kept while the object is the very same one.

    For a process that builds again and again: each round (`next_round`, once a build) keeps
    only what the round before used, so it holds at most two builds' worth.
    """

    def __init__(self) -> None:
        self._now: dict[tuple, tuple[Any, Any]] = {}
        self._before: dict[tuple, tuple[Any, Any]] = {}

    def get(self, obj: Any, args: tuple, make: Callable[..., Any]) -> Any:
        """make(obj, *args), or what it returned for this very object and these arguments before."""
        key = (id(obj), *args)
        entry = self._now.get(key) or self._before.get(key)
        if entry is None or entry[0] is not obj:  # the entry holds its object: an id is never reused meanwhile
            entry = (obj, make(obj, *args))
        self._now[key] = entry
        return entry[1]

    def next_round(self) -> None:
        self._before, self._now = self._now, {}


@dataclass
class Plan:
    """One build's pages, each with the keys it was planned from, and the inputs they name."""

    inputs: Inputs | None = None
    pages: dict[tuple, tuple[Any, frozenset]] = field(default_factory=dict)  # key -> (page, keys it read)
    outputs: dict[str, Any] = field(default_factory=dict)  # every page of the build by output path, in order
    reused: int = 0  # pages taken from the last plan, or from its record
    # output -> what plans it, for each page that is only its record's stand-in (Record, Planner.page)
    unplanned: dict[str, Callable[[], Any]] = field(default_factory=dict)


class Tokens:
    """Content as a record holds it: each item as a token of its version (cache.Memo: the same
    file read by the same code), and the rest by value. Stands in for model.Content in `changed`."""

    def __init__(self, content: Any, items: Callable[[Any], bytes]):
        for name, value in vars(content).items():
            setattr(self, name, {slug: items(item) for slug, item in value.items()} if name in ITEMS else value)


def tokens(inputs: Inputs, items: Callable[[Any], bytes], bodies: dict, said: dict) -> Inputs:
    """The inputs with each item as items(item) and each body as its token in `bodies`.

    An actor's mentions and positions in the index, lists of what the bodies say (most of the
    index), are, in order, the digests of what each body they come from says of the actor
    (`said`: body key -> actor -> digest): the same while those are. At 5,000 explainers a
    record with the lists themselves was 66 MB; with these, 13 MB.

    Taken when they are needed: before the pages are planned, to compare with a record, or
    after, to record them (planning adds no key to the index, View). The index's tables are
    copied: the record must not change with the index it was taken from."""
    c, index = inputs.content, inputs.index
    by_slug = {slug: of for (_, slug), of in said.items()}  # slugs are unique across kinds

    def digest_of(of: dict | None, actor: str) -> bytes | None:
        return of.get(actor) if of else None

    tables = {f.name: getattr(index, f.name) for f in dataclasses.fields(index)}
    tables = {name: dict(table) if isinstance(table, dict) else table for name, table in tables.items()}
    tables["mentions"] = {actor: tuple((kind, slug, digest_of(said.get((kind, slug)), actor)) for kind, slug in
                                       dict.fromkeys((b.kind, b.slug) for b in backlinks))
                          for actor, backlinks in index.mentions.items()}
    tables["positions"] = {actor: tuple((slug, digest_of(by_slug.get(slug), actor)) for slug in
                                        dict.fromkeys(slug for slug, _ in found))
                           for actor, found in index.positions.items()}
    index = type(index)(**tables)
    net = type(inputs.net)(inputs.net.nodes, inputs.net.edges)  # without its lookups made on the way
    return Inputs(Tokens(c, items), {k: bodies[k] for k in inputs.bodies}, index, net, inputs.when)


@dataclass
class Record:
    """What a build planned, kept by the build cache for a build in another process (`python
    build.py` after an edit): the inputs as `tokens()`, and each page's keys with its stand-in,
    a Page with its output, layout and URL but no context. A page none of whose keys changed
    is that stand-in, planned only if it must be rendered again; its shape is the one its
    page record holds."""

    inputs: Inputs
    pages: dict[tuple, tuple[Any, frozenset]]  # key -> (its stand-in, keys it read), as in Plan.pages


def record(plan: Plan, tokened: Inputs) -> Record:
    def stand_in(page: Any) -> Any:
        return dataclasses.replace(page, context={}) if page.context else page

    return Record(tokened, {key: (stand_in(page), keys) for key, (page, keys) in plan.pages.items()})


class Planner:
    """Plans each page, or hands back the last build's page when none of its keys changed.

    `last` is the last build's plan, in this process; else `recorded` (a Record, with these
    inputs as `tokens()`) lends stand-ins."""

    def __init__(self, inputs: Inputs, last: Plan | None, recorded: tuple[Record, Inputs] | None = None):
        self.tracker = Tracker()
        self.views = inputs.views(self.tracker)
        self.plan = Plan(inputs)
        self._earlier: dict[tuple, tuple[Any, frozenset]] = {}  # key -> (page or stand-in, keys it read)
        self._stand_ins = False
        self._changed: set[tuple] = set()
        self._keys: dict[tuple, tuple] = {}  # each key read, one object: a record pickles it once, not once a page
        if last is not None and last.inputs is not None:
            self._earlier, self._changed = last.pages, changed(last.inputs, inputs)
        elif recorded is not None:
            kept, tokened = recorded
            self._earlier, self._changed = kept.pages, changed(kept.inputs, tokened, by_identity=False)
            self._stand_ins = True

    def page(self, key: tuple, make: Callable[[], Any]) -> Any:
        """The page known as `key`, made by `make` (which reads its inputs through self.views)."""
        before = self._earlier.get(key)
        if before is None or not before[1].isdisjoint(self._changed):
            return self._make(key, make)
        self.plan.pages[key] = before
        self.plan.reused += 1
        if self._stand_ins:
            self.plan.unplanned[before[0].output] = lambda: self._make(key, make)
        return before[0]

    def _make(self, key: tuple, make: Callable[[], Any]) -> Any:
        self.tracker.reads = set()
        try:
            page = make()
        finally:
            reads, self.tracker.reads = self.tracker.reads, None
        keys = self._keys
        self.plan.pages[key] = (page, frozenset([keys.setdefault(read, read) for read in reads]))
        self.plan.outputs[page.output] = page  # if planned after the plan was made (Plan.unplanned)
        return page
