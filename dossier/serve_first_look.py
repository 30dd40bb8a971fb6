"""A save's first look (serve): the saved item's own page, made at once from the last build.

On a big site the build after a save takes seconds, but the editor is looking at one page.
So before that build, serve makes the pages of the items the save changed (an explainer's
or actor's page, a card's page and the explainers that embed it) from the last build's
plan, with only the saved files read again and their bodies rendered again, and serves
them in place of the site's files until the build's site is in place (Hugo's "fast render"
does the same for the pages open in a browser). What such a page gathers from other
files (the index: backlinks, related explainers, who is involved) is the last build's
until then. Nothing is shown early for a save that adds, removes or renames a file, that
touches anything but content items and layouts, or that has any problem: the build reports those.
A saved layout is shown on the pages the browsers have open (serve_http.open_pages), each made
from the last build's plan with the layouts as saved (an item's body made again: it may embed
a card's partial); the build renders every page, 20 s and more at 5,000 explainers.

A saved stylesheet gets a first look too: its bytes, served under the name the site serves it
by now, which the open pages are told to fetch again. Every page names the stylesheet by its
fingerprint, so the build renders every page again: 12-17 s at 5,000 explainers. So a look's
pages name the theme's assets as the site serves them by now, not by the bytes on disk (a
stylesheet saved a moment ago, which serve may not even have heard of, has a name the site
does not have yet): a page saved while that build runs is shown at once too, in the saved
stylesheet, which the look serves under that name.

serve also makes first looks while a build runs, in a thread of their own: a look only reads
the last build's plan (which no later build changes) and makes objects of its own; the one
memo it shares, graph's drawings, copies its entries before it prunes them.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import load, pages, render
from .assets import FOLDER, served_names
from .cache import remembered_plan
from .markup import MarkdownRenderer
from .model import Content
from .pipeline import Options, Theme, collector_paused
from .problems import Problems
from .render import theme_dirs
from .render_bodies import OPTIONS, Renderers


def first_look(options: Options, changed: set[str], open_pages: set[str] = frozenset()) -> dict[str, bytes]:
    """The pages the saved files show, by output path, where they differ from the site's, and
    the saved stylesheets (_restyled); {} for none. The pages name the stylesheets as the site
    serves them by now: under those names a look serves the saved bytes. A saved layout shows
    on the pages the browsers have open (`open_pages`, output paths)."""
    styles = {path for path in changed if Path(path).suffix.lower() == ".css"}
    found = _restyled(options, styles) if styles else {}
    if styles and not found:
        return {}
    plan = remembered_plan(options.root, options.out)
    if plan is None or plan.inputs is None or not changed - styles:
        return found
    folders = [folder.resolve() for folder in theme_dirs(options.root, "layouts")]
    layouts = {path for path in changed if any(Path(path).is_relative_to(folder) for folder in folders)}
    with collector_paused():  # as in a build
        return found | _look(options, plan, changed - styles - layouts, open_pages if layouts else set())


def _look(options: Options, plan, changed: set[str], relaid: set[str]) -> dict[str, bytes]:
    """The pages of the saved items, and the `relaid` pages (in the layouts as saved)."""
    root, problems, inputs = options.root, Problems(), plan.inputs
    content, bodies = inputs.content, dict(inputs.bodies)
    tables = {kind: dict(getattr(content, f"{kind}s")) for kind in ("explainer", "actor", "card")}
    saved = []
    for path in sorted(changed):
        read = load.read_one(root, Path(path), problems)
        if read is None or problems.items:
            return {}
        kind, item = read
        if item.slug not in tables[kind] or getattr(item, "draft", False) and not options.drafts:
            return {}  # a new item, or one the build leaves out: the build shows it
        tables[kind][item.slug] = item
        saved.append((kind, item.slug))
    content = dataclasses.replace(content, explainers=tables["explainer"], actors=tables["actor"],
                                  cards=tables["card"])
    checked = Problems()  # the rules across files (an unknown actor, a name taken twice): the last build passed them
    load.check_references(content, checked, options.build_date(), only=set(saved))
    theme = Theme.of(root, content, None, problems, served=options.out)
    if problems.items or checked.errors or not _served(options.out, theme.static(root, content)):
        return {}

    def embed(slug: str) -> str:
        return render.render_partial(theme.env, "partials/card.html", problems, root, card=content.cards[slug],
                                     claim=bodies[("card", slug)].html, heading_level=3)

    markdown = _markdown(content, theme.urls)
    markdown.embed = embed
    shown = list(saved)
    for kind, slug in saved:  # an embedded claim is part of its explainers' bodies
        if kind == "card":
            shown += [("explainer", e) for e in inputs.index.embedded_in.get(slug, []) if ("explainer", e) not in shown]
    others = []  # the relaid pages of no item, as the last build planned them
    planned = {page.output: key for key, (page, _) in plan.pages.items()} if relaid else {}
    for rel in sorted(relaid):
        key = planned.get(rel, ())
        if len(key) == 2 and key[0] in tables and key[1] in tables[key[0]]:  # an item's: its body too (embeds)
            shown += [key] if key not in shown else []
        elif rel in plan.outputs:
            others.append(plan.outputs[rel])
    for kind, slug in sorted(shown, key=lambda k: k[0] != "card"):  # claims first: explainers embed them
        item = tables[kind][slug]
        bodies[(kind, slug)] = markdown.render(item.claim if kind == "card" else item.body, problems, **OPTIONS[kind])
    if problems.items:
        return {}
    found = {}
    for page in [pages.item_page(kind, tables[kind][slug], content, inputs.index, bodies, theme.urls, inputs.net,
                                 inputs.when) for kind, slug in shown] + others:
        data = render.render_page(theme.env, page, problems, root)
        if data is None:
            return {}
        if _differs(options.out / page.output, data):
            found[page.output] = data
    return found


def _restyled(options: Options, changed: set[str]) -> dict[str, bytes]:
    """The saved stylesheets' bytes, by the output path each is published at now (one file of
    its name, fingerprinted, in OUT); {} if one is not a theme asset the site publishes."""
    found = {}
    for path in changed:
        asset = theme_asset(options.root, Path(path))
        served = served_names(options.out / FOLDER, [asset[0]]) if asset else {}
        if not served:
            return {}
        found[f"{FOLDER}{served[asset[0]]}"] = asset[1]
    return found


def theme_asset(root: Path, path: Path) -> tuple[str, bytes] | None:
    """A file in one of the theme's asset folders, as (its name there, the bytes the site
    publishes under that name: the site's own over the built-in's); None for any other file."""
    themes = [folder.resolve() for folder in theme_dirs(root, "assets")]
    folder = next((f for f in themes if path.is_relative_to(f)), None)
    if folder is None:
        return None
    name = path.relative_to(folder).as_posix()
    try:
        return name, next(f / name for f in themes if (f / name).is_file()).read_bytes()
    except (OSError, StopIteration):  # gone again already
        return None


def _served(out: Path, static: dict[str, Any]) -> bool:
    """Whether the site has every file the look's pages may name (its assets under the names
    the look gives them, and the media)."""
    return all((out / rel).is_file() for rel in static)


class _Targets(Mapping):
    """pages.targets(content, urls), each entry made when asked for: a body names a few."""

    def __init__(self, content: Content, urls: pages.Urls):
        self.content, self.urls = content, urls

    def __getitem__(self, slug: str) -> Any:
        kind = self.content.kind_of(slug)
        if kind is None:
            raise KeyError(slug)
        return pages.target(kind, getattr(self.content, f"{kind}s")[slug], self.urls)

    def __iter__(self):
        return itertools.chain(self.content.explainers, self.content.actors, self.content.cards)

    def __len__(self) -> int:
        return len(self.content.explainers) + len(self.content.actors) + len(self.content.cards)


_RENDERER = Renderers()  # the first looks' (one at a time, in their own thread, beside builds)


def _markdown(content: Content, urls: pages.Urls) -> MarkdownRenderer:
    markdown = _RENDERER.get(pages.names(content))
    markdown.targets = _Targets(content, urls)
    return markdown


def _differs(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() != data
    except OSError:
        return True
