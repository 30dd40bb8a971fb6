"""Read content/ into a validated model. The only step that reads content files.

A big site's files are read on every core (render_pool): each file is parsed and checked
on its own, and the results are taken in file order, so the model and the problems
reported are those of one process reading them all.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from . import fields as f
from . import render_pool
from .model import (ACTOR_KINDS, CARD_STATUSES, Actor, Alias, Body, Card, Content, Explainer,
                    Relation, Site, SlugRef, Source)
from .problems import Mark, Problems, did_you_mean
from .yamlstrict import parse


class Memo(Protocol):
    """What each file was read into last time (the build cache's cache.Memo)."""

    def recall(self, reader: Callable[..., Any], slug: str, rel: str) -> Any: ...

    def made(self, reader: Callable[..., Any], slug: str, rel: str, data: bytes, text: str,
             problems: Problems) -> tuple: ...

    def keep(self, rel: str, made: tuple) -> Any: ...


MAX_FILE_BYTES = 2 * 1024 * 1024
KINDS = {"explainers": ".md", "actors": ".md", "cards": ".yml"}
CONTENT_ENTRIES = ("site.yml", *KINDS, "media")
# Names Windows keeps for devices: a file or folder named so can't be checked out or published there.
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}
# Letters of other scripts that look like Latin ones, for suggesting a file name.
LOOKALIKES = dict(zip("асеһіјорѕԁԝхуАВЕНІЈКМОРЅТХαβεηικμνορτυχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
                      "acehijopsdwxyabehijkmopstxabehikmvoptuxabehikmnoptyx"))

