"""Full-text search: Pagefind's index of the rendered pages, published under OUT/pagefind/.

Pagefind reads the pages that mark their readable part with `data-pagefind-body`
(the built-in theme marks explainers, actors and cards, each with its `kind`
as metadata); a theme that marks no page gets every page indexed. The index is made
from the next site as the build assembled it, before it is swapped in, and is
swapped in with the rest of the site: a site and its index never disagree.

A big site's index is made in shards of about SHARD_PAGES pages, each page in the shard
its path hashes to (`shards`): Pagefind cannot replace one page in an index (Pagefind
issue #71), so an edit makes again only the shards of the pages it changed where Pagefind
reads them (search_readable.py), and two Pagefinds run at once, each on less memory. A page
whose words stayed (a link that came or went, its head's structured data) is given to
Pagefind as it was and as it is (`same_index`): a few pages' index, not a shard's, tells
whether its shard stays.
A shard made again is given the fragments of its pages that stayed, as Pagefind made them
(`_seed`), which it does not compress and write again.
The first shard is the bundle the search page loads (OUT/pagefind/); the others
(OUT/pagefind/part-N/) hold only their index, which the page merges in (Pagefind's
mergeIndex) from the list in OUT/pagefind/shards.json.

The binary comes from the PyPI package `pagefind_bin`, whose wheel ships it;
nothing is downloaded at run time. PAGEFIND_BINARY_PATH points at another one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

from .output import link_all, relink, remove_later

BUNDLE = "pagefind"  # the folder under OUT that search pages load pagefind.js from
POLL = 0.1  # seconds between looks at a build's stop event while Pagefind runs
# Pagefind is given this long before it counts as hung: ~5 ms a page is usual (2 cores), so
# this leaves 20 times that, on a loaded machine too. A fixed 600 s failed a 20,000-explainer site.
BUDGET_BASE, BUDGET_PER_PAGE = 600.0, 0.1
# About this many pages a shard: a paragraph's edit then costs Pagefind ~4 s of CPU, not a
# whole site's. At most MAX_SHARDS, since the search page loads each shard's index: each shard
# adds about 0.2 s to a reader's first search on a phone's network (bench/search_latency.py:
# 3.1 s with 1 shard, 3.7 s with 3, 4.9 s with 10, 6.5 s with 16, 9.5 s with 32). Smaller
# shards would make edits cheaper (250 pages: a card's edit at 1,000 explainers in 2.9 s, not
# 5.0 s) and every reader's first search slower, so the size stays.
# DOSSIER_SEARCH_SHARD_PAGES sets another size (tests shard the small example site).
SHARD_PAGES, MAX_SHARDS = 1000, 16
SHARDS_FILE = f"{BUNDLE}/shards.json"  # the other shards' folders, for the search page to merge
# What a merged shard needs (its entry, metadata, index chunks, fragments and filters): the
# scripts, styles and WebAssembly are the first shard's.
MERGED_FILES = re.compile(r"pagefind-entry\.json|[^/]+\.pf_meta|(index|fragment|filter)/.+")
# At most this many changed pages whose words stayed are asked of Pagefind in a build (same_index:
# ~0.3 s for 100 explainers, a 1,000-page shard takes 1.7 s); beyond, their shards are made again.
ASK_MOST = 100


class SearchError(OSError):
    """The index could not be made (no binary, or Pagefind failed)."""


class SearchStopped(SearchError):
    """The build's stop event was set while Pagefind ran: the build is abandoned."""


def same_index(out: Path, before: dict[str, bytes], after: dict[str, bytes],
               stop: threading.Event | None = None) -> bool:
    """Whether Pagefind makes the very same bundle of these pages as they were and as they are
    (both by their paths under OUT). Pagefind reads each page on its own, so then each of them
    gives any shard that holds it just what it gave before. Two small Pagefinds, side by side."""
    from concurrent.futures import ThreadPoolExecutor

    with _scratch(out) as scratch:
        def bundle(name: str, pages: dict[str, bytes]) -> dict[str, bytes]:
            site, where = scratch / f"site-{name}", scratch / f"bundle-{name}"
            for rel, data in pages.items():
                (site / rel).parent.mkdir(parents=True, exist_ok=True)
                (site / rel).write_bytes(data)
            return _bundle(site, where, len(pages), stop)

        with ThreadPoolExecutor(max_workers=2) as pool:
            made = list(pool.map(bundle, ["before", "after"], [before, after]))
    return made[0] == made[1]


