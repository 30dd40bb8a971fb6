"""Dependencies as checksums: what each page and body was made from, and whether it changed.

Lektor-style: while a page renders, every attribute its layouts read from a model
object (an explainer, actor, card or page) is recorded as `(key, attribute)`.
Everything else a page shows comes from its plan context, which is digested whole,
with model objects standing in by their key. A page is stale when that context
digest changed or when any attribute it read now has a different digest.

Digests are of values, never of modification times: a `digest` is a hash of the
value's pickle, in which a model object is written as its key (so a page listing
explainers depends on which ones, in which order, and on nothing else about them
unless its layout reads it).
"""

from __future__ import annotations

import copyreg
import dataclasses
import functools
import hashlib
import io
import operator
import pickle
from typing import Any, Callable, Iterable, TypeVar

from .markup import Target
from .model import Actor, Alias, Body, Card, Explainer, PartialDate, Relation, SlugRef, Source
from .pages import Page
from .problems import Mark

Key = tuple[str, str]  # ("explainer", slug), ("actor", slug), ("card", slug) or ("page", output)
Reads = dict[Key, frozenset[str]]  # what one page or body read: attributes by object

_KINDS: dict[type, str] = {Explainer: "explainer", Actor: "actor", Card: "card", Page: "page"}
_KEYS: dict[type, Callable[[Any], Key]] = {
    kind: (lambda o, name=name: (name, o.output)) if kind is Page else (lambda o, name=name: (name, o.slug))
    for kind, name in _KINDS.items()
}

T = TypeVar("T")


def key_of(obj: Any) -> Key | None:
    """The key of a model object, None for any other value."""
    make = _KEYS.get(type(obj))
    return make(obj) if make else None


def _stand_in(k: Key) -> Key:
    return k


def _sorted_set(items: tuple) -> tuple:
    return items


def _as_tuple(kind: type) -> Callable[[Any], tuple]:
    """A reducer writing a small frozen dataclass as its fields: no per-object dict of names."""
    names = [f.name for f in dataclasses.fields(kind)]
    values = operator.attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))
    return lambda obj: (kind, values(obj))


_REDUCE = copyreg.dispatch_table.copy()  # how _Pickler writes model objects, sets and small values
_REDUCE.update({kind: (lambda obj, name=name: (_stand_in, ((name, obj.output if name == "page" else obj.slug),)))
                for kind, name in _KINDS.items()})
_REDUCE.update({kind: (lambda obj: (_sorted_set, (tuple(sorted(obj, key=repr)),))) for kind in (set, frozenset)})
_REDUCE.update({kind: _as_tuple(kind) for kind in (Target, Source, PartialDate, Alias, SlugRef, Relation, Body, Mark)})


class _Pickler(pickle.Pickler):
    """Writes a model object as its key, and a set in sorted order (its own order varies between runs)."""

    dispatch_table = _REDUCE


def digest(value: Any) -> bytes | None:
    """A checksum of a value, model objects counted by key; None if it cannot be taken."""
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo: equal values give equal bytes whatever objects they share
    try:
        pickler.dump(value)
    except Exception:  # an unpicklable value (a function made in a layout...): never equal
        return None
    return hashlib.blake2b(buffer.getbuffer(), digest_size=16).digest()


def same_digest(a: Any, b: Any) -> bool:
    """Whether two values digest alike, told without digesting them: model objects by key,
    lists, tuples and dicts (in order) item by item, the rest by type and value.

    A page planned again, as an explainer it lists changed, mostly has the same shape: at
    5,000 explainers digesting the home page took 52 ms, and telling it alike a few.
    """
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    key = _KEYS.get(kind)
    if key is not None:
        return key(a) == key(b)
    if kind is list or isinstance(a, tuple):
        return len(a) == len(b) and all(map(same_digest, a, b))
    if kind is dict:
        return len(a) == len(b) and all(map(same_digest, a, b)) and all(map(same_digest, a.values(), b.values()))
    return a == b and (kind is not float or repr(a) == repr(b))  # 0.0 == -0.0, pickled apart


WHOLE = "*"  # the attribute noted when a layout hands a model object as a whole to a filter


def field_digest(obj: Any, attribute: str) -> bytes | None:
    if attribute == WHOLE:
        return digest(tuple(vars(obj).values()))
    try:
        value = getattr(obj, attribute)
    except AttributeError:
        return b"missing"
    return None if callable(value) else digest(value)


class Recorder:
    """Installed on a Jinja2 environment: notes the model attributes templates read.

    Jinja2 compiles `x.y` and `x['y']` (and filters' `attribute=`) to the
    environment's getattr/getitem, so wrapping those two sees every read. A model
    object handed whole to a filter (which may read anything of it) counts as read
    whole. Not seen: a layout printing a model object itself, as `{{ actor }}`.
    """

    def __init__(self, env) -> None:
        self.reads: dict[Key, set[str]] | None = None
        self._getattr, self._getitem = env.getattr, env.getitem
        env.getattr, env.getitem = self.getattr, self.getitem
        for name, function in list(env.filters.items()):
            env.filters[name] = self._watch(function)

    def _watch(self, function: Callable) -> Callable:
        @functools.wraps(function)  # keeps Jinja2's pass_context marks
        def watched(*args: Any, **kwargs: Any) -> Any:
            if self.reads is not None:
                for arg in args:
                    if type(arg) in _KEYS:
                        self._note(arg, WHOLE)
            return function(*args, **kwargs)
        return watched

    def getattr(self, obj: Any, attribute: str) -> Any:
        reads = self.reads
        if reads is not None:  # _note(), inlined: layouts read attributes by the hundred thousand
            kind = _KINDS.get(obj.__class__)
            if kind is not None:
                key = (kind, obj.output if kind == "page" else obj.slug)
                seen = reads.get(key)
                if seen is None:
                    reads[key] = {attribute}
                else:
                    seen.add(attribute)
        return self._getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if self.reads is not None and isinstance(argument, str):
            self._note(obj, argument)
        return self._getitem(obj, argument)

    def _note(self, obj: Any, attribute: str) -> None:
        make = _KEYS.get(type(obj))
        if make is not None:
            key = make(obj)
            seen = self.reads.get(key)
            if seen is None:
                self.reads[key] = {attribute}
            else:
                seen.add(attribute)

    def start(self) -> None:
        self.reads = {}

    def apart(self, make: Callable[[], T]) -> tuple[T, Reads]:
        """What make() returns and the reads it made, noted apart: those noted before go on after."""
        outer, self.reads = self.reads, {}
        try:
            made = make()
        finally:
            inner, self.reads = self.reads, outer
        return made, {key: frozenset(attributes) for key, attributes in inner.items()}

    def replay(self, reads: Reads) -> None:
        """Note these reads (of a layout's output made once and used again)."""
        if self.reads is not None:
            for key, attributes in reads.items():
                self.reads.setdefault(key, set()).update(attributes)

    def stop(self) -> Reads:
        reads, self.reads = self.reads or {}, None
        return {key: frozenset(attributes) for key, attributes in reads.items()}