SITE = {
    "title": f.Field(f.text, required=True),
    "base_url": f.Field(f.base_url, required=True),
    "description": f.Field(f.text),
    "language": f.Field(f.matching(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", "a BCP 47 language tag (like en or pt-BR)")),
}
EXPLAINER = {
    "title": f.Field(f.text, required=True),
    "dek": f.Field(f.text, required=True),
    "published": f.Field(f.date, required=True),
    "updated": f.Field(f.date),
    "authors": f.Field(f.list_of(f.text)),
    "actors": f.Field(f.list_of(f.located(f.slug, SlugRef))),
    "draft": f.Field(f.boolean),
}
ACTOR = {
    "name": f.Field(f.text, required=True),
    "kind": f.Field(f.choice(*ACTOR_KINDS), required=True),
    "role": f.Field(f.text),
    "aliases": f.Field(f.list_of(f.located(f.text, Alias))),
    "relations": f.Field(f.list_of(f.record({
        "actor": f.Field(f.located(f.slug, SlugRef), required=True),
        "label": f.Field(f.text, required=True),
    }, Relation))),
    "wikidata": f.Field(f.matching(r"Q[1-9][0-9]*", "a Wikidata item id (like Q7747)")),
}
CARD = {
    "title": f.Field(f.text, required=True),
    "claim": f.Field(f.text, required=True),
    "figure": f.Field(f.text),
    "date": f.Field(f.partial_date),
    "status": f.Field(f.choice(*CARD_STATUSES)),
    "actors": f.Field(f.list_of(f.located(f.slug, SlugRef))),
    "sources": f.Field(f.list_of(f.record({
        "name": f.Field(f.text, required=True),
        "url": f.Field(f.url),
        "date": f.Field(f.partial_date),
    }, Source), non_empty=True), required=True),
}


def load(root: Path, problems: Problems, drafts: bool = False, base_url: str | None = None,
         today: dt.date | None = None, memo: Memo | None = None) -> Content | None:
    """Load and validate everything under ROOT/content; None when a file could not be read as content.

    `memo`, if given, is the build cache's record of what each file was read into last time:
    a regular file the cache's scan found unchanged is not opened again.
    """
    content_dir = root / "content"
    if not content_dir.is_dir():
        problems.error(Mark("content"), "no content/ folder here; is --root right?")
        return None
    site = _load_site(root, problems, base_url)
    files = _content_files(root, problems)
    media = tuple(_media_files(root, problems))
    content = Content(site=site) if site else None
    listed = [(kind, path, slug, rel) for kind, paths in files.items() for path, slug, rel, _ in paths]
    recalled = [memo.recall(_READERS[kind], slug, rel) if memo and plain else None  # links are always read
                for kind, paths in files.items() for _, slug, rel, plain in paths]
    todo = [task for task, item in zip(listed, recalled) if item is None]
    read = iter(render_pool.run(lambda tasks: [_read_file(*task, memo) for task in tasks], todo, cost=lambda _: 2_000))
    for (kind, _, _, rel), item in zip(listed, recalled):
        if item is None:  # read now, in file order whatever process read it: so are the problems reported
            made, found = next(read)
            problems.extend(found)
            item = memo.keep(rel, made) if memo and made else made
        if item is not None and content is not None:
            getattr(content, kind)[item.slug] = item
    if content is None or problems.errors:
        return None
    if not drafts:
        content.explainers = {s: e for s, e in content.explainers.items() if not e.draft}
    content.media = media
    check_references(content, problems, today or dt.date.today())
    return content  # complete, though references may be wrong: later steps report their own problems too


def _read_file(kind: str, path: str, slug: str, rel: str, memo: Memo | None) -> tuple[Any, list]:
    """One content file read (in this process or a worker): what it was made into, and its problems.

    With a memo, that is memo.made()'s account, which memo.keep() records in this process."""
    problems = Problems()
    data = _read_bytes(path, rel, problems)
    text = None if data is None else _decode(rel, data, problems)
    if text is None:
        return None, problems.items
    reader = _READERS[kind]
    made = memo.made(reader, slug, rel, data, text, problems) if memo else reader(slug, rel, text, problems)
    return made, problems.items


def read_one(root: Path, path: Path, problems: Problems) -> tuple[str, Any] | None:
    """One content file read alone, as (kind, item), checked as load() checks it but for its
    references; None if it is no content file, or after reporting its problems."""
    try:
        rel = _rel(root, path)
    except ValueError:
        return None
    folder, _, name = rel.removeprefix("content/").partition("/")
    suffix = KINDS.get(folder)
    if suffix is None or not rel.startswith("content/") or "/" in name or not name.endswith(suffix):
        return None
    if not _is_safe_regular_file(root.resolve(), path, rel, problems):
        return None
    text = _read_text(root, path, problems, rel)
    reader = _READERS[folder]
    item = None if text is None else reader(name[:-len(suffix)], rel, text, problems)
    return None if item is None else (folder[:-1], item)


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _load_site(root: Path, problems: Problems, base_url: str | None) -> Site | None:
    path = root / "content" / "site.yml"
    if not os.path.lexists(path):
        problems.error(Mark("content/site.yml"), "site.yml is missing; it needs at least title and base_url")
        return None
    rel = _rel(root, path)
    if not _is_safe_regular_file(root.resolve(), path, rel, problems):
        return None
    text = _read_text(root, path, problems, rel)
    if text is None:
        return None
    _, values = _read_fields(text, rel, SITE, problems)
    if values is f.INVALID:
        return None
    language = values.get("language", "en")
    url = base_url or values["base_url"]
    return Site(title=values["title"], base_url=url.rstrip("/") + "/",
                description=values.get("description", ""), language=language)


def _content_files(root: Path, problems: Problems) -> dict[str, list[tuple[str, str, str, bool]]]:
    """The files of each kind as (path, slug, path relative to root, plain), sorted; misplaced,
    misnamed and unsafe files are problems.

    Plain: a regular file, not a link, when listed. Names starting with '.' are skipped
    (editors' and systems' hidden files). Names are taken apart as strings: pathlib's
    objects cost seconds at 10,000 files, on every build.
    """
    _check_content_entries(root, problems)
    found: dict[str, list[tuple[str, str, str, bool]]] = {kind: [] for kind in KINDS}
    seen: dict[str, str] = {}  # slug -> first path
    misnamed: list[tuple[Path, str]] = []
    real_root = root.resolve()
    for kind, suffix in KINDS.items():
        folder = root / "content" / kind
        if not _is_folder(root, folder, problems):
            continue
        real_folder = folder.resolve()
        inside = real_folder.is_relative_to(real_root)
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            rel = f"content/{kind}/{name}"  # rel spelled out: relative_to() costs at 10,000 files
            # A regular file, not a link, in a folder inside the root passes every check of
            # _is_safe_regular_file: the listing's file type spares them (a cost at 10,000 files).
            plain = inside and _is_plain(entry)
            if not plain and not _is_safe_regular_file(real_root, folder / name, rel, problems, real_folder=real_folder):
                continue
            stem, ext = _split_name(name)
            if ext != suffix:
                problems.error(Mark(rel), f"unexpected file in content/{kind}/: {kind} are '{suffix}' files")
                continue
            if not f.SLUG.match(stem):
                misnamed.append((folder / name, suffix))
                continue
            if stem in WINDOWS_RESERVED:
                problems.error(Mark(rel), f"file name '{name}' is a device name on Windows, which can neither "
                                          f"check it out nor publish a page named so; choose another slug")
                continue
            if stem in seen:
                problems.error(Mark(rel), f"slug '{stem}' is already used by {seen[stem]}; slugs are unique across explainers, actors and cards")
                continue
            seen[stem] = rel
            found[kind].append((entry.path, stem, rel, plain))
    for path, suffix in misnamed:
        problems.error(Mark(_rel(root, path)), _misnamed(path.name, path.stem, suffix, seen))
    return found


def _split_name(name: str) -> tuple[str, str]:
    """A file name's stem and suffix, as pathlib's PurePath.stem and .suffix give them."""
    dot = name.rfind(".")
    if 0 < dot < len(name) - 1:
        return name[:dot], name[dot:]
    return name, ""


def _misnamed(name: str, stem: str, suffix: str, slugs: dict[str, str]) -> str:
    """What is wrong with a file name that is not a slug, and what to do."""
    suggestion = suggest_slug(stem)
    if suggestion in slugs:
        return (f"file name '{name}' is not a valid slug, and looks the same as '{suggestion}' "
                f"({slugs[suggestion]}) once case and look-alike letters are folded; rename or remove one of them")
    odd = next((c for c in stem if ord(c) > 127), None)
    why = f" ('{odd}' is U+{ord(odd):04X} {unicodedata.name(odd, 'an unnamed character')})" if odd else ""
    return f"file name '{name}' is not a valid slug{why}; rename it to '{suggestion}{suffix}'"


def _check_content_entries(root: Path, problems: Problems) -> None:
    """Anything in content/ but site.yml and the four folders is a mistake, never silently skipped."""
    for path in sorted((root / "content").iterdir()):
        if path.name.startswith(".") or path.name in CONTENT_ENTRIES:
            continue
        folder = path.is_dir()
        hint = did_you_mean(path.name, CONTENT_ENTRIES[1:]) if folder else ""
        problems.error(Mark(_rel(root, path)), f"unexpected {'folder' if folder else 'file'} in content/; "
                                               f"it holds site.yml, explainers/, actors/, cards/ and media/{hint}")


def _is_folder(root: Path, folder: Path, problems: Problems) -> bool:
    """Whether content/KIND is a folder to read; anything else there is reported."""
    if folder.is_dir():
        return True
    if os.path.lexists(folder):
        problems.error(Mark(_rel(root, folder)), "should be a folder; it is a file or a broken link")
    return False


def _is_plain(entry: os.DirEntry) -> bool:
    """Whether a listed file is a regular file and not a link (known from the listing on most systems)."""
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:  # its type could not be read: the full checks say why
        return False


def _is_safe_regular_file(real_root: Path, path: Path, rel: str, problems: Problems, noun: str = "file",
                          folder: str = "unexpected folder; content folders hold files only",
                          real_folder: Path | None = None) -> bool:
    """Whether path is a regular file inside the root (resolved); else reported (`folder` is said of a folder).

    `real_folder`, path's folder resolved, spares resolving each file that is not a link (a cost at 10,000 files).
    """
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            real = path.resolve(strict=True)
            mode = os.stat(path).st_mode
        else:  # not a link: its own stat says what it is
            real = real_folder / path.name if real_folder is not None else path.resolve(strict=True)
    except (OSError, RuntimeError):
        problems.error(Mark(rel), "is a broken symbolic link or a link loop")
        return False
    if not real.is_relative_to(real_root):
        problems.error(Mark(rel), f"is a symbolic link leading outside the site root; copy the {noun} in instead")
        return False
    if stat.S_ISDIR(mode):
        problems.error(Mark(rel), folder)
        return False
    if not stat.S_ISREG(mode):
        problems.error(Mark(rel), "is not a regular file")
        return False
    return True


def suggest_slug(name: str) -> str:
    """A valid slug close to a file name: 'Kim Jong Ün' -> 'kim-jong-un'."""
    name = "".join(LOOKALIKES.get(c, c) for c in name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "untitled"


def _read_text(root: Path, path: Path, problems: Problems, rel: str | None = None) -> str | None:
    """A file's text, or None after reporting why it can't be read as UTF-8 text (`rel`: path from root, if known)."""
    rel = rel or _rel(root, path)
    data = _read_bytes(path, rel, problems)
    return None if data is None else _decode(rel, data, problems)


def _read_bytes(path: Path, rel: str, problems: Problems) -> bytes | None:
    """A regular file's bytes, or None after reporting why they can't be read (or are too many)."""
    try:  # non-blocking, so that a pipe put in place of the file can't hang the build
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                problems.error(Mark(rel), "is not a regular file")
                return None
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.error(Mark(rel), f"cannot be read: {exc.strerror}")
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.error(Mark(rel), f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; content files are text of a few pages")
        return None
    return data


def _decode(rel: str, data: bytes, problems: Problems) -> str | None:
    """A file's bytes as text with newlines only, or None after reporting why they are not UTF-8 text."""
    if data.startswith(b"\xef\xbb\xbf"):
        problems.error(Mark(rel), "starts with a byte-order mark (BOM); save it as UTF-8 without BOM")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.error(_offset_mark(rel, data, exc.start), "is not valid UTF-8 here; save the file as UTF-8")
        return None
    if "\x00" in text:
        problems.error(_offset_mark(rel, data, data.index(b"\x00")), "contains a NUL byte; is this a text file?")
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = f.CONTROL.search(text)
    if control:
        at = control.start()
        problems.error(Mark(rel, text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)),
                       f"contains the invisible control character U+{ord(control.group()):04X} here; remove it")
        return None
    return text


def _offset_mark(rel: str, data: bytes, offset: int) -> Mark:
    """Where byte `offset` of a file is, lines broken as an editor breaks them (CR, LF or both)."""
    before = data[:offset].decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return Mark(rel, before.count("\n") + 1, len(before) - before.rfind("\n"))


def split_front_matter(text: str, rel: str, problems: Problems) -> tuple[str, int, str, int] | None:
    """(yaml, first yaml line, body, first body line) of a Markdown file with front matter."""
    lines = text.split("\n")
    if not text.strip():
        problems.error(Mark(rel, 1, 1), "is empty; it needs front matter: a line '---', the YAML fields, then '---'")
        return None
    if lines[0].rstrip() != "---":
        problems.error(Mark(rel, 1, 1), "must start with front matter: a line '---', the YAML fields, then '---'")
        return None
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:number - 1]), 2, "\n".join(lines[number:]), number + 1
    problems.error(Mark(rel, 1, 1), "front matter is never closed; add a line '---' after the fields")
    return None


def _read_fields(yaml_text: str, rel: str, schema: dict, problems: Problems, first_line: int = 1,
                 marks: dict[str, Mark] | None = None) -> tuple[Any, Any]:
    """(YAML node, checked field values) of a YAML text; values INVALID after reporting why."""
    before = len(problems.items)
    node = parse(yaml_text, rel, problems, first_line=first_line)
    if node is None and len(problems.items) > before:  # unreadable YAML: its own message says why
        return None, f.INVALID
    return node, f.read_mapping(node, schema, problems, Mark(rel, 1, 1), marks)


def _front_matter(rel: str, text: str, schema: dict, problems: Problems) -> tuple[dict, dict, Body] | None:
    parts = split_front_matter(text, rel, problems)
    if parts is None:
        return None
    yaml_text, yaml_line, body, body_line = parts
    marks: dict[str, Mark] = {}
    _, values = _read_fields(yaml_text, rel, schema, problems, yaml_line, marks)
    if values is f.INVALID:
        return None
    return values, marks, Body(body, rel, body_line)


def _explainer(slug: str, rel: str, text: str, problems: Problems) -> Explainer | None:
    parsed = _front_matter(rel, text, EXPLAINER, problems)
    if parsed is None:
        return None
    values, marks, body = parsed
    return Explainer(slug=slug, path=rel, body=body, marks=marks, **values)


def _actor(slug: str, rel: str, text: str, problems: Problems) -> Actor | None:
    parsed = _front_matter(rel, text, ACTOR, problems)
    if parsed is None:
        return None
    values, marks, body = parsed
    return Actor(slug=slug, path=rel, body=body, marks=marks, **values)


def _card(slug: str, rel: str, text: str, problems: Problems) -> Card | None:
    node, values = _read_fields(text, rel, CARD, problems)
    if values is f.INVALID:
        return None
    claim_node = node.items["claim"][1]  # [[references]] in the claim are found where it was written
    claim = Body(values.pop("claim"), rel, claim_node.mark.line, claim_node.mark.col, claim_node.source)
    return Card(slug=slug, path=rel, claim=claim, **values)


_READERS: dict[str, Callable[..., Any]] = {"explainers": _explainer, "actors": _actor, "cards": _card}  # by folder


def _media_files(root: Path, problems: Problems) -> list[str]:
    media = root / "content" / "media"
    if not media.is_dir():
        return []
    found = []
    real_root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(media):
        links = {d for d in dirnames if os.path.islink(os.path.join(dirpath, d))}
        for name in sorted(links):  # links to folders are not followed: they could loop or lead anywhere
            path = Path(dirpath) / name
            if not name.startswith("."):
                _is_safe_regular_file(real_root, path, _rel(root, path), problems, "folder", folder="is a symbolic link to "
                                      "a folder, which is not followed; copy the folder in instead")
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in links)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not name.startswith(".") and _is_safe_regular_file(real_root, path, _rel(root, path), problems):
                found.append(path.relative_to(media).as_posix())
    return found


