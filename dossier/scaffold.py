"""`new KIND SLUG`: a file with every required field that builds as it is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .fields import SLUG
from .load import KINDS, WINDOWS_RESERVED

TEMPLATES = {
    "explainer": """---
title: "{title}"
dek: "One sentence that tells the reader what this explainer answers."
published: {today}
authors: []
actors: []
---

Open with the news in two or three sentences.

## Why it matters now

Explain what is at stake.

## What each side wants

Write `### [[actor-slug]]` headings here to set out each side's position.
""",
    "actor": """---
name: "{title}"
kind: person
role: ""
aliases: []
relations: []
---

A short profile in two or three sentences.
""",
    "card": """title: "{title}"
claim: "One or two sentences stating the fact."
date: {today}
status: reported
actors: []
sources:
  - name: "Who reported or said it"
""",
}


def scaffold(root: Path, kind: str, slug: str, today: dt.date | None = None) -> Path:
    """Write the scaffold and return its path; ValueError says why it can't."""
    if kind not in TEMPLATES:
        raise ValueError(f"unknown kind '{kind}'; use explainer, actor or card")
    if not SLUG.match(slug):
        raise ValueError(f"'{slug}' is not a valid slug: lowercase letters, digits and single hyphens, like 'kim-jong-un'")
    if slug in WINDOWS_RESERVED:
        raise ValueError(f"'{slug}' is a device name on Windows, which can neither check out nor publish it; choose another slug")
    for folder, suffix in KINDS.items():
        existing = root / "content" / folder / f"{slug}{suffix}"
        if existing.exists():
            raise ValueError(f"{existing.relative_to(root)} already exists; slugs are unique across explainers, actors and cards")
    folder = {"explainer": "explainers", "actor": "actors", "card": "cards"}[kind]
    path = root / "content" / folder / f"{slug}{KINDS[folder]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    title = slug.replace("-", " ").capitalize()
    text = TEMPLATES[kind].format(title=title, today=(today or dt.date.today()).isoformat())
    if kind == "actor":
        text = text.replace('role: ""\n', "")
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(text)
    return path