def merge(*all_reads: Reads) -> Reads:
    merged: dict[Key, frozenset[str]] = {}
    for reads in all_reads:
        for key, attributes in reads.items():
            merged[key] = merged.get(key, frozenset()) | attributes
    return merged


class Within:
    """The reads found to lie within the objects a record holds, kept from build to build while
    no object is dropped from the record (serve): each page's and body's reads are then checked
    for objects that are gone only once, not at every build (at 5,000 explainers 17,500 reads of
    about thirty objects each, 0.04 s of an edit)."""

    def __init__(self) -> None:
        self._keys: frozenset = frozenset()
        self._now: dict[int, Reads] = {}

    def start(self, old: dict) -> tuple[dict[int, Reads], dict[int, Reads]]:
        """(this build's, to be filled; the last build's, still good) for a record's table `old`."""
        keys = frozenset(old)
        before = self._now if self._keys <= keys else {}
        self._keys, self._now = keys, {}
        return self._now, before


_WITHIN = Within()  # the builds' (one at a time, in one thread)


class Fields:
    """The attributes read in the last build, checked against this build's objects.

    `old` holds, for each object read last time, its version then (a checksum of
    what it was made from) and the digest of each attribute read. An object whose
    version is unchanged cannot have changed; for the others each attribute is
    compared, lazily, at most once.
    """

    def __init__(self, old: dict[Key, tuple[bytes, dict[str, bytes | None]]]):
        self.old = old
        self.versions: dict[Key, bytes] = {}
        self.objects: dict[Key, Any] = {}
        self._now: dict[Key, dict[str, bytes | None]] = {}
        self._moved: set[Key] | None = None
        self._within, self._within_before = _WITHIN.start(old)

    def add(self, obj: Any, version: bytes) -> None:
        """An object of this build, with a checksum of what it was made from."""
        k = key_of(obj)
        self.objects[k] = obj
        self.versions[k] = version
        self._moved = None

    def changed(self, reads: Reads) -> bool:
        """Whether any attribute in `reads` differs from what it was in the last build."""
        old = self.old
        within = self._within
        if within.get(id(reads)) is not reads:
            if self._within_before.get(id(reads)) is not reads and not reads.keys() <= old.keys():
                return True
            within[id(reads)] = reads
        if self._moved is None:  # the objects whose version changed: usually a handful
            self._moved = {k for k, (version, _) in old.items() if self.versions.get(k) != version}
        moved = self._moved
        for k in (moved if len(moved) < len(reads) else reads):
            if k in moved and k in reads:
                digests = old[k][1]
                for attribute in reads[k]:
                    was = digests.get(attribute, b"unread")
                    if was is None or was != self.now(k, attribute):
                        return True
        return False

    def now(self, k: Key, attribute: str) -> bytes | None:
        known = self._now.setdefault(k, {})
        if attribute not in known:
            obj = self.objects.get(k)
            known[attribute] = b"gone" if obj is None else field_digest(obj, attribute)
        return known[attribute]

    def table(self, new_reads: Iterable[Reads]) -> dict[Key, tuple[bytes, dict[str, bytes | None]]]:
        """The record of this build, from the last one's: every object read, its version and its
        attributes' digests.

        `new_reads` are those of the pages and bodies made again in this build; whatever else
        this build kept was made last time and read what the last record holds. The cost goes
        with the change: an object whose version is the same keeps its entry, one whose version
        changed has the attributes read last time taken again, one that is gone is dropped.
        An attribute no page reads any more stays until its object changes: harmless.
        """
        table: dict[Key, tuple[bytes, dict[str, bytes | None]]] = {}
        versions = self.versions
        for k, entry in self.old.items():
            version = versions.get(k)
            if version == entry[0]:
                table[k] = entry  # shared with the last record until an attribute is added below
            elif version is not None:
                table[k] = (version, {attribute: self.now(k, attribute) for attribute in entry[1]})
        copied: set[Key] = set()
        for reads in new_reads:
            for k, attributes in reads.items():
                entry = table.get(k)
                if entry is None:
                    version = versions.get(k)
                    if version is None:
                        continue
                    entry = table[k] = (version, {})
                    copied.add(k)
                known = entry[1]
                missing = [attribute for attribute in attributes if attribute not in known]
                if missing:
                    if k not in copied:
                        known = dict(known)
                        entry = table[k] = (entry[0], known)
                        copied.add(k)
                    for attribute in missing:
                        known[attribute] = self.now(k, attribute)
        return table
