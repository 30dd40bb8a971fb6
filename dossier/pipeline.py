"""The build as a short recipe: load, render bodies, index, plan, render pages, write.

Each step is a function of what the steps before it produced; `build()` only
strings them together and stops at the first step that found errors.

Builds are incremental (cache.py keeps the record in ROOT/.cache): a build whose
inputs all match the last one's does nothing; otherwise files are read, bodies
rendered and pages rendered again only where what they were made from changed
(deps.py says what that is), and only changed files are written (output.py).
The index and the plan are always made whole: they are what pages depend on.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import output
from .cache import BuildCache, Core, PageRecord
from .problems import ContentError, Mark, Problem, Problems

if TYPE_CHECKING:
    from .pages import Page


@dataclass(frozen=True)
class Options:
    root: Path
    out: Path
    drafts: bool = False
    base_url: str | None = None
    write: bool = True  # False for `check`
    today: dt.date | None = None


@dataclass
class Result:
    pages: int = 0
    files: int = 0
    rendered: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    warnings: list[Problem] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # output files written, replaced or removed


def build(options: Options) -> Result:
    """Build the site, or raise ContentError with every problem found; nothing is written then.

    Incremental: what the last build recorded in ROOT/.cache is reused wherever its inputs
    are unchanged, and the result is the same, byte for byte, as a build without it.
    """
    started = time.perf_counter()
    collecting = gc.isenabled()
    gc.disable()  # the cyclic collector would walk the growing model again and again: 3x slower loads
    cache = BuildCache(options.root, options.out).open(write=options.write)
    try:
        epoch, inputs = cache.scan(options)
        cache.start(epoch)
        result = _nothing_changed(options, cache, inputs) or _build(options, cache, inputs)
    finally:
        cache.close()
        if collecting:
            gc.enable()
    result.seconds = time.perf_counter() - started
    return result


def _nothing_changed(options: Options, cache: BuildCache, inputs: dict[str, bytes]) -> Result | None:
    """The last build's result, if it was made from these very inputs and its site is still intact."""
    core = cache.core
    if not cache.unchanged(inputs, _today(options)):
        return None
    if options.write and not output.all_intact(options.out, core.outputs, core.folders):
        return None
    if options.write:  # a killed build may have left its folders beside OUT (hardening, issue 5)
        output.clear_leftovers(options.out)
    return Result(pages=core.pages, files=len(core.outputs), unchanged=core.pages, warnings=core.warnings)


def _build(options: Options, cache: BuildCache, inputs: dict[str, bytes]) -> Result:
    """Every step; each reuses what the last build recorded wherever its inputs are unchanged."""
    # The steps' modules, imported here: a build that finds nothing changed needs none of them.
    from . import render, render_pages
    from .assets import fingerprint
    from .deps import Recorder
    from .index import Index, build_index
    from .load import load
    from .pages import Urls, plan
    from .render_bodies import BodyRenderer

    cache.check_theme(render.theme_dirs)
    cache.load_records()
    problems = Problems()
    content = load(options.root, problems, options.drafts, options.base_url, _today(options), memo=cache.memo())
    if content is None:
        _stop_on_errors(problems)
    urls = Urls(content.site.base_url, content.site.base_path)
    assets = theme_files(options.root, "assets")
    published = fingerprint(assets)  # theme: style.css is published as style.3f2a1c9e.css
    env = render.environment(options.root, content.site, urls,
                             {name: f"{urls.base_path}assets/{published[name]}" for name in assets})
    recorder = Recorder(env)  # dependencies: what the layouts read of each model object
    fields = cache.fields_of(content)
    markdown = BodyRenderer(content, env, recorder, urls, options.root, cache.bodies, fields, cache.core.names)
    bodies = markdown.render_all(problems)
    _stop_on_errors(problems)
    index: Index = build_index(content, bodies, cache.index.get("last"))
    pages = plan(content, index, bodies, urls)
    static = {f"assets/{published[name]}": path for name, path in assets.items()}
    static.update({f"media/{m}": options.root / "content" / "media" / m for m in content.media})
    check_outputs(pages, static, problems)
    _stop_on_errors(problems)
    shapes = render_pages.shapes(pages)
    for page, shape in zip(pages, shapes):
        fields.add(page, shape or b"")
    writer = (output.Writer(options.out, cache.core.outputs, cache.mirror, cache.core.mirror, cache.core.folders)
              if options.write else None)
    try:
        todo = render_pages.stale(pages, shapes, cache.pages, fields, writer.can_keep if writer else _always)
        rendered = render_pages.PageRenderer(env, recorder, options.root).render(pages, todo, problems)
        if writer is None:  # `check`: nothing is written, nothing recorded
            for _ in rendered:
                pass
        else:
            records = write_pages(writer, pages, shapes, rendered, cache)
        _stop_on_errors(problems)
        result = Result(pages=len(pages), rendered=len(todo), unchanged=len(pages) - len(todo),
                        warnings=problems.warnings)
        if writer is None:
            return result
        for rel, path in static.items():
            writer.put(rel, path, cache.checksum_of(path))
        searched = index_search(writer, pages, options.out, cache)
        outputs = writer.commit()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    result.files = len(outputs)
    result.changed = sorted(writer.changed)
    core = Core(epoch=cache.core.epoch, inputs=inputs, stats=cache.core.stats, today=_today(options),
                warnings=result.warnings, outputs=outputs, pages=len(pages), names=markdown.names,
                search=searched, mirror=writer.token, folders=writer.folders)
    body_reads = [cache.bodies.get(k).reads for k in markdown.used]
    cache.save(core, markdown.used, records, fields.table([r.reads for r in records.values()] + body_reads),
               Index(explainer_actors=index.explainer_actors, explainers_by_date=index.explainers_by_date,
                     related=index.related))
    return result