@contextlib.contextmanager
def _scratch(out: Path) -> Iterator[Path]:
    """A scratch folder for Pagefind beside OUT, removed afterwards while the build goes on
    (`remove_later`). Named like the writer's temporary folders (".OUT.building-...-PID"),
    so that the next build clears it if this one is killed."""
    out = out.resolve()
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-search", suffix=f"-{os.getpid()}", dir=out.parent))
    try:
        yield scratch
    finally:
        remove_later(scratch)


def shards(pages: list[str]) -> dict[str, list[str]]:
    """The pages of each shard, by the folder under OUT its bundle goes to, in shard order.

    A page's shard is its path's hash, so a page keeps its shard while the number of shards
    does not change; an empty shard has no bundle. The first shard with pages is the one the
    search page loads (BUNDLE/).
    """
    count = max(1, min(MAX_SHARDS, math.ceil(len(pages) / shard_size())))
    buckets: list[list[str]] = [[] for _ in range(count)]
    for rel in pages:
        buckets[zlib.crc32(rel.encode()) % count].append(rel)
    found = [(n, bucket) for n, bucket in enumerate(buckets) if bucket]
    return {(f"{BUNDLE}/" if i == 0 else f"{BUNDLE}/part-{n}/"): bucket for i, (n, bucket) in enumerate(found)}


def shard_size() -> int:
    """About how many pages a shard holds: DOSSIER_SEARCH_SHARD_PAGES, else SHARD_PAGES (part of
    the cache's epoch, so that another size gives the clean build's shards)."""
    return max(1, int(os.environ.get("DOSSIER_SEARCH_SHARD_PAGES") or SHARD_PAGES))


def shard_of(rel: str) -> str:
    """The folder of the shard whose bundle holds this file under OUT (a file of BUNDLE/)."""
    parts = rel.split("/")
    return f"{BUNDLE}/{parts[1]}/" if len(parts) > 2 and parts[1].startswith("part-") else f"{BUNDLE}/"


def shards_file(folders: list[str]) -> bytes:
    """BUNDLE/shards.json: the folders of the shards merged into the first, relative to it."""
    merged = [folder[len(BUNDLE) + 1:] for folder in folders[1:]]
    return json.dumps({"merge": merged}).encode() + b"\n"


