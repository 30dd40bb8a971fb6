"""Field types for front matter and cards: YAML nodes in, typed values out.

A converter takes a node and the problems collector and returns the value, or
INVALID after reporting exactly what is wrong at the node's mark.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable

import yaml

from .model import PartialDate
from .problems import Mark, Problems, did_you_mean
from .yamlstrict import KIND_NAMES, Mapping, Node, Scalar, Sequence

INVALID: Any = object()
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")
# Characters no content may hold: C0 controls but tab and line breaks, DEL, C1 controls and the
# two noncharacters XML forbids. They are invisible in an editor and break the feed and the HTML.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_YAML_TYPES = {
    "tag:yaml.org,2002:bool": "a true/false value",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "nothing (null)",
    "tag:yaml.org,2002:timestamp": "a date",
}
_resolver = yaml.resolver.Resolver()

Converter = Callable[[Node, Problems], Any]


@dataclass(frozen=True)
class Field:
    convert: Converter
    required: bool = False


def _expect(node: Node, kind: type, problems: Problems, wanted: str) -> bool:
    if isinstance(node, kind):
        return True
    problems.error(node.mark, f"expected {wanted}, found {KIND_NAMES[type(node)]}")
    return False


def text(node: Node, problems: Problems) -> Any:
    """A non-empty string, written so that YAML reads it as a string."""
    if not _expect(node, Scalar, problems, "text"):
        return INVALID
    if node.plain:
        tag = _resolver.resolve(yaml.ScalarNode, node.text, (True, False))
        if tag == "tag:yaml.org,2002:null":
            problems.error(node.mark, "is empty; write a value or remove the line")
            return INVALID
        if tag in _YAML_TYPES:
            problems.error(node.mark, f"YAML reads {node.text} as {_YAML_TYPES[tag]}, not text; "
                                      f"put it in quotes (\"{node.text}\") if you mean the text")
            return INVALID
    value = node.text.strip()
    if not value:
        problems.error(node.mark, "is empty; write a value or remove the line")
        return INVALID
    control = CONTROL.search(value)
    if control:
        problems.error(node.mark, f"contains the control character U+{ord(control.group()):04X}; remove it")
        return INVALID
    return value


def date(node: Node, problems: Problems) -> Any:
    """A full date, YYYY-MM-DD."""
    value = _date_parts(node, problems, r"([0-9]{4})-([0-9]{2})-([0-9]{2})", "YYYY-MM-DD")
    return INVALID if value is INVALID else dt.date(value.year, value.month, value.day)


def partial_date(node: Node, problems: Problems) -> Any:
    """YYYY, YYYY-MM or YYYY-MM-DD."""
    return _date_parts(node, problems, r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?", "YYYY, YYYY-MM or YYYY-MM-DD")


def _date_parts(node: Node, problems: Problems, pattern: str, form: str) -> Any:
    if not _expect(node, Scalar, problems, f"a date ({form})"):
        return INVALID
    match = re.fullmatch(pattern, node.text.strip())
    if not match:
        problems.error(node.mark, f"'{node.text}' is not a date; write it as {form}")
        return INVALID
    year, month, day = (int(g) if g is not None else 0 for g in match.groups())
    try:  # a month or day written as 00 is no more real than 13 or 45
        dt.date(year, month if match.group(2) is not None else 1, day if match.group(3) is not None else 1)
    except ValueError as exc:
        problems.error(node.mark, f"'{node.text}' is not a real date ({exc})")
        return INVALID
    return PartialDate(year, month, day)


def boolean(node: Node, problems: Problems) -> Any:
    if isinstance(node, Scalar) and node.plain and node.text in ("true", "false"):
        return node.text == "true"
    if isinstance(node, Scalar) and node.text in ("true", "false"):
        problems.error(node.mark, f"expected true or false without quotes, found '{node.text}' in quotes")
    elif isinstance(node, Scalar):
        problems.error(node.mark, f"expected true or false, found '{node.text}'")
    else:
        problems.error(node.mark, f"expected true or false, found {KIND_NAMES[type(node)]}")
    return INVALID


def slug(node: Node, problems: Problems) -> Any:
    value = text(node, problems)
    if value is not INVALID and not SLUG.match(value):
        problems.error(node.mark, f"'{value}' is not a slug (lowercase letters, digits and single hyphens)")
        return INVALID
    return value


def url(node: Node, problems: Problems) -> Any:
    """An absolute http(s) URL."""
    value = text(node, problems)
    if value is INVALID:
        return INVALID
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or re.search(r"[\s\x00-\x1f\x7f<>\"\\]", value)):
        problems.error(node.mark, f"'{value}' is not an absolute http(s) URL")
        return INVALID
    return value


def base_url(node: Node, problems: Problems) -> Any:
    """An absolute http(s) URL that the site's paths can be appended to: no query, no fragment."""
    value = url(node, problems)
    if value is not INVALID and ("?" in value or "#" in value):
        problems.error(node.mark, f"'{value}' has a query or fragment; base_url is where the site lives, like https://example.org/briefs/")
        return INVALID
    return value


