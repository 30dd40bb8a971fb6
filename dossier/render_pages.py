"""Pages to bytes through the layouts, only those whose recorded inputs changed.

A page's record (cache.PageRecord) holds the digest of its plan (deps.digest of its
context, layout, URL) and the model attributes its layouts read. A page is rendered
again when it has no record, its plan digest differs, an attribute it read changed,
or its previous output file is no longer intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from . import render, render_pool
from .cache import PageRecord, Store
from .deps import Fields, Recorder, digest, same_digest
from .pages import Page
from .problems import Problem, Problems


def shapes(pages: list[Page], assets: bytes | None = b"", before: dict[str, Page] | None = None,
           records: Store | None = None, kept: dict[str, object] | None = None) -> list[bytes | None]:
    """The digest of each page's plan: everything it shows but what its layouts read from models.

    `assets` stands for the published asset names, which every page may link to. A page whose
    plan would digest as that of one the last build planned with the same asset names (`before`,
    by output; `records`, that build's page records) has the shape recorded for it: telling so
    (deps.same_digest) of two plans that hold mostly the very same objects (reuse.py) costs far
    less than digesting one. So has a stand-in for a page the last build planned (`kept`, by output:
    reuse.Record), which was planned with the same asset names too.

    Digested in this process, not by forked workers: a digest is cheap, but a worker reading
    every page's plan copies most of the build's memory (written reference counts). An edit at
    20,000 explainers peaked at 5.5 GB with workers and 4.2 GB without, and its digests took
    6.3 s (11.8 s of CPU time) with two workers, 6.1 s without. A clean build is another matter:
    every page renders, its plan read by whichever process renders it, which digests it then
    (PageRenderer).
    """
    found: list[bytes | None] = [None] * len(pages)
    if (before or kept) and records is not None:
        before, kept = before or {}, kept or {}
        for n, page in enumerate(pages):
            old = before.get(page.output)
            if page.output in kept or old is page or old is not None and same_digest(_planned(old), _planned(page)):
                record = records.get(page.output)
                found[n] = record.shape if record is not None else None
    return [digest((*_planned(p), assets)) if shape is None else shape for p, shape in zip(pages, found)]


def _planned(page: Page) -> tuple:
    """What a page's shape is the digest of, but the assets' names."""
    return page.output, page.template, page.url, page.in_sitemap, page.context


def stale(pages: list[Page], page_shapes: list[bytes | None], records: Store, fields: Fields,
          intact=lambda rel, digest: True) -> list[int]:
    """The numbers of the pages that must be rendered again."""
    todo = []
    for n, (page, shape) in enumerate(zip(pages, page_shapes)):
        record: PageRecord | None = records.get(page.output)
        if (record is None or shape is None or record.shape != shape or fields.changed(record.reads)
                or not intact(page.output, record.digest)):
            todo.append(n)
    return todo


class PageRenderer:
    """Renders pages; with each of the pages numbered in `unshaped`, its shape too.

    A clean build's pages have no shape yet, and each is rendered: its job digests it (in a
    forked worker that reads the page's plan anyway to render it), so the digests share the
    cores as the rendering does, instead of taking one core while the other sits idle.
    """

    def __init__(self, env, recorder: Recorder, root: Path, assets: bytes | None = b"",
                 unshaped: set[int] | frozenset[int] = frozenset()):
        self.env, self.recorder, self.root = env, recorder, root
        self.assets, self.unshaped = assets, unshaped
        self.pages: list[Page] = []

    def render(self, pages: list[Page], numbers: list[int], problems: Problems) -> Iterator[tuple]:
        """(page number, bytes or None after a layout error, what its layouts read, its shape if
        unshaped else None), in page order.

        Yielded as they are made, so that they can be written without holding a whole site.
        """
        self.pages = pages
        results = render_pool.stream(self._render, numbers, cost=lambda n: 3_000)
        for n, (data, reads, found, shape) in zip(numbers, results):
            problems.extend(found)
            yield n, data, reads, shape

    def _render(self, numbers: list[int]) -> list[tuple[bytes | None, dict, list[Problem], bytes | None]]:
        results = []
        for n in numbers:
            found = Problems()
            self.recorder.start()
            try:
                data = render.render_page(self.env, self.pages[n], found, self.root)
            finally:
                reads = self.recorder.stop()
            shape = shapes([self.pages[n]], self.assets)[0] if n in self.unshaped else None
            results.append((data, reads, found.items, shape))
        return results