def index_shards(site: Path, out: Path, wanted: dict[str, list[str]], whole: bool,
                 stop: threading.Event | None = None, meanwhile: Callable[[], Any] | None = None,
                 kept: dict[str, set[str]] | None = None,
                 each: Callable[[dict[str, bytes], dict[str, Path]], None] | None = None,
                 trees: Path | None = None) -> dict[str, bytes]:
    """The bundles of the shards `wanted` (folder -> its pages), by their paths under OUT.

    `site` is the next site as assembled. With `whole`, the one shard is every page of it,
    and Pagefind reads the folder itself; else each shard's pages are hard-linked into a folder
    of their own: one kept under `trees` from build to build (`_relinked`), if given and on
    site's disk, else one in a scratch folder (`_scratch`). Pagefinds run side by side, one per
    core; the first to fail stops the others. This thread does `meanwhile` as they run, once the
    first ones' pages are linked: linking a thousand pages took 0.03 s, and 0.4 s beside a thread
    that holds the interpreter's lock (writing the build cache).

    `kept` names, by shard, the pages whose bytes are those the shard's bundle in OUT was made
    from: their fragments are given to Pagefind as made (`_seed`).

    `each`, if given, gets each shard's bundle as soon as its Pagefind ends, in a thread of its
    own (one bundle at a time), while the Pagefinds go on; nothing is returned then. The bundles
    of a clean build at 5,000 explainers are 13,000 files: written after the last Pagefind, they
    took 2.8 s with one core idle. An error in `each` ends the Pagefinds as a failed shard does.
    It gets the files Pagefind wrote too, by the same paths, to link rather than write again:
    they stay until the scratch folder goes, after `each` is done with them.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .render_pool import workers

    failed = threading.Event()
    halt = _Either(stop, failed)
    linked = [threading.Event() for _ in wanted]
    handed, unhanded = [], []  # the futures of `each`, and the errors they met

    def hand(files: dict[str, bytes], written: dict[str, Path]) -> None:
        try:
            each(files, written)
        except BaseException as exc:  # a full disk: the other shards' bundles could not be put either
            unhanded.append(exc)
            failed.set()  # so their Pagefinds end now
            raise

    with _scratch(out) as scratch, ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundles") as handing:
        def one(n: int, folder: str) -> dict[str, bytes]:
            pages, bundle = wanted[folder], scratch / f"bundle-{n}"
            try:  # before `meanwhile`, which holds the interpreter's lock for long: seeding took 0.7 s beside it
                source = site if whole else (_relinked(site, pages, trees, folder)
                                             or _linked(site, pages, scratch / f"site-{n}"))
                seeded = _seed(out / folder, bundle, (kept or {}).get(folder, set()))
            finally:
                linked[n].set()
            try:
                files = _bundle(source, bundle, len(pages), halt, seeded)
            except BaseException:
                failed.set()
                raise
            if source.parent == scratch:  # now, beside the next Pagefinds: all at the end took 1 s at 5k
                remove_later(source)
            first = folder == f"{BUNDLE}/"
            files = {folder + rel: data for rel, data in files.items() if first or MERGED_FILES.fullmatch(rel)}
            if each is None:
                return files
            handed.append(handing.submit(hand, files, {rel: bundle / rel[len(folder):] for rel in files}))
            return {}

        side_by_side = max(1, min(workers(), len(wanted)))
        with ThreadPoolExecutor(max_workers=side_by_side) as pool:
            jobs = [pool.submit(one, n, folder) for n, folder in enumerate(wanted)]
            try:
                for event in linked[:side_by_side]:
                    event.wait()
                if meanwhile is not None:
                    meanwhile()
                results = [job.exception() or job.result() for job in jobs]
            except BaseException:  # Ctrl-C: end the Pagefinds now, not when they are done
                failed.set()
                handing.shutdown(wait=False, cancel_futures=True)
                raise
        problems = [r for r in results if isinstance(r, BaseException)]
        if problems:  # the first cause, not a shard stopped because of it; the bundles made are no use
            handing.shutdown(wait=False, cancel_futures=True)
            raise ([p for p in problems if not isinstance(p, SearchStopped)] + unhanded + problems)[0]
    for done in handed:
        done.result()  # an error in `each` is raised here
    return {rel: data for result in results for rel, data in result.items()}


def _bundle(site: Path, bundle: Path, pages: int, stop: "threading.Event | _Either | None",
            seeded: bool = False) -> dict[str, bytes]:
    """Pagefind's bundle of the site's `pages` pages: its files by their paths in the bundle
    folder. The folder stays, for its files to be linked into the next site, and goes with the
    scratch folder. `seeded`: the folder holds fragments already (`_seed`)."""
    run_pagefind(site, bundle, stop, BUDGET_BASE + BUDGET_PER_PAGE * pages)
    files = {path.relative_to(bundle).as_posix(): path.read_bytes() for path in sorted(bundle.rglob("*"))
             if path.is_file()}
    if seeded and not _one_fragment_a_page(files):  # a seed it did not make, or two pages' hashes alike
        shutil.rmtree(bundle, ignore_errors=True)
        return _bundle(site, bundle, pages, stop)
    return files


# A fragment's start, as Pagefind writes it (gzipped): its page's URL, a JSON string.
_FRAGMENT_URL = re.compile(rb'pagefind_dcd\{"url":("(?:[^"\\]|\\.)*")')


def _seed(previous: Path, bundle: Path, kept: set[str]) -> bool:
    """Link into the bundle folder the previous bundle's fragments of the kept pages; whether any.

    Pagefind names a fragment by its checksum and does not compress and write one that is
    there already (its WriteBehavior::Immutable): a 1,000-page shard in 1.05 s, not 1.4 s, and
    most of it is Pagefind's own reading of the pages. A kept page's fragment is the one it would
    make: the same bytes at the same URL. Not after two pages' checksums began alike (Pagefind
    then lengthens one's name, by the order it read them in), so not from such a bundle."""
    urls = {_url(rel) for rel in kept}
    try:
        names = sorted(os.listdir(previous / "fragment")) if kept else []
    except OSError:
        return False
    if _lengthened(names):
        return False
    seeded = 0
    for name in names:
        source = previous / "fragment" / name
        try:
            start = zlib.decompressobj(wbits=31).decompress(source.read_bytes(), 4096)
            url = _FRAGMENT_URL.match(start)
            if url and json.loads(url[1]) in urls:
                if not seeded:
                    (bundle / "fragment").mkdir(parents=True, exist_ok=True)
                os.link(source, bundle / "fragment" / name)
                seeded += 1
        except (OSError, zlib.error, ValueError):  # a fragment gone or unreadable: Pagefind makes it
            continue
    return seeded > 0


def _url(rel: str) -> str:
    """Pagefind's URL of a page (its build_url): a folder's index.html is the folder."""
    return "/" + (rel[:-len("index.html")] if rel == "index.html" or rel.endswith("/index.html") else rel)