def matching(pattern: str, what: str) -> Converter:
    """Text that matches a pattern in full; `what` names the form in the message."""
    def convert(node: Node, problems: Problems) -> Any:
        value = text(node, problems)
        if value is not INVALID and not re.fullmatch(pattern, value):
            problems.error(node.mark, f"'{value}' is not {what}")
            return INVALID
        return value
    return convert


def choice(*options: str) -> Converter:
    def convert(node: Node, problems: Problems) -> Any:
        value = text(node, problems)
        if value is not INVALID and value not in options:
            problems.error(node.mark, f"'{value}' is not one of {', '.join(options)}{did_you_mean(value, options)}")
            return INVALID
        return value
    return convert


def located(convert: Converter, make: Callable[[Any, Mark], Any]) -> Converter:
    """Keep where a value was written: make(value, mark)."""
    def convert_located(node: Node, problems: Problems) -> Any:
        value = convert(node, problems)
        return INVALID if value is INVALID else make(value, node.mark)
    return convert_located


def list_of(convert: Converter, non_empty: bool = False) -> Converter:
    def convert_list(node: Node, problems: Problems) -> Any:
        if not _expect(node, Sequence, problems, "a list (lines starting with '- ')"):
            return INVALID
        if non_empty and not node.items:
            problems.error(node.mark, "needs at least one entry")
            return INVALID
        values = [convert(item, problems) for item in node.items]
        return INVALID if INVALID in values else tuple(values)
    return convert_list


def record(schema: dict[str, Field], make: Callable[..., Any]) -> Converter:
    """A nested mapping such as a source or a relation: make(**fields)."""
    def convert_record(node: Node, problems: Problems) -> Any:
        values = read_mapping(node, schema, problems)
        return INVALID if values is INVALID else make(**values)
    return convert_record


def read_mapping(node: Node | None, schema: dict[str, Field], problems: Problems, where: Mark | None = None,
                 marks: dict[str, Mark] | None = None) -> Any:
    """Check a mapping against a schema: unknown and missing fields, then every value.

    `marks`, when given, receives where each field's value was written.
    """
    if node is None:
        problems.error(where, f"is empty; expected the fields {', '.join(n for n, f in schema.items() if f.required)}")
        return INVALID
    if not _expect(node, Mapping, problems, "a mapping of fields (name: value)"):
        return INVALID
    values: dict[str, Any] = {}
    ok = True
    for name, (key, value_node) in node.items.items():
        spec = schema.get(name)
        if spec is None:
            problems.error(key.mark, f"unknown field '{name}'{did_you_mean(name, schema)}")
            ok = False
            continue
        value = spec.convert(value_node, problems)
        if marks is not None:
            marks[name] = value_node.mark
        ok = ok and value is not INVALID
        values[name] = value
    for name, spec in schema.items():
        if spec.required and name not in node.items:
            problems.error(node.mark, f"missing required field '{name}'")
            ok = False
    return values if ok else INVALID
