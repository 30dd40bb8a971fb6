"""The build as a short recipe: load, render bodies, index, plan, render pages, write.

Each step is a function of what the steps before it produced; `build()` only
strings them together and stops at the first step that found errors.

Builds are incremental (cache.py keeps the record in ROOT/.cache): a build whose
inputs all match the last one's does nothing; otherwise files are read, bodies
rendered and pages rendered again only where what they were made from changed
(deps.py says what that is), and only changed files are written (output.py).
The index is always made whole: it is what pages depend on. The plan is not: each page
none of whose inputs changed is the page planned last time, in a process that built the
site before (serve), or else a stand-in from the plan the cache recorded, planned only if
it must be rendered (reuse.py). The bookkeeping for the
next build (the cache's record, a fresh site's mirror) is done while Pagefind runs,
when it runs, so that a clean build does not leave a core idle for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from . import output
from .cache import BuildCache, Core, PageRecord
from .problems import ContentError, Mark, Problem, Problems

if TYPE_CHECKING:
    from .model import Content
    from .pages import Page, Urls


@dataclass(frozen=True)
class Options:
    root: Path
    out: Path
    drafts: bool = False
    base_url: str | None = None
    write: bool = True  # False for `check`
    today: dt.date | None = None
    search: bool = True  # False: keep the last search index as it is (serve, until the editor pauses)
    stop: threading.Event | None = None  # set while the build runs: the build is abandoned (serve)
    replan: bool = False  # build even if nothing changed, to plan every page in this process (serve's warm-up)
    # the build cache's record kept in this process, written by cache.write_remembered() (serve, at a pause)
    record_later: bool = False
    # called with the Result as soon as the new site is in place, before the build cache is saved:
    # serve reloads the browsers then (a failed save only adds a warning to the Result afterwards)
    published: Callable[[Result], None] | None = None

    def build_date(self) -> dt.date:
        """The day the build counts as today (`today`, else the clock's)."""
        return self.today or dt.date.today()


@dataclass
class Result:
    pages: int = 0
    files: int = 0
    rendered: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    warnings: list[Problem] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # output files written, replaced or removed
    base_path: str = "/"  # the path of base_url the site is served under
    search_behind: bool = False  # the search index was kept from pages since changed (Options.search)
    steps: list[tuple[str, float]] = field(default_factory=list)  # each step's wall seconds, in order (Laps)


class Laps:
    """The wall time of each step, taken as it ends (`python build.py build --timings`). A step
    done in another's shadow counts in that one's: writing the build cache's record in search's."""

    def __init__(self) -> None:
        self.started = self._last = time.perf_counter()
        self.steps: list[tuple[str, float]] = []

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.steps.append((step, now - self._last))
        self._last = now


def build(options: Options) -> Result:
    """Build the site, or raise ContentError with every problem found; nothing is written then.

    Incremental: what the last build recorded in ROOT/.cache is reused wherever its inputs
    are unchanged, and the result is the same, byte for byte, as a build without it.
    """
    laps = Laps()
    with collector_paused():
        cache = BuildCache(options.root, options.out).open(write=options.write)
        try:
            epoch, inputs = cache.scan(options)
            cache.start(epoch)
            laps("scan")
            result = None if options.replan else _nothing_changed(options, cache, inputs)
            if result is not None:
                laps("unchanged")  # the last site found intact
            else:
                result = _build(options, cache, inputs, laps)
        finally:
            output.removed()  # the scratch folders Pagefind read, removed meanwhile
            cache.close()
    result.seconds = time.perf_counter() - laps.started
    result.steps = laps.steps
    return result


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic collector off meanwhile: it would walk the growing model again and again
    (3x slower loads, and seconds for one collection over a big site's model)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _nothing_changed(options: Options, cache: BuildCache, inputs: dict[str, bytes]) -> Result | None:
    """The last build's result, if it was made from these very inputs and its site is still intact."""
    core = cache.core
    if not cache.unchanged(inputs, options.build_date()):
        return None
    if options.search and core.search_behind and options.write:
        return None
    if options.write and not output.all_intact(options.out, core.outputs, core.folders):
        return None
    if options.write:  # a killed build may have left its folders beside OUT (hardening, issue 5)
        output.clear_leftovers(options.out)
    return Result(pages=core.pages, files=len(core.outputs), unchanged=core.pages, warnings=core.warnings,
                  base_path=core.base_path, search_behind=core.search_behind and not options.search)


def _build(options: Options, cache: BuildCache, inputs: dict[str, bytes], laps: Laps) -> Result:
    """Every step; each reuses what the last build recorded wherever its inputs are unchanged."""
    # The steps' modules, imported here: a build that finds nothing changed needs none of them.
    from .index import Index, build_index
    from .pages import plan, plan_inputs
    from .reuse import record as record_of

    problems = Problems()
    # which files of the last site are still as written, found out meanwhile on the other core (serve)
    told = output.HELPER.ask(cache.core.outputs) if options.write else None
    content = read_content(options, cache, problems)
    theme = Theme.of(options.root, content, cache.folder / "layouts" if options.write else None, problems)
    laps("read")
    bodies = BodyStep(content, theme, options.root, cache)
    bodies.render(problems)
    laps("bodies")
    _go_on(options)
    index = build_index(content, bodies.rendered, cache.index.get("last"))
    laps("index")
    last = None if cache.fresh or cache.planned is None else cache.planned
    bodies.assets = assets_digest(theme.published)
    plan_from = plan_inputs(content, index, bodies.rendered, theme.urls)
    # taken once: before planning if a record is compared with them, else in Pagefind's shadow
    tokened = bodies.tokens(plan_from)
    planned = plan(plan_from, theme.urls, last.plan if last else None,
                   None if options.replan or last else bodies.recorded(tokened))
    pages = list(planned.outputs.values())
    static = theme.static(options.root, content)
    check_outputs(pages, static, problems)
    _stop_on_errors(problems)
    laps("plan")
    _go_on(options)
    shapes = bodies.shapes(pages, last, planned)
    laps("shapes")
    _go_on(options)
    if not options.write:  # `check`: render every stale page for its errors; nothing is written
        for _ in bodies.render_pages(pages, shapes, _always, problems, planned):
            pass
        _stop_on_errors(problems)
        laps("pages")
        return Result(pages=len(pages), rendered=bodies.pages_rendered, unchanged=len(pages) - bodies.pages_rendered,
                      warnings=problems.warnings, base_path=content.site.base_path)
    writer = output.Writer(options.out, cache.core.outputs, cache.mirror, cache.core.mirror, cache.core.folders, told)
    try:
        records = write_pages(writer, pages, shapes,
                              bodies.render_pages(pages, shapes, writer.can_keep, problems, planned), cache)
        _stop_on_errors(problems)
        for rel, data in static.items():
            writer.put(rel, data, cache.checksum_of(data) if isinstance(data, Path) else None)
        laps("pages")
        # While Pagefind runs, this thread writes the build cache's record aside (record() does it
        # once, then or after publishing) and a thread links a fresh site's mirror. Or it only takes
        # the record in, for a later writing (Options.record_later) that makes the plan's record then.
        later = options.record_later and not planned.unplanned  # (stand-ins' plan: the recorded one)
        assets = bodies.assets
        plan_record = functools.cache(lambda: (assets, record_of(planned, tokened())))
        record = functools.cache(lambda: cache.prepare(bodies.markdown.used, records, bodies.fields_table(records),
                                                       Index(explainer_actors=index.explainer_actors,
                                                             explainers_by_date=index.explainers_by_date,
                                                             related=index.related),
                                                       None if later else plan_record(), later=later))
        writer.mirror_ahead()
        searched, behind = index_search(writer, records, options, cache, meanwhile=record)
        laps("search")
        outputs = writer.commit()
        laps("commit")
    except BaseException:
        writer.abort()
        raise
    result = Result(pages=len(pages), files=len(outputs), rendered=bodies.pages_rendered,
                    unchanged=len(pages) - bodies.pages_rendered, warnings=problems.warnings,
                    changed=sorted(writer.changed), base_path=content.site.base_path, search_behind=behind,
                    seconds=time.perf_counter() - laps.started, steps=list(laps.steps))  # as published: to commit
    try:
        if options.published is not None:
            options.published(result)
    finally:
        writer.settle()  # the mirror, levelled with the new site for the next build
    core = Core(epoch=cache.core.epoch, inputs=inputs, stats=cache.core.stats, today=options.build_date(),
                warnings=result.warnings, outputs=outputs, pages=len(pages), names=bodies.markdown.names,
                search=searched, search_behind=behind, base_path=result.base_path, mirror=writer.token,
                folders=writer.folders)
    try:
        record()
        cache.save(core, None if planned.unplanned else Planned(bodies.assets, planned),  # stand-ins: not here
                   later=plan_record if later else None)
    except OSError as exc:  # the site is in place; only the next build's head start is lost
        result.warnings.append(cache_unsaved(exc, "the site is built, but "))
    laps("record")  # the mirror levelled, the build cache's record saved
    return result


def cache_unsaved(exc: OSError, before: str = "") -> Problem:
    """The warning that the build cache could not be written (by a build, or by serve at a pause):
    the site does not depend on it."""
    return Problem(Mark(".cache"), f"{before}the build cache could not be saved ({exc.strerror or exc}); "
                   "the next build starts afresh", "warning")


@dataclass
class Planned:
    """What a build planned, remembered in this process for the next build (BuildCache.planned)."""

    assets: bytes | None  # digest of the assets' published names the pages' shapes were taken with
    plan: Any  # reuse.Plan


def read_content(options: Options, cache: BuildCache, problems: Problems) -> Content:
    """Step 1: content/ into the model; stops the build if the files cannot make one."""
    from .load import load
    from .render import theme_dirs

    cache.check_theme(theme_dirs)
    cache.load_records()
    content = load(options.root, problems, options.drafts, options.base_url, options.build_date(), memo=cache.memo())
    if content is None:
        _stop_on_errors(problems)
    return content


@dataclass
class Theme:
    """Step 2: the layouts' environment, the URL maker and the fingerprinted assets.

    Each asset is read once: a save during the build cannot give pages a name made from
    other bytes than those published under it.
    """

    urls: Urls
    env: Any
    assets: dict[str, bytes]  # theme asset name -> its bytes (the site's own over the built-in)
    published: dict[str, str]  # theme asset name -> published name (style.css -> style.3f2a1c9e.css)

    @classmethod
    def of(cls, root: Path, content: Content, compiled: Path | None, problems: Problems,
           served: Path | None = None) -> "Theme":
        """`served`: a site (OUT); the pages then name each asset as that site serves it, where it
        has one file of it (a first look, made before the build of a stylesheet saved a moment ago)."""
        from . import render
        from .assets import FOLDER, fingerprint, served_names
        from .pages import Urls

        urls = Urls(content.site.base_url, content.site.base_path)
        files = theme_files(root, "assets", problems)
        assets = {name: path.read_bytes() for name, path in files.items()}
        published = fingerprint(assets)
        if served is not None:
            published.update(served_names(served / FOLDER, assets))
        env = render.environment(root, content.site, urls,
                                 {name: f"{urls.base_path}{FOLDER}{published[name]}" for name in assets}, compiled)
        return cls(urls, env, assets, published)

    def static(self, root: Path, content: Content) -> dict[str, bytes | Path]:
        """Files published as they are: theme assets under their fingerprinted names, and media."""
        from .assets import FOLDER

        static: dict[str, bytes | Path] = {f"{FOLDER}{self.published[name]}": data for name, data in self.assets.items()}
        static.update({f"media/{m}": root / "content" / "media" / m for m in content.media})
        return static


class BodyStep:
    """Steps 3 and 5: Markdown bodies, then pages, rendered again only where their inputs changed.

    Both record what the layouts read of each model object (deps.Recorder), for the next build.
    """

    def __init__(self, content: Content, theme: Theme, root: Path, cache: BuildCache):
        from .deps import Recorder
        from .render_bodies import BodyRenderer

        self.cache, self.root, self.env = cache, root, theme.env
        self.recorder = Recorder(theme.env)
        self.fields = cache.fields_of(content)
        self.markdown = BodyRenderer(content, theme.env, self.recorder, theme.urls, root, cache.bodies, self.fields,
                                     cache.core.names)
        self.rendered: dict = {}
        self.pages_rendered = 0
        self.assets: bytes | None = b""  # digest of the assets' published names (shapes)

    def render(self, problems: Problems) -> None:
        self.rendered = self.markdown.render_all(problems)
        _stop_on_errors(problems)

    def tokens(self, inputs: Any) -> Callable[[], Any]:
        """What makes (once) the inputs of the plan as a reuse.Record holds them (reuse.tokens).

        It holds nothing of this step, nor of the build cache: serve keeps it until the editor
        pauses (Options.record_later), and a build's step and cache hold cycles, which would
        then be frozen in serve (serve.Collector) until a full collection."""
        from . import reuse

        entries, hashes = self.markdown.entries, self.cache.hashes
        tokens, said = {k: e.token for k, e in entries.items()}, {k: e.said for k, e in entries.items()}

        def item_token(item: Any) -> bytes:  # the checksum of the bytes it was read from (cache.Memo)
            return hashes.get(item.path) or os.urandom(16)

        return functools.cache(lambda: reuse.tokens(inputs, item_token, tokens, said))

    def recorded(self, tokened: Callable[[], Any]) -> tuple[Any, Any] | None:
        """The last build's plan as the cache recorded it (a reuse.Record, kept with the assets'
        digest: its pages' shapes hold those names), and this build's inputs as its tokens."""
        kept = None if self.cache.fresh else self.cache.index.get("plan")
        return (kept[1], tokened()) if kept and kept[0] == self.assets else None

    def shapes(self, pages: list[Page], last: Planned | None, planned: Any) -> list[bytes | None]:
        """Each page's plan digest, with the assets' published names: a stylesheet saved after
        the build's scan (which would have made it render every page) renders every page too."""
        from . import render_pages

        if not self.cache.pages.data:  # no page has a record (a clean build): every page renders,
            return [None] * len(pages)  # and its render job takes its shape, on every core (render_pages)
        before = last.plan.outputs if last is not None and last.assets == self.assets else None
        shapes = render_pages.shapes(pages, self.assets, before, self.cache.pages, planned.unplanned)
        for page, shape in zip(pages, shapes):
            self.fields.add(page, shape or b"")
        return shapes

    def render_pages(self, pages: list[Page], shapes: list, intact, problems: Problems, planned: Any):
        """(page number, bytes, reads) of every page whose record does not hold any more; a
        stand-in among them is planned first (reuse.Record). A page with no shape yet (a clean
        build's) gets the one its job digested, in `shapes`, before it is yielded."""
        from . import render_pages

        todo = render_pages.stale(pages, shapes, self.cache.pages, self.fields, intact)
        for n in todo:
            make = planned.unplanned.pop(pages[n].output, None)
            if make is not None:
                pages[n] = make()
                shapes[n] = render_pages.shapes([pages[n]], self.assets)[0]
                self.fields.add(pages[n], shapes[n])  # the page, no longer its stand-in
        self.pages_rendered = len(todo)
        unshaped = {n for n in todo if shapes[n] is None}
        made = render_pages.PageRenderer(self.env, self.recorder, self.root, self.assets, unshaped)
        for n, data, reads, shape in made.render(pages, todo, problems):
            if n in unshaped:
                shapes[n] = shape
                self.fields.add(pages[n], shape or b"")
            yield n, data, reads

    def fields_table(self, records: dict[str, PageRecord]) -> dict:
        """The attribute record for the next build: the last one's, with what was made again read anew."""
        kept = self.cache.pages.get
        new = [r.reads for rel, r in records.items() if r is not kept(rel)]
        return self.fields.table(new + self.markdown.new_reads)


def assets_digest(published: dict[str, str]) -> bytes | None:
    """Of the assets' published names (fingerprinted), which every page may link to: part of each page's shape."""
    from .deps import digest

    return digest(sorted((name, as_) for name, as_ in published.items() if as_ != name))


def _always(rel: str, digest: bytes) -> bool:
    return True


def _go_on(options: Options) -> None:
    """Between steps: end a build whose stop event is set (serve stops a search catch-up for a
    save) at once, before it writes anything, rather than when it reaches Pagefind."""
    if options.stop is not None and options.stop.is_set():
        from .search import SearchStopped
        raise SearchStopped("search index: stopped")


def _stop_on_errors(problems: Problems) -> None:
    if problems.errors:
        raise ContentError(problems.errors + problems.warnings)


def write_pages(writer: output.Writer, pages: list[Page], shapes: list, rendered, cache: BuildCache) -> dict[str, PageRecord]:
    """Put the pages rendered into the next site and keep the others; returns every page's record."""
    from .search_readable import marked

    records, done = {}, set()
    for n, data, reads in rendered:
        done.add(n)
        if data is not None:  # else a layout error, reported
            writer.put(pages[n].output, data)
            records[pages[n].output] = PageRecord(shapes[n], reads, writer.new[pages[n].output][0], marked(data))
    for n, page in enumerate(pages):
        if n not in done:
            writer.keep(page.output)
            records[page.output] = cache.pages.get(page.output)
    return records


def index_search(writer: output.Writer, records: dict[str, PageRecord], options: Options,
                 cache: BuildCache, meanwhile: Callable[[], Any] | None = None) -> tuple[dict[str, bytes], bool]:
    """Step 6: Pagefind's index of the pages, each shard made again only if one of its pages
    changed where Pagefind reads it.

    `meanwhile` is done while Pagefind runs, if it runs.

    Returns the checksum of the pages each shard was made from, and whether the index is
    behind them: with Options.search off, the last index is kept (if there is one) and made later.
    """
    from . import search

    shards = _shards(records)
    last_records = cache.pages.data  # the last build's: `meanwhile` puts this build's in their place
    previous = functools.cache(lambda: _shards(last_records))  # the last build's shards
    made_from = {folder: _pages_digest(writer.new, shard) for folder, shard in shards.items()}
    last: dict[str, bytes] = cache.core.search or {}
    before: dict[str, list[str]] = {}
    for rel in cache.core.outputs:
        if rel.startswith(f"{search.BUNDLE}/") and rel != search.SHARDS_FILE:
            before.setdefault(search.shard_of(rel), []).append(rel)
    keepable = {folder for folder, files in before.items() if all(writer.can_keep(rel) for rel in files)}
    if not options.search and before and keepable == before.keys():
        for rel in [*(rel for files in before.values() for rel in files), search.SHARDS_FILE]:
            if writer.can_keep(rel):
                writer.keep(rel)
        return last, made_from != last
    # by shard: its pages Pagefind may read otherwise, as they were and are (None: it does)
    changed: dict[str, dict[str, tuple[bytes, bytes]] | None] = {}
    ask = search.ASK_MOST
    for folder, shard in shards.items():
        pages = changed[folder] = (None if folder not in keepable else {} if last.get(folder) == made_from[folder]
                                   else _read_changes(writer, shard, last.get(folder), previous().get(folder), ask))
        ask -= len(pages or ())
    doubtful = {rel: both for pages in changed.values() for rel, both in (pages or {}).items()}
    if doubtful and not search.same_index(options.out, {rel: was for rel, (was, _) in doubtful.items()},
                                          {rel: now for rel, (_, now) in doubtful.items()}, options.stop):
        changed = {folder: None if pages else pages for folder, pages in changed.items()}
    wanted = {folder: shard for folder, shard in shards.items() if changed[folder] is None}
    for folder in shards.keys() - wanted.keys():
        for rel in before[folder]:
            writer.keep(rel)
    if wanted:
        kept = {folder: _kept(writer, shard, last.get(folder), previous().get(folder)) or set()
                for folder, shard in wanted.items()
                if folder in keepable}

        def put(files: dict[str, bytes], written: dict[str, Path]) -> None:  # each shard's bundle, once made
            for rel, data in files.items():
                writer.put(rel, data, same=written[rel])

        whole = len(shards) == 1
        search.index_shards(writer.assembled(), options.out, wanted, whole=whole, stop=options.stop,
                            meanwhile=meanwhile, kept=kept, each=put,
                            trees=search.shard_trees(cache.folder / "search", [] if whole else list(shards)))
    if shards:
        writer.put(search.SHARDS_FILE, search.shards_file(list(shards)))
    return made_from, False


def _read_changes(writer: output.Writer, shard: list[str], made: bytes | None, held: list[str] | None,
                  most: int) -> dict[str, tuple[bytes, bytes]] | None:
    """The shard's pages that changed where Pagefind may read them (search_readable.readable),
    each with its bytes in the previous site and in the next, if it can still be told whether
    Pagefind would make the same bundle of its next pages as it made of the previous site's
    (whose checksum is `made`); None if it would not, or cannot be told.

    It would not when the shard holds other pages, when the index is older than the previous
    site (serve's saves), or when a page's words changed (search_readable.words). It is not told
    when more than `most` pages changed so (an alias that hundreds of explainers linked by, dropped):
    the shard is made again then, as asking Pagefind would cost more. So a card added to an
    actor's list of cards (where Pagefind does not read) changes nothing, and an explainer
    that lost a link with the alias it was made from is a page for search.same_index to tell.
    """
    from .search_readable import only_a_link_changed, readable, words

    stayed = _kept(writer, shard, made, held)
    if stayed is None or set(shard) != set(held or ()):  # a page came or went: Pagefind must see it
        return None
    changes = {}
    for rel in shard:
        if rel not in stayed:
            before = writer.previous(rel)
            if before is None:
                return None
            after = writer.next(rel)
            if only_a_link_changed(before, after):  # a stylesheet's new name: readable() would take seconds
                continue
            was, now = readable(before), readable(after)
            if was != now:
                if words(was) != words(now) or len(changes) == most:
                    return None
                changes[rel] = (before, after)
    return changes


def _kept(writer: output.Writer, shard: list[str], made: bytes | None, held: list[str] | None) -> set[str] | None:
    """The shard's pages whose bytes are those its bundle in the previous site was made from
    (`made` is its checksum); None if that bundle was not made from the pages the shard `held`
    in the previous site, as they were there (the index is older than the site). A page gone
    from the shard (an explainer withdrawn) leaves the others' fragments to seed Pagefind."""
    old = writer.records
    if made is None or held is None or any(rel not in old for rel in held) or _pages_digest(old, held) != made:
        return None
    return {rel for rel in shard if rel in old and writer.new[rel][0] == old[rel][0]}


def _shards(records: dict[str, PageRecord]) -> dict[str, list[str]]:
    """A build's search shards, from its page records: its pages marked for search, else every page."""
    from . import search

    html = [rel for rel in records if rel.endswith(".html")]
    return search.shards([rel for rel in html if records[rel].marked] or html)


def _pages_digest(files: dict[str, output.Record], shard: list[str]) -> bytes:
    """What a shard's bundle is made from: its pages and their checksums, in files (a site's
    records), in any order (a build cache's records are not in the order of the pages)."""
    from .deps import digest

    return digest(sorted((rel, files[rel][0]) for rel in shard))


def check_outputs(pages: list[Page], static: dict[str, bytes | Path], problems: Problems) -> None:
    """Two things that would write the same output path are an error, never an overwrite."""
    seen: set[str] = set()
    origins = [(p.output, Mark(f"layouts/{p.template}")) for p in pages]
    origins += [(rel, Mark(str(data) if isinstance(data, Path) else rel)) for rel, data in static.items()]
    for rel, origin in origins:
        if rel in seen:
            problems.error(origin, f"would write {rel}, which another page or file already writes")
        seen.add(rel)


def theme_files(root: Path, kind: str, problems: Problems) -> dict[str, Path]:
    """Theme files by relative name; the site's own override the built-in ones.

    A pipe or a device is an error: reading it could block the build, or never end."""
    from . import render

    found: dict[str, Path] = {}
    for folder in render.theme_dirs(root, kind):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith("."):
                    path = Path(dirpath) / name
                    if not path.is_file():
                        problems.error(Mark(os.path.relpath(path, root)), "is not a regular file")
                    else:
                        found.setdefault(path.relative_to(folder).as_posix(), path)
    return found