def _one_fragment_a_page(files: dict[str, bytes]) -> bool:
    """Whether a bundle holds one fragment for each page it counts, none named as the start of another."""
    names = sorted(rel[len("fragment/"):] for rel in files if rel.startswith("fragment/"))
    try:
        languages = json.loads(files["pagefind-entry.json"])["languages"].values()
        pages = sum(language["page_count"] for language in languages)
    except (KeyError, TypeError, ValueError):
        return False
    return len(names) == pages and not _lengthened(names)


def _lengthened(names: list[str]) -> bool:
    """Whether, of these sorted fragment file names, one's checksum is the start of the next's:
    Pagefind lengthens a name when two pages' checksums begin alike."""
    stems = [name.rsplit(".", 1)[0] for name in names]
    return any(b.startswith(a) for a, b in zip(stems, stems[1:]))


def _linked(site: Path, pages: list[str], folder: Path) -> Path:
    """A folder holding these pages of site, hard-linked (copied where links cannot be made)."""
    link_all(site, folder, pages, set(), copies=True)
    return folder


def shard_trees(trees: Path, folders: list[str]) -> Path:
    """`trees`, the folder of the shards' kept folders of links (`_relinked`), without those of
    shards other than `folders`: each holds the files of an old site's pages alive."""
    names = {_tree_name(folder) for folder in folders}
    with contextlib.suppress(OSError):
        for entry in os.scandir(trees):
            if entry.name not in names:
                shutil.rmtree(entry.path, ignore_errors=True)
    return trees


def _relinked(site: Path, pages: list[str], trees: Path | None, folder: str) -> Path | None:
    """The shard's folder under `trees`, kept from build to build, made to hold exactly these pages of
    site, hard-linked (output.relink); None if there is none, or it cannot (then `_linked` makes one).
    Made afresh, it cost a new folder a page: 0.2-0.45 s for 900 pages (the links took 0.01 s)."""
    if trees is None:
        return None
    tree = trees / _tree_name(folder)
    try:
        relink(site, tree, pages)
    except OSError:  # another disk, or a file in the way: afresh, in the scratch folder
        shutil.rmtree(tree, ignore_errors=True)
        return None
    return tree


def _tree_name(folder: str) -> str:
    return folder.strip("/").replace("/", "-")


class _Either:
    """Set when either event is (run_pagefind looks at one)."""

    def __init__(self, *events: threading.Event | None):
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def run_pagefind(site: Path, bundle: Path, stop: threading.Event | None = None, timeout: float = 600) -> None:
    """Run Pagefind over site into bundle; SearchStopped as soon as `stop` is set (serve sets it on a save).

    It runs in bundle's folder (a scratch folder) and without the PAGEFIND_ variables: Pagefind
    takes options from a pagefind.yml, .json or .toml in its working folder and from those
    variables, and the index must be made of the pages alone (the same input gives the same bytes,
    and readable() tells what Pagefind reads as it reads with its defaults)."""
    command = [str(binary()), "--site", os.path.abspath(site), "--output-path", os.path.abspath(bundle), "--silent"]
    alone = {name: value for name, value in os.environ.items() if not name.startswith("PAGEFIND_")}
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   cwd=bundle.parent, env=alone,
                                   start_new_session=True)  # its own group: _kill ends whatever it started
    except OSError as exc:
        raise SearchError(f"search index: could not run Pagefind ({exc})") from None
    deadline = time.monotonic() + timeout
    while True:
        try:
            stdout, stderr = process.communicate(timeout=POLL)
            break
        except subprocess.TimeoutExpired:
            if stop is not None and stop.is_set():
                _kill(process)
                raise SearchStopped("search index: stopped") from None
            if time.monotonic() > deadline:
                _kill(process)
                raise SearchError(f"search index: Pagefind took more than {timeout:.0f} s") from None
    if process.returncode != 0:
        detail = (stderr or stdout).strip().splitlines()
        raise SearchError(f"search index: Pagefind failed ({detail[-1] if detail else f'exit {process.returncode}'})")


def _kill(process: subprocess.Popen) -> None:
    """End Pagefind and whatever it started, and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # gone already
        pass
    process.communicate()


def binary() -> Path:
    """The Pagefind binary: PAGEFIND_BINARY_PATH, else the one the pagefind_bin wheel ships."""
    given = os.environ.get("PAGEFIND_BINARY_PATH")
    if given:  # a path as from the working folder, or a name on PATH: Pagefind runs in another folder
        return Path(os.path.abspath(given) if os.sep in given else shutil.which(given) or given)
    try:
        from pagefind_bin import get_executable
        return Path(get_executable())
    except (ImportError, FileNotFoundError):
        raise SearchError("search index: the Pagefind binary is missing; "
                          "install the project's requirements (pip install -r requirements.txt)") from None
