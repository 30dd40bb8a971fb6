"""Strict YAML: PyYAML's C parser, read into nodes that keep their marks.

Only the parser's events are used, so nothing is ever constructed that the
content did not spell out: anchors, aliases (and so alias bombs), tags, several
documents and duplicate keys are errors, and scalars stay text until a field
says what type it wants (see fields.py).
"""

from __future__ import annotations

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

    def mark(event_mark) -> Mark:
        return Mark(path, event_mark.line + first_line, event_mark.column + 1)

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
                node: Node = Scalar(event.value, event.style in (None, ""), mark(event.start_mark))
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
        problems.error(at, f"invalid YAML: {exc.problem or exc.context}")
        return None
    except yaml.YAMLError as exc:
        problems.error(Mark(path, first_line, 1), f"invalid YAML: {exc}")
        return None
    return root
