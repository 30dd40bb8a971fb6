"""Full-text search: Pagefind's index of the rendered pages, published under OUT/pagefind/.

Pagefind reads the pages that mark their readable part with `data-pagefind-body`
(the built-in theme marks explainers, actors and cards, each with its `kind`
as metadata); a theme that marks no page gets every page indexed. The index is made
from the next site as the build assembled it, before it is swapped in, and is
swapped in with the rest of the site: a site and its index never disagree.

A big site's index is made in shards of about SHARD_PAGES pages, each page in the shard
its path hashes to (`shards`): Pagefind cannot replace one page in an index (Pagefind
issue #71), so an edit makes again only the shards of the pages it changed, and two
Pagefinds run at once, each on less memory. The first shard is the bundle the search page
loads (OUT/pagefind/); the others (OUT/pagefind/part-N/) hold only their index, which the
page merges in (Pagefind's mergeIndex) from the list in OUT/pagefind/shards.json.

The binary comes from the PyPI package `pagefind_bin`, whose wheel ships it;
nothing is downloaded at run time. PAGEFIND_BINARY_PATH points at another one.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable

from .output import link_all

BUNDLE = "pagefind"  # the folder under OUT that search pages load pagefind.js from
POLL = 0.1  # seconds between looks at a build's stop event while Pagefind runs
# Pagefind is given this long before it counts as hung: ~5 ms a page is usual (2 cores), so
# this leaves 20 times that, on a loaded machine too. A fixed 600 s failed a 20,000-explainer site.
BUDGET_BASE, BUDGET_PER_PAGE = 600.0, 0.1
# About this many pages a shard: a paragraph's edit then costs Pagefind ~4 s of CPU, not a
# whole site's. At most MAX_SHARDS, since the search page loads each shard's index.
# DOSSIER_SEARCH_SHARD_PAGES sets another size (tests shard the small example site).
SHARD_PAGES, MAX_SHARDS = 1000, 16
SHARDS_FILE = f"{BUNDLE}/shards.json"  # the other shards' folders, for the search page to merge
MARKED = re.compile(rb"<[^>]*\sdata-pagefind-body[\s=/>]")  # a page whose readable part is marked
# What a merged shard needs (its entry, metadata, index chunks, fragments and filters): the
# scripts, styles and WebAssembly are the first shard's.
MERGED_FILES = re.compile(r"pagefind-entry\.json|[^/]+\.pf_meta|(index|fragment|filter)/.+")


class SearchError(OSError):
    """The index could not be made (no binary, or Pagefind failed)."""


class SearchStopped(SearchError):
    """The build's stop event was set while Pagefind ran: the build is abandoned."""


def marked(page: bytes) -> bool:
    """Whether a page marks its readable part for Pagefind (`data-pagefind-body`)."""
    at = page.find(b"data-pagefind-body")  # a plain find first: a 5 MB list page in 1 ms
    return at != -1 and MARKED.search(page, max(0, page.rfind(b"<", 0, at))) is not None


def shards(pages: list[str]) -> dict[str, list[str]]:
    """The pages of each shard, by the folder under OUT its bundle goes to, in shard order.

    A page's shard is its path's hash, so a page keeps its shard while the number of shards
    does not change; an empty shard has no bundle. The first shard with pages is the one
    the search page loads (BUNDLE/).
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
                 stop: threading.Event | None = None, meanwhile: Callable[[], Any] | None = None) -> dict[str, bytes]:
    """The bundles of the shards `wanted` (folder -> its pages), by their paths under OUT.

    `site` is the next site as assembled. With `whole`, the one shard is every page of it,
    and Pagefind reads the folder itself; else each shard's pages are linked into a scratch
    folder of their own. Pagefinds run side by side, one per core; the first to fail stops
    the others. This thread does `meanwhile` as they run. The scratch folder sits beside OUT
    and is gone afterwards; named like the writer's temporary folders
    (".OUT.building-...-PID"), so that the next build clears it if this one is killed.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .render_pool import workers

    out = out.resolve()
    failed = threading.Event()
    halt = _Either(stop, failed)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.building-search", suffix=f"-{os.getpid()}",
                                     dir=out.parent) as scratch:
        def one(n: int, folder: str) -> dict[str, bytes]:
            pages = wanted[folder]
            source = site if whole else _linked(site, pages, Path(scratch) / f"site-{n}")
            bundle = Path(scratch) / f"bundle-{n}"
            try:
                run_pagefind(source, bundle, halt, BUDGET_BASE + BUDGET_PER_PAGE * len(pages))
            except BaseException:
                failed.set()
                raise
            files = {path.relative_to(bundle).as_posix(): path for path in sorted(bundle.rglob("*")) if path.is_file()}
            first = folder == f"{BUNDLE}/"
            return {folder + rel: path.read_bytes() for rel, path in files.items()
                    if first or MERGED_FILES.fullmatch(rel)}

        with ThreadPoolExecutor(max_workers=max(1, min(workers(), len(wanted)))) as pool:
            jobs = [pool.submit(one, n, folder) for n, folder in enumerate(wanted)]
            try:
                if meanwhile is not None:
                    meanwhile()
                results = [job.exception() or job.result() for job in jobs]
            except BaseException:  # Ctrl-C: end the Pagefinds now, not when they are done
                failed.set()
                raise
    problems = [r for r in results if isinstance(r, BaseException)]
    if problems:  # the first cause, not a shard stopped because of it
        raise next((p for p in problems if not isinstance(p, SearchStopped)), problems[0])
    return {rel: data for result in results for rel, data in result.items()}


def _linked(site: Path, pages: list[str], folder: Path) -> Path:
    """A folder holding these pages of site, hard-linked (copied where links cannot be made)."""
    link_all(site, folder, pages, set(), copies=True)
    return folder


class _Either:
    """Set when either event is (run_pagefind looks at one)."""

    def __init__(self, *events: threading.Event | None):
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


def run_pagefind(site: Path, bundle: Path, stop: threading.Event | None = None, timeout: float = 600) -> None:
    """Run Pagefind over site into bundle; SearchStopped as soon as `stop` is set (serve sets it on a save)."""
    command = [str(binary()), "--site", str(site), "--output-path", str(bundle), "--silent"]
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
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
    if os.environ.get("PAGEFIND_BINARY_PATH"):
        return Path(os.environ["PAGEFIND_BINARY_PATH"])
    try:
        from pagefind_bin import get_executable
        return Path(get_executable())
    except (ImportError, FileNotFoundError):
        raise SearchError("search index: the Pagefind binary is missing; "
                          "install the project's requirements (pip install -r requirements.txt)") from None
