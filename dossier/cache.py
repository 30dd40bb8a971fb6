"""The build cache in ROOT/.cache/: what the last successful build was made from and made.

One folder per output folder (`.cache/dossier/<id>/`) holds
- `core.pickle`: the epoch, a checksum of every input file, the output files' records;
- sharded stores of the files read into model objects (`items`), the Markdown bodies
  rendered (`bodies`), each page's dependencies (`pages`) and the attributes read (`fields`);
- `mirror/`, a hard-linked twin of the output folder that output.py updates and swaps in;
- `search/`, a folder of links to each search shard's pages, for its Pagefind (search.py).

The epoch is a checksum of the generator's code, the layouts, the assets, site.yml and the
build options (the search shard size too): when it differs, nothing recorded is used but the
output files' records, which only tell whether a file in OUT is still as it was written. Input
checksums are content hashes; a file's stat (size, mtime, ctime, inode) only saves re-reading
it, and only when it was last changed well before it was hashed (git's rule against racy
timestamps). A content file's model object is recorded under the checksum of its bytes, so a file the scan finds
unchanged is not even opened by the loader (`Memo`).
Deleting the folder only costs time; a damaged one is ignored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import importlib.util
import os
import pickle
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any, Callable

try:
    import fcntl
except ImportError:  # Windows: two builds into one folder are then not kept apart
    fcntl = None  # type: ignore[assignment]

from .problems import Problem, Problems
from .search import shard_size

if TYPE_CHECKING:  # the no-change path imports none of the rendering machinery
    from .deps import Fields, Reads
    from .model import Content

FORMAT = 3  # bump when what is stored changes (2: items and versions keyed by checksums of bytes, not text;
# 3: bodies with a token, and the plan recorded)
SHARDS = 32
RACY_NS = 2_000_000_000  # a file changed this close to its hashing is hashed again next time
CODE = Path(__file__).resolve().parent
UNREADABLE, NOT_REGULAR = b"unreadable", b"not a regular file"  # the scan's stand-ins for a checksum
THEMES = (CODE.parent,)  # where render.theme_dirs may find layouts/ and assets/ besides ROOT (checked)


@dataclass
class PageRecord:
    shape: bytes | None  # digest of the page's plan (context, template, url)
    reads: Reads  # model attributes its layouts read
    digest: bytes  # of the bytes it rendered to
    marked: bool = True  # its readable part is marked for search (search_readable.marked)


@dataclass
class Core:
    """The small part of the record, enough to tell that nothing changed."""

    epoch: bytes = b""
    inputs: dict[str, bytes] = field(default_factory=dict)  # "content/x.md" -> checksum
    stats: dict[str, tuple] = field(default_factory=dict)  # absolute path -> (stat key, checksum)
    today: dt.date | None = None
    warnings: list[Problem] = field(default_factory=list)
    outputs: dict[str, tuple] = field(default_factory=dict)  # rel -> (digest, size, mtime_ns, ino)
    pages: int = 0
    names: dict[str, str] = field(default_factory=dict)  # actor names and aliases -> slug
    search: dict[str, bytes] | None = None  # each search shard's folder -> checksum of the pages it was made from
    search_behind: bool = False  # the pages changed since (a build with Options.search off)
    base_path: str = "/"
    mirror: str = ""  # token of the mirror that matches `outputs`
    folders: dict[str, tuple] = field(default_factory=dict)  # output folders' (mtime, ctime)
    format: int = FORMAT  # of these records: another's outputs are not read (BuildCache.start)


class Store:
    """A dict kept in SHARDS pickle files; only the shards that changed are written back."""

    def __init__(self, folder: Path, name: str):
        self.folder, self.name = folder, name
        self.data: dict[bytes, Any] = {}
        self._dirty: set[int] = set()

    def load(self) -> "Store":
        for n in range(SHARDS):
            shard = _read(self.folder / f"{self.name}-{n:02d}.pickle")
            if isinstance(shard, dict):
                self.data.update(shard)
        return self

    def get(self, key: Any) -> Any:
        return self.data.get(key)

    def put(self, key: Any, value: Any) -> None:
        self.data[key] = value
        self._dirty.add(_shard(key))

    def keep_only(self, keys: set) -> None:
        for key in [k for k in self.data if k not in keys]:
            del self.data[key]
            self._dirty.add(_shard(key))

    def replace(self, data: dict) -> None:
        """Hold `data` instead; the shards with a different value are written back."""
        old = self.data
        for k in old.keys() | data.keys():
            if old.get(k) != data.get(k):
                self._dirty.add(_shard(k))
        self.data = data

    def write_aside(self, waiting: list[tuple[Path, Path]], everything: bool = False,
                    stop: threading.Event | None = None) -> bool:
        """Pickle the shards that changed into files beside their own, adding (that file, the
        shard's path) to `waiting`: BuildCache.save() moves them into place. False if `stop`
        was set before the last one (they are still to be written)."""
        shards: list[dict[Any, Any]] = [{} for _ in range(SHARDS)]
        for key, value in self.data.items():
            shards[_shard(key)][key] = value
        for n in range(SHARDS) if everything else sorted(self._dirty):
            if stop is not None and stop.is_set():
                return False
            path = self.folder / f"{self.name}-{n:02d}.pickle"
            waiting.append((_write_aside(path, shards[n]), path))
        self._dirty.clear()
        return True


def _shard(k: Any) -> int:
    return (k[0] if isinstance(k, bytes) else zlib.crc32(repr(k).encode())) % SHARDS


def _hasher() -> Any:
    """The checksum of a file's bytes: one function for the scan and the loader, so theirs agree."""
    return hashlib.blake2b(digest_size=16)


def key(*parts: Any) -> bytes:
    """A store key: a checksum of strings."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(str(part).encode("utf-8", "surrogatepass") + b"\0")
    return h.digest()


def _item_key(reader: str, slug: str, rel: str, checksum: bytes) -> bytes:
    """The store key of what a reader made of a file's bytes, kept in this process: serve looks
    up every content file's at every build (12,500 at 5,000 explainers, 37 ms to make again)."""
    parts = (reader, slug, rel, checksum)
    found = _ITEM_KEYS.get(parts)
    if found is None:
        if len(_ITEM_KEYS) >= 500_000:  # a long session's edits: start again
            _ITEM_KEYS.clear()
        found = _ITEM_KEYS[parts] = key(reader, slug, rel, checksum.hex())
    return found


_ITEM_KEYS: dict[tuple[str, str, str, bytes], bytes] = {}


class BuildCache:
    """The records of the last successful build into one output folder, and this build's."""

    def __init__(self, root: Path, out: Path):
        self.root, self.out = root, out
        self.folder = folder_of(root, out)
        self.core = Core()
        self.fresh = True  # nothing usable was recorded
        self._lock: int | None = None
        self.items = Store(self.folder, "items")
        self.bodies = Store(self.folder, "bodies")
        self.pages = Store(self.folder, "pages")
        self.fields = Store(self.folder, "fields")
        self.index = Store(self.folder, "index")  # "last": what of the last index the next may reuse;
        # "plan": (assets digest, reuse.Record) of what the last build planned
        self.hashes: dict[str, bytes] = {}  # this build's checksum of each content file read
        self.scanned: dict[str, bytes] = {}  # the scan's checksum of each regular content file, not a link
        self._used_items: set[bytes] = set()
        self._remembered: Remembered | None = None
        # what the last build planned (pipeline.Planned), if this process saved it (reuse.py)
        self.planned: Any = None
        self._waiting: list[tuple[Path, Path]] = []  # this build's record, written aside: (file, its place)
        self._unsaved: OSError | None = None  # why the record could not be written aside
        self._on_disk: tuple | None = None  # the signature of the core.pickle this record stands on

    def open(self, write: bool = True) -> "BuildCache":
        """Take the lock (a second build into the same folder waits) and read the core record.

        With write=False (`check`) nothing is created: the last build's records are only read.
        """
        if write:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.root / ".cache" / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# build cache of dossier: safe to delete\n*\n")
            self._lock = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o644)
            if fcntl is not None:
                fcntl.flock(self._lock, fcntl.LOCK_EX)
        remembered = _remembered(self.folder)
        if remembered:
            self.core, self._remembered = dataclasses.replace(remembered.core), remembered
            self.planned, self._on_disk = remembered.planned, remembered.signature
            return self
        self._on_disk = _signature(self.folder / "core.pickle")
        core = _read(self.folder / "core.pickle")
        if isinstance(core, Core):
            self.core = core
        return self

    def close(self) -> None:
        for temp, _ in self._waiting:  # a build that failed after prepare()
            with contextlib.suppress(OSError):
                os.unlink(temp)
        self._waiting = []
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def scan(self, options) -> tuple[bytes, dict[str, bytes]]:
        """This build's epoch and the checksum of every input file.

        A layout change starts a new epoch (every page again). Assets are only inputs: pages
        hold nothing of them but their published names, which are part of each page's plan.
        """
        stats: dict[str, tuple] = {}
        found = {}
        for kind in ("layouts", "assets"):
            found[kind] = {}
            for n, folder in enumerate(theme_candidates(options.root, kind)):
                if folder.is_dir():
                    found[kind].update(self._checksums(folder, f"{kind}{n}/", stats))
        code = self._checksums(CODE, "code/", stats, suffix=".py")
        self.scanned = {}
        inputs = self._checksums(options.root / "content", "content/", stats, plain=self.scanned) | found["assets"]
        self.core.stats = stats
        epoch = key(FORMAT, sys.version, _versions(), options.base_url, options.drafts, self.out,
                    sorted(code.items()), sorted(found["layouts"].items()), inputs.get("content/site.yml"),
                    shard_size())  # another search shard size: another index
        return bytes(epoch), inputs

    def _checksums(self, folder: Path, label: str, stats: dict, suffix: str = "",
                   plain: dict | None = None) -> dict[str, bytes]:
        """label/relative path -> checksum of every file under folder (links to folders: where they lead).

        `plain`, if given, gets the checksums of the regular files that are not links: only the
        bytes of those were hashed, so only those are a checksum of what the loader would read.
        """
        found: dict[str, bytes] = {}
        old = self.core.stats
        settled = time.time_ns() - RACY_NS
        pending = [(str(folder), label)]
        while pending:
            where, prefix = pending.pop()
            try:
                entries = list(os.scandir(where))
            except OSError:
                found[prefix] = UNREADABLE
                continue
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, name + "/"))
                elif entry.is_symlink() and os.path.isdir(entry.path):  # not followed; where it leads counts
                    found[name + "/"] = os.readlink(entry.path).encode()
                elif not suffix or entry.name.endswith(suffix):
                    checksum = found[name] = self._checksum(entry, old, stats, settled)
                    if plain is not None and checksum not in (UNREADABLE, NOT_REGULAR) and not entry.is_symlink():
                        plain[name] = checksum
        return found

    @staticmethod
    def _checksum(entry: os.DirEntry, old: dict, stats: dict, settled: int) -> bytes:
        """A file's checksum: read from it, or, if its stat is what it was well after it was read, recalled."""
        try:
            st = entry.stat()
            if not S_ISREG(st.st_mode):  # a pipe or a device is never opened: it could block or never end
                return NOT_REGULAR
            stat_key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
            before = old.get(entry.path)
            if before and before[0] == stat_key and before[2]:
                checksum = before[1]
            else:
                with open(entry.path, "rb") as handle:
                    checksum = hashlib.file_digest(handle, _hasher).digest()
            stats[entry.path] = (stat_key, checksum, st.st_mtime_ns < settled and st.st_ctime_ns < settled)
        except OSError:
            return UNREADABLE
        if entry.is_symlink():  # where it leads matters too (the loader refuses links out of the root)
            return checksum + os.readlink(entry.path).encode()
        return checksum

    def start(self, epoch: bytes) -> None:
        """Keep what was recorded only if it was made by this code, layouts and options.

        But for the records of the files in OUT (and of their mirror), which only tell whether a
        file is still as it was written: a layout's edit then writes only the files that came out
        different, beside the mirror, instead of a whole new site and deleting the old one."""
        self.fresh = self.core.epoch != epoch
        if self.fresh:
            old = self.core
            self.core = Core(stats=old.stats)
            if vars(old).get("format") == FORMAT:  # outputs recorded as this code records them
                self.core.outputs, self.core.mirror, self.core.folders = old.outputs, old.mirror, old.folders
        self.core.epoch = epoch

    def unchanged(self, inputs: dict[str, bytes], today: dt.date) -> bool:
        """Whether the last build was made from exactly these inputs, today."""
        return not self.fresh and self.core.inputs == inputs and self.core.today == today and bool(self.core.outputs)

    def load_records(self) -> None:
        """Read the stores; the no-change path never needs them."""
        if self.fresh:
            return
        for store in self._stores():
            if self._remembered:  # this process saved them: a copy, so a failed build leaves them be
                store.data = dict(self._remembered.stores[store.name])
                store._dirty = set(self._remembered.dirty.get(store.name, ()))  # not yet written: still due
            else:
                store.load()

    @property
    def mirror(self) -> Path:
        return self.folder / "mirror"

    def checksum_of(self, path: Path) -> bytes | None:
        """The checksum the scan took of a theme or content file."""
        seen = self.core.stats.get(str(path))
        return seen[1] if seen else None

    def check_theme(self, theme_dirs: Callable[[Path, str], list[Path]]) -> None:
        """Forget everything recorded if the layouts come from a folder the scan did not look in."""
        scanned = {folder.resolve() for kind in ("layouts", "assets") for folder in theme_candidates(self.root, kind)}
        used = {folder.resolve() for kind in ("layouts", "assets") for folder in theme_dirs(self.root, kind)}
        if not used <= scanned:
            self.fresh = True
            self.core = Core(epoch=b"theme outside THEMES", stats=self.core.stats)
            for store in self._stores():
                store.data = {}

    def fields_of(self, content: Content) -> Fields:
        """The attribute record of the last build, against this build's model objects."""
        from .deps import Fields

        fields = Fields(self.fields.data)
        for items in (content.explainers, content.actors, content.cards):
            for item in items.values():
                fields.add(item, self.hashes.get(item.path, b""))
        return fields

    def memo(self) -> "Memo":
        """For load(): a file read into a model object last time is not read again."""
        return Memo(self)

    def _stores(self) -> tuple[Store, ...]:
        return (self.items, self.bodies, self.pages, self.fields, self.index)

    def prepare(self, bodies_used: set[bytes], pages: dict[str, PageRecord], fields: dict, index: Any,
                plan: Any = None, later: bool = False) -> None:
        """Take in this build's records and write what changed beside the last build's files, for
        save() to move into place: a build does this while Pagefind runs. A failure to write is
        save()'s to report: the site does not depend on it. `later`: write nothing (save(later=))."""
        self.items.keep_only(self._used_items)
        self.bodies.keep_only(bodies_used)
        self.pages.replace(pages)
        self.fields.replace(fields)
        self.index.replace({"last": index})
        if plan is not None:
            self.index.put("plan", plan)  # it differs after nearly every edit: written, not compared
        if not later:
            self._write_aside()

    def _write_aside(self, stop: threading.Event | None = None) -> bool:
        try:
            for store in self._stores():
                if not store.write_aside(self._waiting, self.fresh, stop):
                    return False
        except OSError as exc:
            self._unsaved = exc
        return True

    def save(self, core: Core, planned: Any = None, later: Callable[[], Any] | None = None) -> None:
        """Record this build (after prepare()): put in place only after its site was swapped in.

        `planned`, what it planned, is only remembered in this process. So is the whole record
        when it is to be written `later` (a function making the plan's record, for
        BuildCache.prepare): a build in serve leaves the writing to the editor's pause
        (write_remembered), where it cost each save's build 0.9-1.1 s at 5,000 explainers."""
        stores = self._stores()
        if later is not None:
            dirty = {store.name: set(range(SHARDS)) if self.fresh else set(store._dirty) for store in stores}
            _REMEMBERED[self.folder] = Remembered(self._on_disk, core, {store.name: store.data for store in stores},
                                                  planned, dirty, later)
            return
        try:
            if self._unsaved is not None:
                raise self._unsaved
            for temp, path in self._waiting:
                os.replace(temp, path)
            self._waiting = []
            _write(self.folder / "core.pickle", core)
        except OSError:  # a half-saved record must not be trusted: the next build starts afresh
            _REMEMBERED.pop(self.folder, None)
            with contextlib.suppress(OSError):
                os.unlink(self.folder / "core.pickle")
            raise
        _REMEMBERED[self.folder] = Remembered(_signature(self.folder / "core.pickle"), core,
                                              {store.name: store.data for store in stores}, planned)

    def write_remembered(self, stop: threading.Event | None = None) -> bool:
        """Write the record this process keeps for a later writing (save(later=)), if it has one.

        False if `stop` was set meanwhile (a save in serve): nothing is written then, and close()
        removes what was written aside."""
        remembered = self._remembered
        if remembered is None or remembered.later is None:
            return True
        for store in self._stores():
            store.data = remembered.stores[store.name]
            store._dirty = set(remembered.dirty[store.name])  # a copy: stopped, they are all still due
        self.fresh = False  # the shards to write are the dirty ones, however many
        if stop is not None and stop.is_set():
            return False
        self.index.put("plan", remembered.later())
        if not self._write_aside(stop):
            return False
        self.save(remembered.core, remembered.planned)
        return True


