"""Fingerprinted asset names, for cache-busting: style.css is published as style.3f2a1c9e.css.

Only stylesheets and scripts get a fingerprint: every page links to them, so a
browser may cache them for good. Images and fonts keep their names, so that a
stylesheet's url(...) references to them keep working.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

FINGERPRINTED = (".css", ".js", ".mjs")
FOLDER = "assets/"  # where the theme's assets are published: under OUT, and under the site's base path


def fingerprint(sources: dict[str, bytes]) -> dict[str, str]:
    """Each asset's name to the name it is published under, from a hash of its bytes."""
    return {name: published_name(name, data) for name, data in sources.items()}


def published_name(name: str, data: bytes) -> str:
    """'css/style.css' -> 'css/style.3f2a1c9e.css'; other kinds of file keep their name."""
    path = PurePosixPath(name)
    if path.suffix not in FINGERPRINTED:
        return name
    digest = hashlib.sha256(data).hexdigest()[:8]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))
