"""The build as a short recipe: load, render bodies, index, plan, render pages, write.

Each step is a function of what the steps before it produced; `build()` only
strings them together and stops at the first step that found errors.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import output, render
from .index import Index, build_index
from .load import load
from .markup import MarkdownRenderer, Rendered
from .model import Content
from .pages import Page, Urls, names, plan, targets
from .problems import ContentError, Mark, Problem, Problems


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


def build(options: Options) -> Result:
    """Build the site, or raise ContentError with every problem found; nothing is written then."""
    started = time.perf_counter()
    problems = Problems()
    content = load(options.root, problems, options.drafts, options.base_url, options.today)
    if content is None:
        _stop_on_errors(problems)
    urls = Urls(content.site.base_url, content.site.base_path)
    assets = theme_files(options.root, "assets")
    env = render.environment(options.root, content.site, urls,
                             {name: f"{urls.base_path}assets/{name}" for name in assets})
    bodies = render_bodies(content, env, urls, options.root, problems)
    _stop_on_errors(problems)
    index: Index = build_index(content, bodies)
    pages = plan(content, index, bodies, urls)
    files = render_pages(env, pages, options.root, problems)
    add_static(files, "assets", assets, problems)
    add_static(files, "media", {m: options.root / "content" / "media" / m for m in content.media}, problems)
    _stop_on_errors(problems)
    if options.write:
        output.write_site(options.out, files)
    return Result(pages=len(pages), files=len(files), rendered=len(pages),
                  seconds=time.perf_counter() - started, warnings=problems.warnings)


def _stop_on_errors(problems: Problems) -> None:
    if problems.errors:
        raise ContentError(problems.errors + problems.warnings)


def render_bodies(content: Content, env, urls: Urls, root: Path, problems: Problems) -> dict[tuple[str, str], Rendered]:
    """Every Markdown body to HTML plus facts; cards first, since bodies embed them."""
    markdown = MarkdownRenderer(targets(content, urls), names(content))
    bodies: dict[tuple[str, str], Rendered] = {}
    for card in content.cards.values():
        bodies[("card", card.slug)] = markdown.render(card.claim, problems, allow_embeds=False, inline=True)

    def embed(slug: str) -> str:
        return render.render_partial(env, "partials/card.html", problems, root, card=content.cards[slug],
                                     claim=bodies[("card", slug)].html, heading_level=3)

    markdown.embed = embed
    for explainer in content.explainers.values():
        bodies[("explainer", explainer.slug)] = markdown.render(explainer.body, problems, autolink=True)
    for actor in content.actors.values():
        bodies[("actor", actor.slug)] = markdown.render(actor.body, problems)
    return bodies


def render_pages(env, pages: list[Page], root: Path, problems: Problems) -> dict[str, bytes | Path]:
    files: dict[str, bytes | Path] = {}
    for page in pages:
        data = render.render_page(env, page, problems, root)
        if data is not None:
            add_file(files, page.output, data, problems, Mark(f"layouts/{page.template}"))
    return files


def theme_files(root: Path, kind: str) -> dict[str, Path]:
    """Theme files by relative name; the site's own override the built-in ones."""
    found: dict[str, Path] = {}
    for folder in render.theme_dirs(root, kind):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith("."):
                    path = Path(dirpath) / name
                    found.setdefault(path.relative_to(folder).as_posix(), path)
    return found


def add_static(files: dict[str, bytes | Path], folder: str, sources: dict[str, Path], problems: Problems) -> None:
    for name, path in sources.items():
        add_file(files, f"{folder}/{name}", path, problems, Mark(str(path)))


def add_file(files: dict[str, bytes | Path], rel: str, data: bytes | Path, problems: Problems, origin: Mark) -> None:
    """Two things that would write the same output path are an error, never an overwrite."""
    if rel in files:
        problems.error(origin, f"would write {rel}, which another page or file already writes")
        return
    files[rel] = data