class Memo:
    """What each content file was read into last time, found by the checksum of its bytes.

    Every file load() keeps gets its checksum into `cache.hashes` (the version deps.Fields
    compares), whether its object is recalled or read again: both are checksums of bytes.
    """

    def __init__(self, cache: BuildCache):
        self.cache = cache

    def recall(self, reader: Callable[..., Any], slug: str, rel: str) -> Any:
        """The object an unchanged file was read into last time, without opening it; None: read it.

        Only for a file the scan hashed (a regular file, not a link): its checksum is then that of
        the very bytes the loader would read, and an object is recorded only for bytes that
        passed every check.
        """
        checksum = self.cache.scanned.get(rel)
        if checksum is None:
            return None
        item_key = _item_key(reader.__name__, slug, rel, checksum)
        item = self.cache.items.get(item_key)
        if item is not None:
            self.cache.hashes[rel] = checksum
            self.cache._used_items.add(item_key)
        return item

    def made(self, reader: Callable[..., Any], slug: str, rel: str, data: bytes, text: str,
             problems: Problems) -> tuple[bytes, bytes, Any, bool]:
        """What `reader(slug, rel, text, problems)` makes of these bytes, or made of them last time:
        (their checksum, the store key, the object, whether it is new and worth keeping).

        Changes nothing: a worker process may call it, and keep() records it in the build's.
        """
        hasher = _hasher()
        hasher.update(data)  # what was read, which a save since the scan may have changed
        checksum = hasher.digest()
        item_key = _item_key(reader.__name__, slug, rel, checksum)
        item = self.cache.items.get(item_key)
        if item is not None:
            return checksum, item_key, item, False
        before = len(problems.items)
        item = reader(slug, rel, text, problems)
        return checksum, item_key, item, item is not None and len(problems.items) == before  # problems: read again

    def keep(self, rel: str, made: tuple[bytes, bytes, Any, bool]) -> Any:
        """Record what made() found for the file at rel; returns its object."""
        checksum, item_key, item, new = made
        self.cache.hashes[rel] = checksum
        self.cache._used_items.add(item_key)
        if new:
            self.cache.items.put(item_key, item)
        elif item is not None:
            item = self.cache.items.get(item_key) or item  # the very object recorded, not a worker's copy
        return item


