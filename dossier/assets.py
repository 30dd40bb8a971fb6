"""Fingerprinted asset names, for cache-busting: style.css is published as style.3f2a1c9e.css.

Only stylesheets and scripts get a fingerprint: every page links to them, so a
browser may cache them for good. Images and fonts keep their names, so that a
stylesheet's url(...) references to them keep working.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from pathlib import Path, PurePosixPath

FINGERPRINTED = (".css", ".js", ".mjs")
DIGITS = 8  # of the fingerprint
FOLDER = "assets/"  # where the theme's assets are published: under OUT, and under the site's base path


def fingerprint(sources: dict[str, bytes]) -> dict[str, str]:
    """Each asset's name to the name it is published under, from a hash of its bytes."""
    return {name: published_name(name, data) for name, data in sources.items()}


def published_name(name: str, data: bytes) -> str:
    """'css/style.css' -> 'css/style.3f2a1c9e.css'; other kinds of file keep their name."""
    path = PurePosixPath(name)
    if path.suffix not in FINGERPRINTED:
        return name
    digest = hashlib.sha256(data).hexdigest()[:DIGITS]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def published_as(name: str) -> re.Pattern[str]:
    """Every name published_name() may give `name`, whatever its bytes."""
    path = PurePosixPath(name)
    if path.suffix not in FINGERPRINTED:
        return re.compile(re.escape(name))
    return re.compile(re.escape(str(path.with_name(f"{path.stem}."))) + f"[0-9a-f]{{{DIGITS}}}" + re.escape(path.suffix))


def served_names(folder: Path, names) -> dict[str, str]:
    """The names these assets are published under in `folder` (a site's assets/) by now: a
    saved stylesheet's new name is not there until its build. Only where it has one such file."""
    served, listed = {}, {}
    for name in names:
        where = posixpath.dirname(name)
        if where not in listed:
            try:
                listed[where] = os.listdir(folder / where)
            except OSError:
                listed[where] = []
        pattern = published_as(name)
        found = [entry for entry in listed[where] if pattern.fullmatch(posixpath.join(where, entry))]
        if len(found) == 1:
            served[name] = posixpath.join(where, found[0])
    return served
