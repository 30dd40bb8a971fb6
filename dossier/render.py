"""Jinja2 layouts: the theme lookup, the environment, and turning a page plan into bytes.

ROOT/layouts/NAME overrides the built-in layouts/NAME file by file. Autoescape is on
and an undefined variable is an error, reported at the layout's file and line.
"""

from __future__ import annotations

import datetime as dt
import linecache
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import jinja2

from .model import PartialDate, Site
from .pages import Page, Urls
from .problems import Mark, Problems

BUILTIN = Path(__file__).resolve().parent.parent  # holds the built-in layouts/ and assets/


def theme_dirs(root: Path, kind: str) -> list[Path]:
    """The folders a theme file is looked up in, the site's own first."""
    dirs = [root / kind, BUILTIN / kind]
    unique = []
    for folder in dirs:
        if folder.is_dir() and folder.resolve() not in [d.resolve() for d in unique]:
            unique.append(folder)
    return unique


class CompiledLayouts(jinja2.BytecodeCache):
    """Layouts compiled once, kept in this process (serve builds again and again) and, given a
    folder, on disk for the next `build`. Jinja2 checks each against its layout's source."""

    _memory: dict[str, bytes] = {}

    def __init__(self, folder: Path | None = None):
        self.files = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self.files = jinja2.FileSystemBytecodeCache(str(folder))

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._memory.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)
        elif self.files is not None:
            self.files.load_bytecode(bucket)
            if bucket.code is not None:  # kept here too: serve makes a new environment for every build
                self._memory[bucket.key] = bucket.bytecode_to_string()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._memory[bucket.key] = bucket.bytecode_to_string()
        if self.files is not None:
            self.files.dump_bytecode(bucket)


def environment(root: Path, site: Site, urls: Urls, assets: dict[str, str],
                compiled: Path | None = None) -> jinja2.Environment:
    """The layouts' environment; `compiled` is a folder to keep compiled layouts in."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme_dirs(root, "layouts")]),
        bytecode_cache=CompiledLayouts(compiled),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(site=site, urls=urls, asset=lambda name: assets.get(name) or _missing_asset(name))
    env.filters.update(date=human_date, isodate=iso_date, reading_minutes=lambda words: max(1, round(words / 230)))
    return env


def _missing_asset(name: str) -> str:
    raise jinja2.TemplateRuntimeError(f"no asset named '{name}' in assets/")


def human_date(value: dt.date | PartialDate) -> str:
    """'19 June 2024', 'June 2024' or '2024'."""
    if isinstance(value, PartialDate):
        if not value.month:
            return str(value.year)
        value, day = dt.date(value.year, value.month, value.day or 1), value.day
        if not day:
            return value.strftime("%B %Y")
    return f"{value.day} {value.strftime('%B %Y')}"


def iso_date(value: dt.date | PartialDate) -> str:
    return value.iso if isinstance(value, PartialDate) else value.isoformat()


def render_page(env: jinja2.Environment, page: Page, problems: Problems, root: Path) -> bytes | None:
    """A page's bytes, or None after reporting the layout error."""
    try:
        template = env.get_template(page.template)
        return template.render(page=page, **page.context).encode("utf-8")
    except Exception as exc:  # a layout is code: any failure is reported at its place
        problems.error(template_mark(exc, root, page.template), f"layout error: {_describe(exc)} (rendering {page.output})")
        return None


def render_partial(env: jinja2.Environment, name: str, problems: Problems, root: Path, **context: Any) -> str:
    try:
        return env.get_template(name).render(**context)
    except Exception as exc:
        problems.error(template_mark(exc, root, name), f"layout error: {_describe(exc)}")
        return ""


def _describe(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "the layout includes or calls itself without end"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"layout '{exc.name}' not found"
    return str(getattr(exc, "message", None) or exc) or type(exc).__name__


def template_mark(exc: Exception, root: Path, fallback: str) -> Mark:
    """Where in which layout the error is: from the syntax error, else the traceback's layout frames."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        return Mark(_layout_path(exc.filename, root), exc.lineno or 1, 1)
    frames = [(frame.f_code.co_filename, lineno) for frame, lineno in traceback.walk_tb(exc.__traceback__)
              if frame.f_code.co_filename.endswith((".html", ".xml", ".txt")) and "layouts" in frame.f_code.co_filename]
    if not frames:
        return Mark(f"layouts/{fallback}", 1, 1)
    filename, lineno = _loop_frame(frames) if isinstance(exc, RecursionError) else frames[-1]
    return Mark(_layout_path(filename, root), lineno, 1)


def _loop_frame(frames: list[tuple[str, int]]) -> tuple[str, int]:
    """Where a layout loops: of the lines repeated most, an include if there is one, else the outermost.

    (Counts of the lines of one cycle differ by one where the stack was cut.)
    """
    counts = Counter(frames)
    most = max(counts.values())
    repeated = [frame for frame in dict.fromkeys(frames) if counts[frame] >= most - 1]
    return next((f for f in repeated if "include" in linecache.getline(*f)), repeated[0])


def _layout_path(filename: str, root: Path) -> str:
    path = Path(filename).resolve()
    for base in (root.resolve(), BUILTIN):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return filename