@dataclass
class Remembered:
    """What this process last saved in a cache folder, with the stat of the core.pickle it
    stands on: a long-running process (serve) then skips reading its own records back from
    disk, and keeps the pages it planned (BuildCache.planned)."""

    signature: tuple | None
    core: Core
    stores: dict[str, dict]
    planned: Any
    dirty: dict[str, set[int]] = field(default_factory=dict)  # by store, its shards not yet written
    later: Callable[[], Any] | None = None  # if the record is still to be written: the plan's record


_REMEMBERED: dict[Path, Remembered] = {}


def write_remembered(root: Path, out: Path, stop: threading.Event | None = None) -> bool:
    """Write the record of the builds of ROOT into OUT that this process kept for later, if any
    and if no other process has recorded a build since (then theirs stands); False if `stop`
    ended it first (it is still to be written)."""
    cache = BuildCache(root, out).open()
    try:
        return cache.write_remembered(stop)
    except BaseException:  # not tried again at every pause: the next build reads what is on disk
        _REMEMBERED.pop(cache.folder, None)
        raise
    finally:
        cache.close()


def unwritten(root: Path, out: Path) -> bool:
    """Whether this process keeps a record of ROOT into OUT still to be written (write_remembered)."""
    remembered = _remembered(folder_of(root, out))
    return remembered is not None and remembered.later is not None