def check_references(content: Content, problems: Problems, today: dt.date,
                     only: set[tuple[str, str]] | None = None) -> None:
    """Cross-file rules: slugs that must exist, unique aliases, sensible dates.

    `only`, (kind, slug) of some items: just the rules they take part in (serve's first look at
    a save, where every other item passed them in the last build)."""
    actors = content.actors

    def chosen(kind: str, table: dict) -> Iterable:
        return table.values() if only is None else [table[slug] for k, slug in only if k == kind]

    all_refs: list[SlugRef] = []
    for explainer in chosen("explainer", content.explainers):
        all_refs.extend(explainer.actors)
        if explainer.updated and explainer.updated < explainer.published:
            problems.error(explainer.marks["updated"], f"updated ({explainer.updated}) is before published ({explainer.published})")
        if explainer.published > today:
            problems.warning(explainer.marks["published"], f"published date {explainer.published} is in the future")
    for card in chosen("card", content.cards):
        all_refs.extend(card.actors)
    for actor in chosen("actor", actors):
        for relation in actor.relations:
            if relation.actor.slug == actor.slug:
                problems.error(relation.actor.mark, f"actor '{actor.slug}' cannot be related to itself")
            all_refs.append(relation.actor)
    for ref in all_refs:
        if ref.slug not in actors:
            problems.error(ref.mark, f"unknown actor '{ref.slug}'{did_you_mean(ref.slug, actors)}")
    if only is not None and not any(kind == "actor" for kind, _ in only):
        return  # names and aliases are the actors' own
    names: dict[str, tuple[str, Mark]] = {}
    for actor in actors.values():
        owner = names.setdefault(actor.name, (actor.slug, actor.marks.get("name", Mark(actor.path))))
        if owner[0] != actor.slug:  # mentions of the name could not tell the two apart
            problems.error(actor.marks.get("name", Mark(actor.path)), f"name '{actor.name}' is already the name of "
                                                                      f"actor '{owner[0]}'; tell them apart, as in "
                                                                      f"'{actor.name} ({actor.kind})'")
    for actor in actors.values():
        for alias in actor.aliases:
            owner = names.get(alias.text)
            if owner and owner[0] != actor.slug:
                problems.error(alias.mark, f"alias '{alias.text}' is already a name or alias of actor '{owner[0]}'")
            else:
                names[alias.text] = (actor.slug, alias.mark)
