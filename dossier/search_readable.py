"""What Pagefind reads of a page, told without running it: whether a page marks its readable
part (`marked`), the page without the elements it is told to ignore (`readable`), where two
versions of a page differ only in a <link> of the head (`only_a_link_changed`), and the page's
words (`words`).

An edit makes a search shard again only where what Pagefind reads of one of its pages
changed (search.py); these say where that is, or when it cannot be told.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

MARKED = re.compile(rb"<[^>]*\sdata-pagefind-body[\s=/>]")  # a page whose readable part is marked


def marked(page: bytes) -> bool:
    """Whether a page marks its readable part for Pagefind (`data-pagefind-body`)."""
    at = page.find(b"data-pagefind-body")  # a plain find first: a 5 MB list page in 1 ms
    return at != -1 and MARKED.search(page, max(0, page.rfind(b"<", 0, at))) is not None


def readable(page: bytes) -> bytes:
    """The page as far as Pagefind's index can tell: with each element marked
    `data-pagefind-ignore` cut out whenever nothing in it can reach the index.

    Two pages with the same readable bytes give the same index (an edit then makes no shard
    again for them): an actor's page whose list of mentions changed is indexed as it was.
    An ignored element that holds what Pagefind still takes from it is left in: metadata,
    filters, sorts, index attributes, an <h1>, <img> or first <title> (default title and
    image). So is one whose end cannot be told for sure (no end tag, a comment, a script,
    tags left open, an empty-element tag outside SVG). Leaving in costs only time.
    """
    parts, done = [], 0
    for start, end in unread(page):
        parts += [page[done:start], b"<!--ignored-->"]
        done = end
    parts.append(page[done:])
    return b"".join(parts) if parts[1:] else page


def unread(page: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each element readable() cuts out, in order."""
    title = _TITLE.search(page)  # the first <title> is the page's title for Pagefind; any later one is not
    lowered = None
    done = 0
    at = page.find(b"data-pagefind-ignore")
    while at != -1:
        start = page.rfind(b"<", 0, at)
        tag = _TAG.match(page, start) if start >= done else None
        end = None
        if tag is not None and tag.end() > at:
            lowered = lowered or _Lowered(page)
            end = _ignored_element(page, tag, title is not None and title.start() < start, lowered)
        if end is not None:
            yield start, end
            done = end
        at = page.find(b"data-pagefind-ignore", max(at + 1, done))


