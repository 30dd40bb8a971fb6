"""The allowlist sanitizer every Markdown body's HTML passes (nh3, Rust's ammonia): raw HTML
in content keeps only the tags, attributes and URL schemes listed here."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "dfn", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "section", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "aside", "header",
    "footer", "article", "dfn", "data",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir", "aria-label", "aria-labelledby", "aria-describedby", "role"},
    "a": {"href", "hreflang", "rel"},
    "img": {"src", "alt", "width", "height", "loading"},
    "time": {"datetime"},
    "data": {"value"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "scope", "style"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
}


# built once: nh3.clean() builds its cleaner from these sets at each call (0.22 ms a body, 0.20 reused)
_CLEANER = nh3.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                       link_rel=None, strip_comments=True, filter_style_properties={"text-align"})


def sanitize(html: str) -> str:
    """Keep only allowlisted markup: no scripts, no event handlers, no javascript:/data: URLs."""
    return _CLEANER.clean(html)
