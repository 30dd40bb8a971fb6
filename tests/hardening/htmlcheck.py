"""What a browser would run: every element and attribute of built pages, read with html.parser.

`live_markup(html, base_path, theme)` lists what in a page could run script, load another
page's content or reach outside the site's own assets: it is empty for a safe page.
`theme` holds the (tag, attribute names) shapes of the theme's own forms and scripts, taken
from a benign build, so that only what content brought in is reported.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

# Elements no content may bring in. (The theme draws inline SVG graphs: their elements are
# checked like all others, attribute by attribute.)
FORBIDDEN = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "link", "meta",
             "base", "form", "input", "button", "textarea", "select", "noscript", "template",
             "video", "audio", "source", "track", "portal", "xmp", "plaintext", "noembed", "noframes"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "background", "cite", "data",
                  "xlink:href", "longdesc", "ping", "manifest", "icon", "codebase", "srcdoc"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")
ACTIVE_ATTRIBUTES = {"http-equiv", "formaction", "srcdoc", "autofocus", "contenteditable"}
Shape = tuple[str, tuple[str, ...]]


def scheme_of(url: str) -> str:
    """A URL's scheme as a browser reads it: leading controls and spaces dropped, tabs and newlines anywhere."""
    stripped = re.sub(r"[\t\n\r]", "", url).lstrip("".join(map(chr, range(0x21))))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", stripped)
    return match.group(1).lower() + ":" if match else ""


def shape(tag: str, attrs) -> Shape:
    return tag, tuple(sorted(name for name, _ in attrs))


class _Reader(HTMLParser):
    def __init__(self, base_path: str, theme: set[Shape]):
        super().__init__(convert_charrefs=True)
        self.base_path, self.theme = base_path, theme
        self.found: list[str] = []
        self.script: dict[str, str | None] | None = None
        self.script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._element(tag, attrs)
        if tag == "script":
            self.script, self.script_text = dict(attrs), []

    def handle_startendtag(self, tag, attrs):
        self._element(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script" and self.script is not None:
            self._script("".join(self.script_text))
            self.script = None

    def handle_data(self, data):
        if self.script is not None:
            self.script_text.append(data)

    def handle_comment(self, data):
        self.found.append(f"comment <!--{data[:60]}-->")

    def handle_pi(self, data):
        self.found.append(f"processing instruction <?{data[:60]}>")

    def _element(self, tag, attrs):
        values = dict(attrs)
        if tag in FORBIDDEN and not self._theme_element(tag, values, attrs):
            self.found.append(f"<{tag}> element {attrs}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}> event handler")
            elif name in URL_ATTRIBUTES and scheme_of(value) in BAD_SCHEMES:
                self.found.append(f"<{tag} {name}={value[:60]!r}> {scheme_of(value)} URL")
            elif name == "style" and re.search(r"(?i)expression|url\s*\(|javascript|@import|behavior", value):
                self.found.append(f"<{tag} style={value[:60]!r}> active style")
            elif name in ACTIVE_ATTRIBUTES and shape(tag, attrs) not in self.theme:
                self.found.append(f"<{tag} {name}> attribute")

    def _theme_element(self, tag: str, values: dict[str, str | None], attrs) -> bool:
        """The theme's own: JSON-LD, scripts from its own assets, and elements shaped as in a benign build."""
        if tag == "script":
            return (values.get("type") == "application/ld+json" and "src" not in values) or \
                (values.get("src") or "").startswith((self.base_path + "assets/", self.base_path + "pagefind/"))
        return shape(tag, attrs) in self.theme and not any(
            scheme_of(values.get(name) or "") in BAD_SCHEMES for name in URL_ATTRIBUTES)

    def _script(self, text: str) -> None:
        if self.script.get("type") != "application/ld+json":
            if text.strip():
                self.found.append(f"inline script {text[:60]!r}")
            return
        if re.search(r"(?i)</script|<!--|<script", text):
            self.found.append(f"JSON-LD that could end its script element: {text[:80]!r}")
        try:
            json.loads(text)
        except ValueError as exc:
            self.found.append(f"JSON-LD that is not JSON ({exc}): {text[:80]!r}")


def live_markup(html: str, base_path: str = "/", theme: set[Shape] = frozenset()) -> list[str]:
    """Everything in a page that could run or load something the site did not mean to."""
    reader = _Reader(base_path, set(theme))
    reader.feed(html)
    reader.close()
    return reader.found


def theme_shapes(html: str) -> set[Shape]:
    """The shapes of the forbidden-looking elements a (benign) page holds: the theme's own."""
    shapes: set[Shape] = set()

    class Shapes(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in FORBIDDEN or any(name in ACTIVE_ATTRIBUTES for name, _ in attrs):
                shapes.add(shape(tag, attrs))

        handle_startendtag = handle_starttag

    Shapes(convert_charrefs=True).feed(html)
    return shapes


def texts(html: str, tag: str) -> list[str]:
    """The text of every `tag` element (entities decoded), e.g. every <h1>."""
    found: list[list[str]] = []
    depth = [0]

    class Texts(HTMLParser):
        def handle_starttag(self, name, attrs):
            if name == tag:
                found.append([])
                depth[0] += 1

        def handle_endtag(self, name):
            if name == tag and depth[0]:
                depth[0] -= 1

        def handle_data(self, data):
            if depth[0]:
                found[-1].append(data)

    Texts(convert_charrefs=True).feed(html)
    return ["".join(parts) for parts in found]


def attribute_values(html: str, tag: str, name: str) -> list[str]:
    """Every value of attribute `name` on `tag` elements, entities decoded."""
    values: list[str] = []

    class Values(HTMLParser):
        def handle_starttag(self, element, attrs):
            if element == tag:
                values.extend(value or "" for key, value in attrs if key == name)

        handle_startendtag = handle_starttag

    Values(convert_charrefs=True).feed(html)
    return values