# A start or end tag, its attributes' quoted values read whole ("a>b" stays in); one way to
# match each character, so a tag left open costs one pass, not a backtracking storm.
_TAG = re.compile(rb"""<(/?)([a-zA-Z][^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ATTRIBUTE = re.compile(rb"""([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")
_VOID = {b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"source", b"track",
         b"wbr"}
_FOREIGN = {b"svg", b"math"}  # where <x/> closes x
# Elements that only their own end tag closes, whatever they hold (so not <p>, <li>, <a>, a
# heading): an ignored one ends at its end tag. <p> too, while it holds only _PHRASING elements.
_CLOSED = {b"abbr", b"article", b"aside", b"b", b"blockquote", b"cite", b"code", b"details", b"div", b"dl", b"em",
           b"figure", b"footer", b"header", b"i", b"kbd", b"label", b"main", b"mark", b"nav", b"ol", b"pre", b"q",
           b"s", b"section", b"small", b"span", b"strong", b"sub", b"summary", b"sup", b"table", b"time", b"u",
           b"ul"}
_PHRASING = {b"a", b"abbr", b"b", b"br", b"cite", b"code", b"em", b"i", b"kbd", b"mark", b"q", b"s", b"small",
             b"span", b"strong", b"sub", b"sup", b"time", b"u", b"wbr"}  # all a <p> may hold and stay open
# Tags that close elements up to one of these: within an ignored element, one must be open in it.
_WITHIN = {b"li": {b"ul", b"ol", b"menu"}, b"dd": {b"dl"}, b"dt": {b"dl"}, b"option": {b"select", b"datalist"},
           b"optgroup": {b"select"}, **dict.fromkeys([b"tr", b"td", b"th", b"tbody", b"thead", b"tfoot", b"caption",
                                                      b"col", b"colgroup"], {b"table"})}
# What Pagefind takes from inside an ignored element, or what hides the element's end.
# Both are looked for in the page in lower case (`_reaches_index`): one case-blind pattern beginning with
# `data-pagefind-` cannot skip ahead to a first character, and scanned 6 times slower (0.44 s, 28 MB).
_REACHES_INDEX = re.compile(rb"<(?:h1|img|body|html|head|script|style|template|textarea|noscript|iframe|xmp|"
                            rb"plaintext|nobr)[\s/>]|<!|<\?")
_ATTRIBUTE_NOT_IGNORE = re.compile(rb"data-pagefind-(?!ignore[\s=/>])")
_TITLE = re.compile(rb"<title[\s/>]", re.IGNORECASE)


def _reaches_index(lowered: bytes, start: int, end: int) -> bool:
    """Whether the page (lowered) holds between start and end what Pagefind takes from an ignored element
    (an attribute of Pagefind's but data-pagefind-ignore, an <h1>, ...) or what hides its end (a comment, ...)."""
    if _REACHES_INDEX.search(lowered, start, end):
        return True
    at = lowered.find(b"data-pagefind-", start, end)  # a plain find first, as in marked()
    while at != -1:
        if _ATTRIBUTE_NOT_IGNORE.match(lowered, at, end):
            return True
        at = lowered.find(b"data-pagefind-", at + 1, end)
    return False


def _ignored_element(page: bytes, tag: re.Match, titled: bool, lowered: "_Lowered") -> int | None:
    """Where the ignored element opened by `tag` ends, if it can be cut out; read in the page
    in lower case (`lowered`), where tags' names are as the sets above spell them."""
    name = tag.group(2).lower()
    if tag.group(1) or name not in _CLOSED and name != b"p" or tag.group(3).endswith(b"/") \
            or b"data-pagefind-ignore" not in {m.group(1).lower() for m in _ATTRIBUTE.finditer(tag.group(3))} \
            or _reaches_index(lowered.page, tag.start(), tag.end()):
        return None
    # in an open <p> or <a>, a block or a link would close the outer one, and this with it
    phrasing = name == b"p" or lowered.opened(tag.start(), b"p")
    in_link = lowered.opened(tag.start(), b"a")
    open_ = [name]
    for inner in _TAG.finditer(lowered.page, tag.end()):
        closing, inner_name, attributes = inner.groups()
        if closing:  # an end tag: it must close the innermost open element
            if open_[-1] != inner_name:
                return None
            open_.pop()
            if not open_:
                end = inner.end()
                reaches = (_reaches_index(lowered.page, tag.end(), end)
                           or not titled and _TITLE.search(page, tag.end(), end))
                return None if reaches else end
            continue
        if phrasing and inner_name not in _PHRASING or in_link and inner_name == b"a" \
                or inner_name in _WITHIN and not _WITHIN[inner_name].intersection(open_[1:]):
            return None
        if inner_name in _VOID:
            continue
        if attributes.endswith(b"/"):
            if not _FOREIGN.intersection(open_):
                return None  # <div/> opens a div: where it ends is the parser's guess
            continue
        open_.append(inner_name)
    return None


class _Lowered:
    """A page in lower case (`page`), made once for all its ignored elements, and whether a <p>
    or an <a> is open at a place in it."""

    def __init__(self, page: bytes):
        self.page = page.lower()

    def opened(self, place: int, name: bytes) -> bool:
        """Whether the last <name> or </name> tag before the place is a start tag: found looking
        back from it (a page of 4 MB has tens of thousands of links)."""
        return self._last(b"<" + name, place) > self._last(b"</" + name, place)

    def _last(self, opener: bytes, before: int) -> int:
        """Where the last tag that starts with `opener` (then a space or >) begins before `before`; -1 if none."""
        at = before
        while (at := self.page.rfind(opener, 0, at)) != -1:
            if self.page[at + len(opener):at + len(opener) + 1] in _TAG_NAME_ENDS:
                return at
        return -1


_TAG_NAME_ENDS = {b" ", b"\t", b"\n", b"\r", b"\f", b"\v", b">"}  # what may follow <p or <a in a tag: [\s>]


_BODY = re.compile(rb"<body[\s>]", re.IGNORECASE)
# What holds text in a page's head, or hides tags: a <link> inside one is not a tag to Pagefind.
_HOLDS_TEXT = [(b"<" + name, b"</" + name) for name in (b"title", b"script", b"style", b"noscript", b"template",
                                                        b"textarea")] + [(b"<!--", b"-->")]


def only_a_link_changed(before: bytes, after: bytes) -> bool:
    """Whether two pages differ only inside one <link> tag of their head without Pagefind's
    attributes, which Pagefind does not read: a stylesheet's new fingerprinted name.

    An edit of the stylesheet renames it in every page, and readable() of every page would
    cost seconds (10 s at 5,000 explainers); this looks at the one place that differs.
    """
    if before == after:
        return True
    start = _common_prefix(before, after)
    end = min(_common_suffix(before, after), len(before) - start, len(after) - start)  # alike after the change
    at = after.rfind(b"<", 0, start + 1)
    if at == -1 or _BODY.search(after, 0, at):  # not copied: a changed body can be megabytes in
        return False
    head = after[:at].lower()
    if any(head.rfind(opener) > head.rfind(closer) for opener, closer in _HOLDS_TEXT):
        return False
    for page in (before, after):
        tag = _TAG.match(page, at)
        if tag is None or tag.group(1) or tag.group(2).lower() != b"link" or tag.end() < len(page) - end:
            return False
        attributes = tag.group(3).lower()
        if b"pagefind" in attributes or b"id" in {m.group(1) for m in _ATTRIBUTE.finditer(attributes)}:
            return False  # what Pagefind may take from any element: its attributes, an anchor
    return True


def _common_prefix(a: bytes, b: bytes) -> int:
    """How many bytes two pages begin with alike."""
    return _longest(min(len(a), len(b)), lambda i, j: a[i:j] == b[i:j])


def _common_suffix(a: bytes, b: bytes) -> int:
    """How many bytes two pages end with alike."""
    return _longest(min(len(a), len(b)), lambda i, j: a[len(a) - j:len(a) - i] == b[len(b) - j:len(b) - i])


def _longest(most: int, alike: Callable[[int, int], bool]) -> int:
    """The largest n <= most such that alike(i, j) holds from 0 to n: a binary search, each
    step one slice of each page compared in C (alike(i, j): the i-th to j-th bytes match)."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if alike(low, middle):
            low = middle
        else:
            high = middle - 1
    return low


# Tags, scripts and styles: what words() leaves out.
_NOT_WORDS = re.compile(rb"<(script|style)[\s>].*?</\1\s*>|<[^>]*>", re.DOTALL | re.IGNORECASE)


def words(page: bytes) -> bytes:
    """The page's text without its tags, scripts and styles: roughly what it reads as.

    A guess, not a proof: two pages with other words are taken to index differently, and
    those with the same words may or may not (a paragraph made a heading weighs more), which
    only Pagefind can tell (same_index). The build asks it only about pages whose words stayed.
    """
    return _NOT_WORDS.sub(b"", page)