def folder_of(root: Path, out: Path) -> Path:
    """The cache folder of the builds of ROOT into OUT."""
    return root / ".cache" / "dossier" / hashlib.sha256(str(out).encode()).hexdigest()[:16]


def _remembered(folder: Path) -> Remembered | None:
    """What this process saved last in `folder`, if it stands on the record on disk."""
    remembered = _REMEMBERED.get(folder)
    return remembered if remembered and remembered.signature == _signature(folder / "core.pickle") else None


def remembered_plan(root: Path, out: Path) -> Any:
    """What the last build of ROOT into OUT planned (reuse.Plan), if this process made it and
    its record is still the one on disk; else None."""
    remembered = _remembered(folder_of(root, out))
    return remembered.planned.plan if remembered and remembered.planned is not None else None


def _signature(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def theme_candidates(root: Path, kind: str) -> list[Path]:
    return [root / kind] + [folder / kind for folder in THEMES]


def _versions() -> list[str]:
    """The packages installed beside Jinja2 (their dist-info names carry the versions), found without importing them."""
    spec = importlib.util.find_spec("jinja2")
    site = Path(spec.origin).parent.parent if spec and spec.origin else None
    try:
        return sorted(name for name in os.listdir(site) if name.endswith(".dist-info")) if site else []
    except OSError:
        return []


def _read(path: Path) -> Any:
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception:  # missing, damaged or from another version: as if there were none
        return None


def _write(path: Path, value: Any) -> None:
    os.replace(_write_aside(path, value), path)


def _write_aside(path: Path, value: Any) -> Path:
    """value pickled into a file beside path (named for this process), which it returns."""
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    with open(temp, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return temp