def _today(options: Options) -> dt.date:
    return options.today or dt.date.today()


def _always(rel: str, digest: bytes) -> bool:
    return True


def _stop_on_errors(problems: Problems) -> None:
    if problems.errors:
        raise ContentError(problems.errors + problems.warnings)


def write_pages(writer: output.Writer, pages: list[Page], shapes: list, rendered, cache: BuildCache) -> dict[str, PageRecord]:
    """Put the pages rendered into the next site and keep the others; returns every page's record."""
    records, done = {}, set()
    for n, data, reads in rendered:
        done.add(n)
        if data is not None:  # else a layout error, reported
            writer.put(pages[n].output, data)
            records[pages[n].output] = PageRecord(shapes[n], reads, writer.new[pages[n].output][0])
    for n, page in enumerate(pages):
        if n not in done:
            writer.keep(page.output)
            records[page.output] = cache.pages.get(page.output)
    return records


def index_search(writer: output.Writer, pages: list[Page], out: Path, cache: BuildCache) -> bytes | None:
    """Pagefind's index of the pages, made again only if a page's bytes changed."""
    from . import search
    from .deps import digest

    html = [p.output for p in pages if p.output.endswith(".html")]
    made_from = digest([(rel, writer.new[rel][0]) for rel in html])
    before = [rel for rel in cache.core.outputs if rel.startswith(f"{search.BUNDLE}/")]
    if made_from == cache.core.search and before and all(writer.can_keep(rel) for rel in before):
        for rel in before:
            writer.keep(rel)
        return made_from
    if html:
        for rel, data in search.index_folder(writer.assembled(), out).items():
            writer.put(rel, data)
    return made_from


def check_outputs(pages: list[Page], static: dict[str, Path], problems: Problems) -> None:
    """Two things that would write the same output path are an error, never an overwrite."""
    seen: set[str] = set()
    origins = [(p.output, Mark(f"layouts/{p.template}")) for p in pages]
    origins += [(rel, Mark(str(path))) for rel, path in static.items()]
    for rel, origin in origins:
        if rel in seen:
            problems.error(origin, f"would write {rel}, which another page or file already writes")
        seen.add(rel)


def theme_files(root: Path, kind: str) -> dict[str, Path]:
    """Theme files by relative name; the site's own override the built-in ones."""
    from . import render

    found: dict[str, Path] = {}
    for folder in render.theme_dirs(root, kind):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith("."):
                    path = Path(dirpath) / name
                    found.setdefault(path.relative_to(folder).as_posix(), path)
    return found
