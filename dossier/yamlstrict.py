"""Strict YAML: PyYAML's C parser, read into nodes that keep their marks.

Only the parser's events are used, so nothing is ever constructed that the
content did not spell out: anchors, aliases (and so alias bombs), tags, several
documents and duplicate keys are errors, and scalars stay text until a field
says what type it wants (see fields.py).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Union

import yaml

from .problems import Mark, Problems

try:
    _Parser = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - a PyYAML built without libyaml
    _Parser = yaml.SafeLoader


@dataclass
class Scalar:
    text: str
    plain: bool  # written without quotes, so YAML would have typed it
    mark: Mark
    source: str = ""  # the scalar as written in the file, quotes and line breaks included


@dataclass
class Sequence:
    items: list["Node"]
    mark: Mark


@dataclass
class Mapping:
    items: dict[str, tuple[Scalar, "Node"]] = field(default_factory=dict)
    mark: Mark = Mark("")


Node = Union[Scalar, Sequence, Mapping]

KIND_NAMES = {Scalar: "a single value", Sequence: "a list", Mapping: "a mapping (key: value lines)"}


def parse(text: str, path: str, problems: Problems, first_line: int = 1) -> Node | None:
    """Parse one YAML document into nodes; report problems and return None when it can't."""

    line_starts = [0] + [newline.end() for newline in re.finditer("\n", text)]

    def mark(event_mark) -> Mark:
        """Line and column counted as an editor counts them (YAML also breaks lines at U+2028 and U+0085)."""
        index = min(event_mark.index, len(text))
        line = bisect.bisect_right(line_starts, index) - 1
        return Mark(path, line + first_line, index - line_starts[line] + 1)

    stack: list[Node] = []
    pending_key: list[Scalar | None] = []
    root: Node | None = None
    try:
        for event in yaml.parse(text, Loader=_Parser):
            if isinstance(event, yaml.DocumentStartEvent) and root is not None:
                problems.error(mark(event.start_mark), "a file holds one YAML document; remove the second '---' block")
                return None
            if isinstance(event, yaml.AliasEvent):
                problems.error(mark(event.start_mark), f"YAML aliases (*{event.anchor}) are not allowed; write the value out")
                return None
            if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.anchor is not None:
                    problems.error(mark(event.start_mark), f"YAML anchors (&{event.anchor}) are not allowed; write the value out")
                    return None
                if event.tag is not None and event.tag != "!":
                    problems.error(mark(event.start_mark), f"YAML tags ({event.tag.replace('tag:yaml.org,2002:', '!!')}) are not allowed; remove the tag")
                    return None
            if isinstance(event, yaml.ScalarEvent):
                node: Node = Scalar(event.value, event.style in (None, ""), mark(event.start_mark),
                                    text[event.start_mark.index:event.end_mark.index])
            elif isinstance(event, yaml.MappingStartEvent):
                node = Mapping({}, mark(event.start_mark))
            elif isinstance(event, yaml.SequenceStartEvent):
                node = Sequence([], mark(event.start_mark))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                node = stack.pop()
                if isinstance(node, Mapping):
                    pending_key.pop()
                if stack:
                    continue
                root = node
                continue
            else:
                continue
            if not stack:
                if isinstance(node, Scalar):
                    root = node
                    continue
            elif isinstance(stack[-1], Sequence):
                stack[-1].items.append(node)
            else:
                parent = stack[-1]
                key = pending_key[-1]
                if key is None:
                    if not isinstance(node, Scalar):
                        problems.error(node.mark, "a key must be a plain name")
                        return None
                    pending_key[-1] = node
                    continue
                if key.text in parent.items:
                    first = parent.items[key.text][0].mark
                    problems.error(key.mark, f"duplicate key '{key.text}' (first given at line {first.line})")
                else:
                    parent.items[key.text] = (key, node)
                pending_key[-1] = None
            if isinstance(node, (Mapping, Sequence)):
                stack.append(node)
                if isinstance(node, Mapping):
                    pending_key.append(None)
    except yaml.MarkedYAMLError as exc:
        where = exc.problem_mark or exc.context_mark
        at = mark(where) if where is not None else Mark(path, first_line, 1)
        problems.error(at, f"invalid YAML: {_explain(exc, text, where, mark)}")
        return None
    except yaml.reader.ReaderError as exc:
        character = ord(exc.character) if isinstance(exc.character, str) else exc.character
        problems.error(_byte_mark(text, exc.position, path, first_line),
                       f"invalid YAML: the character U+{character:04X} is not allowed in YAML; remove it")
        return None
    except yaml.YAMLError as exc:
        problems.error(Mark(path, first_line, 1), f"invalid YAML: {exc}")
        return None
    return root


def _explain(exc: yaml.MarkedYAMLError, text: str, where, mark) -> str:
    """PyYAML's complaint in an editor's words: a tab named as such, the context given its line."""
    problem = exc.problem or exc.context or "not readable"
    if where is not None and 0 <= where.index < len(text) and text[where.index] == "\t":
        return "a tab character; indent YAML with spaces, never tabs"
    context = exc.context_mark
    if exc.problem and exc.context and context is not None and context.index != where.index:
        problem += f" ({exc.context} at line {mark(context).line}, column {mark(context).col})"
    return problem


def _byte_mark(text: str, offset: int, path: str, first_line: int) -> Mark:
    """Where a byte offset into text's UTF-8 falls, as a mark."""
    before = text.encode("utf-8")[:offset].decode("utf-8", "ignore")
    line_start = before.rfind("\n") + 1
    return Mark(path, before.count("\n") + first_line, len(before) - line_start + 1)
