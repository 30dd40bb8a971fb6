"""Shared helpers: run the real command on fixture sites and read what it wrote."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "content"


def run(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python build.py ARGS` as an editor runs it; output captured as text."""
    return subprocess.run([sys.executable, str(REPO / "build.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under folder, by relative path, to the sha256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_site(root: Path, files: dict[str, str]) -> Path:
    """Write a fixture site: relative path -> text (dedented)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


MINIMAL = {
    "content/site.yml": """
        title: Test desk
        base_url: https://example.org/briefs/
        """,
    "content/explainers/visit.md": """
        ---
        title: Why the visit matters
        dek: A short explainer.
        published: 2024-06-17
        actors: [russia]
        ---

        Russia and Pyongyang are talking. [[kim-jong-un]] travelled.

        ## Why it matters now

        Moscow needs shells.

        ![[shells]]

        ## What each side wants

        ### [[russia]]

        Russia wants munitions.

        ### [[north-korea]]

        North Korea wants technology.
        """,
    "content/actors/russia.md": """
        ---
        name: Russia
        kind: country
        aliases: [Moscow, the Kremlin]
        ---
        A country.
        """,
    "content/actors/north-korea.md": """
        ---
        name: North Korea
        kind: country
        aliases: [Pyongyang]
        ---
        A country.
        """,
    "content/actors/kim-jong-un.md": """
        ---
        name: Kim Jong Un
        kind: person
        role: Supreme Leader of North Korea
        relations:
          - {actor: north-korea, label: leads}
        ---
        The leader.
        """,
    "content/cards/shells.yml": """
        title: Shells sent to Russia
        claim: "[[north-korea]] may have sent close to five million shells."
        figure: about 5 million
        date: 2024-06
        status: reported
        actors: [russia, north-korea]
        sources:
          - name: Bloomberg, citing South Korea's defence ministry
        """,
}


@pytest.fixture
def minimal_site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "site-root", MINIMAL)


@pytest.fixture
def example_site(tmp_path: Path) -> Path:
    """A copy of the project's example site, safe to edit."""
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root / "content")
    return root


@pytest.fixture
def themed_example_site(tmp_path: Path) -> Path:
    """The example site, copied, with a copy of the theme (so the test sees only its own changes)."""
    root = tmp_path / "root"
    for folder in ("content", "layouts", "assets"):
        shutil.copytree(REPO / folder, root / folder)
    return root


# Browser fixtures (Debian's chromium driven by Playwright), defined once here for every folder:
# a second definition in a sub-folder would start a second Playwright in the same thread.
from .browser_fixtures import (  # noqa: E402,F401 - fixtures
    axe_js, browser, chromium_path, dark_page, new_page, page, playwright, repo_root, static_server, vnu_jar,
)
