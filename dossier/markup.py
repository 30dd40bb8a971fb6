"""Markdown to HTML with Python-Markdown, plus the facts the reference index needs.

The extension works on Python-Markdown's parse tree:
- `[[slug]]` and `[[slug|text]]` are an inline processor;
- `![[card]]` alone on a line is a block processor that embeds the card;
- a tree processor, running after the table of contents has given headings their
  ids, opens positions (`### [[actor]]`), links the first plain-text mention of
  each actor in explainers, and records every mention with its sentence and the
  section anchor it sits under;
- a block processor that refuses lists and quotes nested past MAX_NESTING levels,
  where Python-Markdown's time grows steeply and its recursion ends in a crash.
Python-Markdown's inline step is markup_inline's QuickInline: the same, but it skips patterns that cannot match.
The HTML that comes out passes the allowlist sanitizer (markup_sanitize); embedded cards go in after it.
"""

from __future__ import annotations

import bisect
import html as htmllib
import re
import secrets
import xml.etree.ElementTree as etree
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple

import markdown
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from .markup_inline import QuickInline
from .markup_sanitize import sanitize
from .model import Body
from .problems import Mark, Problems, did_you_mean

REF = re.compile(r"\[\[([^\[\]|]*)(?:\|([^\[\]]*))?\]\]")
EMBED_LINE = re.compile(r"^[ ]{0,3}!\[\[([^\[\]|]*)\]\][ \t]*$", re.M)
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+")
PLACEHOLDER = re.compile("\x02(wzxhzdk:)?(\\d+)\x03")
SOURCE_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash-escaped punctuation character
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
MAX_NESTING = 40  # block parser states (lists, list items, quotes) open inside each other
TEXT_BLOCKS = {"p", "li", "td", "th", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "caption"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
NO_LINK = {"a", "code", "pre", "kbd", "samp", "script", "style"}


@dataclass(frozen=True)
class Target:
    """Where a slug links to, and the text a bare [[slug]] shows."""

    url: str
    label: str
    kind: str  # explainer, actor or card


class Mention(NamedTuple):
    """Tuples, Mention and Position: a big site's bodies hold hundreds of thousands of them,
    read back from the build cache by every build (257,000 at 5,000 explainers: 0.26 s as
    dataclasses, 0.16 s as tuples), and two builds' lists of them are compared in C."""

    actor: str
    anchor: str  # id of the section it sits under ('' at the top)
    section: str  # that section's title
    sentence: str
    linked: bool  # a [[reference]] rather than a plain-text mention


class Position(NamedTuple):
    actor: str
    section: str
    section_anchor: str
    anchor: str
    text: str  # the position as plain text, for quoting


@dataclass
class Rendered:
    """A Markdown body as HTML, with everything the index reads from it."""

    html: str = ""
    toc: list[tuple[str, str]] = field(default_factory=list)  # (id, title) of each ## section
    mentions: list[Mention] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    embeds: list[tuple[str, str]] = field(default_factory=list)  # (card slug, section anchor)
    positions: list[Position] = field(default_factory=list)


class NameMatcher:
    """Finds actors' names and aliases in text: whole words, case-sensitive, longest first."""

    def __init__(self, names: dict[str, str]):
        # first word -> (the lengths of its names, longest first; name -> slug). Looking up each length,
        # not trying each name, keeps the cost flat when hundreds of names start alike ("Ms.", "Dr.").
        grouped: dict[str, dict[str, str]] = defaultdict(dict)
        for name, slug in names.items():
            first = re.match(r"\w+", name)
            if first:
                grouped[first.group()][name] = slug
        self._by_first_word = {word: (sorted({len(name) for name in table}, reverse=True), table)
                               for word, table in grouped.items()}
        # the words that can start a name, by their first letter: find() then loops over a tenth of the words
        firsts = "".join(sorted({word[0] for word in grouped}))
        self._words = re.compile(rf"(?<!\w)[{re.escape(firsts)}]\w*" if firsts else r"(?!)")

    def find(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, actor slug) of each mention, left to right, never overlapping."""
        position = 0
        for word in self._words.finditer(text):
            start = word.start()
            if start < position or (start > 0 and text[start - 1].isalnum()):
                continue
            lengths, table = self._by_first_word.get(word.group(), ((), None))
            for length in lengths:
                end = start + length
                slug = table.get(text[start:end]) if end <= len(text) else None
                if slug is not None and not (end < len(text) and (text[end].isalnum() or text[end] == "_")):
                    yield start, end, slug
                    position = end
                    break


@dataclass
class _Doc:
    """The state of one conversion, shared by the extension's processors."""

    body: Body
    problems: Problems
    autolink: bool
    allow_embeds: bool
    ref_marks: dict[str, deque[Mark]]
    result: Rendered = field(default_factory=Rendered)
    links: dict[int, str] = field(default_factory=dict)  # id() of each [[ref]] link made -> its slug
    embeds: dict[int, str] = field(default_factory=dict)  # id() of each card embed made -> the card
    made: list[etree.Element] = field(default_factory=list)  # those elements, kept alive so ids stay theirs
    cards: dict[str, str] = field(default_factory=dict)  # a stand-in in the HTML -> the embedded card's HTML
    too_deep: bool = False

    def mark_of(self, raw: str) -> Mark:
        marks = self.ref_marks.get(raw)
        return marks.popleft() if marks else Mark(self.body.path, self.body.first_line, self.body.first_col)


class MarkdownRenderer:
    """One Python-Markdown instance, reused for every body of a build."""

    def __init__(self, targets: dict[str, Target], names: dict[str, str],
                 embed: Callable[[str], str] | None = None):
        self.targets = targets
        self.matcher = NameMatcher(names)
        self.embed = embed or (lambda slug: "")
        self.doc: _Doc | None = None
        self.md = markdown.Markdown(
            extensions=["tables", "fenced_code", "footnotes", "sane_lists", "attr_list",
                        "toc", ExplainerExtension(self)],
            extension_configs={"toc": {"toc_depth": "2", "slugify": slugify_unicode}},
            output_format="html",
        )

    def render(self, body: Body, problems: Problems, autolink: bool = False,
               allow_embeds: bool = True, inline: bool = False) -> Rendered:
        """Convert one Markdown body; problems are reported with their file:line:col."""
        self.doc = _Doc(body, problems, autolink, allow_embeds, _locate_refs(body))
        try:
            html = self.md.reset().convert(body.text)
            toc = [(t["id"], htmllib.unescape(t["name"])) for t in self.md.toc_tokens]
        except RecursionError:  # nesting the guard can't see, such as loose lists inside each other
            del self.md.parser.state[:]  # left half-way by the interrupted parse
            problems.error(Mark(body.path, body.first_line, body.first_col),
                           "is nested too deeply for the Markdown parser (lists, quotes or HTML inside each other); flatten it")
            html, toc = "", []
        finally:
            doc, self.doc = self.doc, None
        if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
            html = html[3:-4]
        html = sanitize(html)
        for stand_in, card in doc.cards.items():  # the theme's partial, as it wrote it: not content to clean
            html = html.replace(stand_in, card, 1)
        doc.result.html = html
        doc.result.toc = toc
        return doc.result


def _locate_refs(body: Body) -> dict[str, deque[Mark]]:
    """Where each [[...]] of a body was written, by its text with backslash escapes undone.

    Read from the body as written in the file (a card's claim with its quotes); references
    in code, which are not references, are left out.
    """
    marks: dict[str, deque[Mark]] = defaultdict(deque)
    fence = ""
    for number, line in enumerate((body.source or body.text).split("\n")):
        opener = FENCE.match(line)
        if fence or opener:
            if not fence:
                fence = opener.group(1)
            elif opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = ""
            continue
        code = [span.span() for span in CODE_SPAN.finditer(line)] if "`" in line else []
        for match in REF.finditer(line):
            if any(start <= match.start() < end for start, end in code):
                continue
            col = match.start() + (body.first_col if number == 0 else 1)
            marks[SOURCE_ESCAPE.sub(r"\1", match.group(0))].append(Mark(body.path, body.first_line + number, col))
    return marks


def _block_mark(body: Body, block: str) -> Mark:
    """Where a block the parser holds (indents and quote marks taken off) starts in the body."""
    first = next((line.strip(" >\t") for line in block.split("\n") if line.strip(" >\t")), "")
    found = [(line.index(first), number) for number, line in enumerate(body.text.split("\n")) if first and first in line]
    if not found:
        return Mark(body.path, body.first_line, body.first_col)
    col, number = max(found, key=lambda f: (f[0], -f[1]))  # the most indented such line: the deepest
    return Mark(body.path, body.first_line + number, col + 1)


class ExplainerExtension(Extension):
    def __init__(self, renderer: MarkdownRenderer):
        super().__init__()
        self.renderer = renderer

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.inlinePatterns.register(RefProcessor(REF.pattern, md, self.renderer), "dossier-ref", 175)
        md.parser.blockprocessors.register(DepthGuard(md.parser, self.renderer), "dossier-depth", 1000)
        md.parser.blockprocessors.register(EmbedProcessor(md.parser, self.renderer), "dossier-embed", 95)
        md.treeprocessors.register(FactsProcessor(md, self.renderer), "dossier-facts", 4)
        md.treeprocessors.register(QuickInline(md), "inline", 20)  # in place of Python-Markdown's own


class DepthGuard(BlockProcessor):
    """Blocks nested past MAX_NESTING parser states are reported, not parsed."""

    def __init__(self, parser, renderer: MarkdownRenderer):
        super().__init__(parser)
        self.renderer = renderer

    def test(self, parent, block: str) -> bool:
        return len(self.parser.state) >= MAX_NESTING

    def run(self, parent, blocks: list[str]) -> None:
        block = blocks.pop(0)
        doc = self.renderer.doc
        if not doc.too_deep:
            doc.too_deep = True
            doc.problems.error(_block_mark(doc.body, block),
                               f"lists or quotes nested more than {MAX_NESTING} levels deep; flatten them")


class RefProcessor(InlineProcessor):
    """[[slug]] and [[slug|text]] become links to the item's page."""

    def __init__(self, pattern: str, md: markdown.Markdown, renderer: MarkdownRenderer):
        super().__init__(pattern, md)
        self.renderer = renderer

    def handleMatch(self, m: re.Match, data: str):  # type: ignore[override]
        doc = self.renderer.doc
        written = self._readable(m.group(0))
        mark = doc.mark_of(written)
        slug, text = self._readable(m.group(1)).strip(), m.group(2)
        target = self.renderer.targets.get(slug)
        problem = self._misplaced(m, data, written, slug, doc)
        if problem:
            doc.problems.error(_opening_mark(mark, data, m.start(0)), problem)
        elif not slug:
            doc.problems.error(mark, f"empty reference {written}; write [[slug]] or [[slug|text]]")
        elif target is None:
            doc.problems.error(mark, f"unknown reference [[{slug}]]{did_you_mean(slug, self.renderer.targets)}")
        elif text is not None and not text.strip():
            doc.problems.error(mark, f"reference [[{slug}|]] has an empty text; write [[{slug}]] or [[{slug}|text]]")
        if problem or target is None or (text is not None and not text.strip()):
            span = etree.Element("span", {"class": "broken-ref"})
            span.text = AtomicString(written)
            return span, m.start(0), m.end(0)
        link = etree.Element("a", {"href": target.url, "class": f"ref ref-{target.kind}"})
        link.text = AtomicString(text.strip() if text is not None else target.label)
        doc.links[id(link)] = slug
        doc.made.append(link)
        doc.result.refs.append(slug)
        return link, m.start(0), m.end(0)

    def _readable(self, raw: str) -> str:
        """Text of the paragraph as the editor wrote it: escapes and code undone from placeholders."""
        return _plain(self.unescape(raw), self.md).replace("\x02", "").replace("\x03", "")

    @staticmethod
    def _misplaced(m: re.Match, data: str, written: str, slug: str, doc: _Doc) -> str:
        """Why a reference can't stand where it is (inside other brackets, or an embed mid-line), or ''."""
        before, end = data[:m.start(0)], m.end(0)
        if (before.rfind("[[") > before.rfind("]]") or data.startswith("]]", end)
                or (before.endswith("[") and data.startswith("]", end))):
            return f"brackets nested around {written}; write a reference as [[slug]] or [[slug|text]]"
        if before.endswith("!") and not doc.allow_embeds:
            return f"![[{slug}]]: a card cannot embed another card; use [[{slug}]] to link to it"
        if before.endswith("!"):
            return f"![[{slug}]] embeds a card only alone on its own line; move it there, or write [[{slug}]] to link to it"
        return ""


def _opening_mark(mark: Mark, data: str, start: int) -> Mark:
    """The mark of a reference at data[start], moved back to an unclosed '[[' or a '!' just before it."""
    before = data[:start]
    opening = before.rfind("[[") if before.rfind("[[") > before.rfind("]]") else start - before.endswith("!")
    if "\x02" in data[opening:start] or mark.col - (start - opening) < 1:
        return mark
    return Mark(mark.path, mark.line, mark.col - (start - opening))


class EmbedProcessor(BlockProcessor):
    """`![[card]]` alone on a line embeds the card as a block."""

    def __init__(self, parser, renderer: MarkdownRenderer):
        super().__init__(parser)
        self.renderer = renderer

    def test(self, parent, block: str) -> bool:
        return not block.startswith("    ") and bool(EMBED_LINE.search(block))

    def run(self, parent, blocks: list[str]) -> None:
        block = blocks.pop(0)
        match = EMBED_LINE.search(block)
        before, after = block[:match.start()].rstrip("\n"), block[match.end():].lstrip("\n")
        if before:
            self.parser.parseBlocks(parent, [before])
        doc = self.renderer.doc
        slug = match.group(1).strip()
        inner = doc.mark_of(match.group(0).strip()[1:])
        mark = Mark(inner.path, inner.line, max(1, inner.col - 1))
        target = self.renderer.targets.get(slug)
        if not doc.allow_embeds:
            doc.problems.error(mark, f"![[{slug}]]: a card cannot embed another card; use [[{slug}]] to link to it")
        elif target is None:
            doc.problems.error(mark, f"unknown card ![[{slug}]]{did_you_mean(slug, self.renderer.targets)}")
        elif target.kind != "card":
            doc.problems.error(mark, f"![[{slug}]] embeds cards only; '{slug}' is an {target.kind}, link to it with [[{slug}]]")
        else:
            div = etree.SubElement(parent, "div", {"class": "card-embed"})
            stand_in = f"dossier-card-{secrets.token_hex(8)}"  # CARD_STAND_IN: text the sanitizer keeps, no body holds
            doc.cards[stand_in] = self.renderer.embed(slug)
            div.text = self.parser.md.htmlStash.store(stand_in)
            doc.embeds[id(div)] = slug
            doc.made.append(div)
        if after:
            blocks.insert(0, after)


class FactsProcessor(Treeprocessor):
    """Positions, automatic links and mentions, read off the finished tree."""

    def __init__(self, md: markdown.Markdown, renderer: MarkdownRenderer):
        super().__init__(md)
        self.renderer = renderer

    def run(self, root: etree.Element) -> None:
        doc = self.renderer.doc
        self.linked: set[str] = set()
        self.section = ("", "")
        self.used_ids = {el.get("id") for el in root.iter() if el.get("id")}
        self.id_next: dict[str, int] = {}
        self.positions: dict[str, Position] = {}
        self.seen: set[tuple[str, str]] = set()  # (actor, sentence) already recorded
        self.anchor = ""  # set inside a position: mentions there link to it
        self._group_positions(root, doc)
        self._walk(root, doc)

    def _position_actor(self, el: etree.Element) -> str | None:
        """The actor of a `### [[actor]]` heading, else None."""
        if el.tag != "h3" or len(el) != 1 or (el.text or "").strip() or (el[0].tail or "").strip():
            return None
        slug = self.renderer.doc.links.get(id(el[0]))
        if slug and self.renderer.targets[slug].kind == "actor":
            return slug
        return None

    def _group_positions(self, root: etree.Element, doc: _Doc) -> None:
        """Wrap each position in a section, and consecutive positions in one group."""
        children = list(root)
        for child in children:
            root.remove(child)
        section_id, section_title = "", ""
        group: etree.Element | None = None
        current: etree.Element | None = None
        opened = []
        for child in children:
            actor = self._position_actor(child)
            if actor is not None:
                if group is None:
                    group = etree.SubElement(root, "div", {"class": "positions"})
                anchor = self._unique_id(f"{section_id or 'position'}-{actor}")
                child.set("id", anchor)
                current = etree.SubElement(group, "section", {"class": "position", "aria-labelledby": anchor})
                current.append(child)
                opened.append((current, actor, anchor, section_id, section_title))
                continue
            if child.tag == "h2":
                section_id, section_title = child.get("id", ""), _text(child, self.md)
            if current is not None and child.tag not in ("h2", "h3", "hr"):
                current.append(child)
            else:
                group = current = None
                root.append(child)
        for element, actor, anchor, section_id, section_title in opened:
            text = " ".join(filter(None, (_text(el, self.md) for el in list(element)[1:])))  # an embed has none
            position = Position(actor, section_title, section_id, anchor, text)
            self.positions[anchor] = position
            doc.result.positions.append(position)

    def _unique_id(self, wanted: str) -> str:
        n = self.id_next.get(wanted, 1)  # the numbers below were taken the last time
        candidate = wanted if n == 1 else f"{wanted}-{n}"
        while candidate in self.used_ids:
            n += 1
            candidate = f"{wanted}-{n}"
        self.id_next[wanted] = n
        self.used_ids.add(candidate)
        return candidate

    def _walk(self, parent: etree.Element, doc: _Doc) -> None:
        for el in parent:
            if el.tag == "h2":
                self.section = (el.get("id", ""), _text(el, self.md))
            if id(el) in doc.embeds:
                doc.result.embeds.append((doc.embeds[id(el)], self.section[0]))
                continue
            if el.tag in TEXT_BLOCKS:
                self._block(el, doc)
            if el.tag == "section" and el.get("class") == "position":
                self.anchor = el[0].get("id", "")
                self._walk(el, doc)
                self.anchor = ""
            elif el.tag not in NO_LINK:
                self._walk(el, doc)

    def _block(self, block: etree.Element, doc: _Doc) -> None:
        """Record the mentions in one block of text, and link first mentions in place."""
        position = self.positions.get(block.get("id", ""))
        if position is not None:
            sentence = _sentence(position.text, 0)
            self.seen.add((position.actor, sentence))
            doc.result.mentions.append(Mention(position.actor, position.anchor, position.section, sentence, True))
            return
        parts, found = [], []
        length = 0
        for owner, attr, parent, in_link, in_code in _slots(block, block, False, False, doc.links):
            raw = owner.text if attr == "ref" else getattr(owner, attr)
            if attr == "ref":
                found.append((length, doc.links[id(owner)], None, False))
            elif not in_code:
                done, offset = 0, length
                for start, end, actor in self.renderer.matcher.find(raw):
                    offset += len(_plain(raw[done:start], self.md))
                    done = start
                    where = None if in_link else (owner, attr, parent, start, end)
                    found.append((offset, actor, where, True))
            plain = _plain(raw, self.md)
            parts.append(plain)
            length += len(plain)
        sentences = None  # found only for a block that mentions an actor: most name none
        links = []
        for offset, actor, where, plain_text in found:
            if self.renderer.targets[actor].kind != "actor":
                continue
            sentences = sentences or Sentences("".join(parts))
            sentence = sentences.around(offset)
            if (actor, sentence) not in self.seen:
                self.seen.add((actor, sentence))
                doc.result.mentions.append(Mention(actor, self.anchor or self.section[0], self.section[1],
                                                   sentence, not plain_text))
            if where and doc.autolink and block.tag not in HEADINGS and actor not in self.linked:
                self.linked.add(actor)
                links.append((where, actor))
        for where, actor in reversed(links):
            _insert_link(*where, self.renderer.targets[actor])


def _slots(el: etree.Element, parent: etree.Element, in_link: bool, in_code: bool, refs: dict[int, str]):
    """The text slots of a block in reading order: (element, 'text'|'tail'|'ref', its parent, in link, in code).

    Nested blocks (a paragraph inside a list item) are left to their own turn; `refs` holds
    the [[reference]] links.
    """
    if id(el) in refs:
        yield el, "ref", parent, True, in_code
        return
    in_link = in_link or el.tag == "a"
    in_code = in_code or el.tag in ("code", "pre", "kbd", "samp")
    if el.text:
        yield el, "text", parent, in_link, in_code or isinstance(el.text, AtomicString)
    for child in el:
        if child.tag in TEXT_BLOCKS or child.tag in ("ul", "ol", "blockquote", "div", "table", "dl"):
            continue
        yield from _slots(child, el, in_link, in_code, refs)
        if child.tail:
            yield child, "tail", el, in_link, in_code


def _insert_link(owner: etree.Element, attr: str, parent: etree.Element, start: int, end: int, target: Target) -> None:
    """Split owner.text (or owner.tail) around [start:end) and put a link there."""
    raw = getattr(owner, attr)
    link = etree.Element("a", {"href": target.url, "class": "ref ref-actor mention"})
    link.text = AtomicString(raw[start:end])
    link.tail = raw[end:]
    setattr(owner, attr, raw[:start])
    if attr == "text":
        owner.insert(0, link)
    else:
        parent.insert(list(parent).index(owner) + 1, link)


CARD_STAND_IN = re.compile(r"dossier-card-[0-9a-f]{16}")  # where an embedded card goes in, once the HTML is clean


def _plain(raw: str, md: markdown.Markdown) -> str:
    """Text with Python-Markdown's placeholders turned back into the characters they hold."""
    def restore(m: re.Match) -> str:
        if m.group(1):
            stashed = str(md.htmlStash.rawHtmlBlocks[int(m.group(2))])
            if CARD_STAND_IN.fullmatch(stashed):  # an embedded card: not the body's own words
                return ""
            return htmllib.unescape(re.sub(r"<[^>]*>", "", stashed))
        return chr(int(m.group(2)))
    return PLACEHOLDER.sub(restore, raw) if "\x02" in raw else raw


def _text(el: etree.Element, md: markdown.Markdown) -> str:
    return " ".join(_plain("".join(el.itertext()), md).split())


ABBREVIATIONS = {"Mr", "Mrs", "Ms", "Dr", "St", "Mt", "Gen", "Col", "Lt", "Sgt", "Sen", "Rep", "Gov", "Pres",
                 "Prof", "Jr", "Sr", "No", "vs", "etc", "e.g", "i.e", "U.S", "U.N", "U.K", "E.U", "Jan", "Feb",
                 "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"}


class Sentences:
    """A text's sentence ends, found once, so that finding the sentence around each of many
    mentions stays cheap."""

    def __init__(self, text: str):
        self.text = text
        self.ends: list[tuple[int, int]] = []  # (end of the sentence, start of the next)
        for m in SENTENCE_END.finditer(text):
            before = text[max(0, m.start() - 64):m.start()]  # ends in the punctuation: never blank
            word = before.rstrip("\"”’)]").rsplit(None, 1)[-1].rstrip(".")
            if not (word in ABBREVIATIONS or (len(word) == 1 and word.isupper())):
                self.ends.append((m.start(), m.end()))
        self.next_starts = [next_start for _, next_start in self.ends]
        self.clipped: dict[int, str] = {}

    def around(self, offset: int) -> str:
        """The sentence around text[offset], clipped."""
        n = bisect.bisect_right(self.next_starts, offset)
        if n not in self.clipped:
            start = self.ends[n - 1][1] if n else 0
            end = self.ends[n][0] if n < len(self.ends) else len(self.text)
            self.clipped[n] = _clip(self.text[start:end])
        return self.clipped[n]


def _sentence(text: str, offset: int) -> str:
    return Sentences(text).around(offset)


def _clip(text: str, limit: int = 320) -> str:
    sentence = " ".join(text.split())
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
