"""Problems are values: every step collects them with a location, the caller fails once."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True, order=True)
class Mark:
    """A place in a content file: path relative to the root, 1-based line and column."""

    path: str
    line: int = 1
    col: int = 1

    def shifted(self, lines: int) -> "Mark":
        """The same place in a file whose text starts `lines` lines further down."""
        return Mark(self.path, self.line + lines, self.col)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class Problem:
    mark: Mark
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.mark}: {self.severity}: {self.message}"


@dataclass
class Problems:
    """A collector passed down the pipeline; reported all at once, sorted by place."""

    items: list[Problem] = field(default_factory=list)

    def error(self, mark: Mark, message: str) -> None:
        self.items.append(Problem(mark, message))

    def warning(self, mark: Mark, message: str) -> None:
        self.items.append(Problem(mark, message, "warning"))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return sorted(set(p for p in self.items if p.severity == "error"))

    @property
    def warnings(self) -> list[Problem]:
        return sorted(set(p for p in self.items if p.severity == "warning"))


class ContentError(Exception):
    """Raised once at the end of a step that found errors in the content."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} errors")
        self.problems = problems


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest candidate, or ''."""
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
