"""Fixture sites for the hardening tests: written into tmp folders, built with the real command."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..conftest import MINIMAL, REPO, write_site

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to `target`; '{outside}' in it stands for a folder beside the site root."""

    target: str


@dataclass(frozen=True)
class Special:
    """A file system entry that is not a regular file: 'fifo', 'socket' or 'folder'."""

    kind: str


@dataclass(frozen=True)
class Big:
    """A text file of at least `size` bytes."""

    size: int


def build(root: Path, out: Path, *options: str, command: str = "build", timeout: float = 120,
          **popen) -> subprocess.CompletedProcess:
    """`python build.py build --root ROOT --out OUT`, run from the repository as an editor runs it."""
    return subprocess.run([sys.executable, "build.py", command, "--root", str(root), "--out", str(out), *options],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout, **popen)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file and link under folder, by relative path, to the sha256 of its bytes (or link target)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            found[rel + "/"] = "folder"
    return found


def minimal_site(root: Path) -> Path:
    """The lead's minimal valid site (tests/conftest.py), written at root."""
    return write_site(root, MINIMAL)


def write_files(root: Path, files: dict, outside: Path) -> None:
    """Put each entry at root/rel: text, bytes, a Symlink, a Special entry, a Big file, or None to delete."""
    for rel, value in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        if value is None:
            continue
        if isinstance(value, str):
            path.write_text(value, encoding="utf-8")
        elif isinstance(value, bytes):
            path.write_bytes(value)
        elif isinstance(value, Symlink):
            os.symlink(value.target.format(outside=outside), path)
        elif isinstance(value, Big):
            line = b"claim: a claim that goes on and on, as no fact card should.\n"
            with open(path, "wb") as handle:
                handle.write(b"title: big\n")
                for _ in range(value.size // (len(line) * 16384) + 1):
                    handle.write(line * 16384)
        elif value.kind == "fifo":
            os.mkfifo(path)
        elif value.kind == "socket":
            with socket.socket(socket.AF_UNIX) as sock:
                sock.bind(str(path))
        elif value.kind == "folder":
            path.mkdir()
        else:  # pragma: no cover
            raise ValueError(value)


def copy_site(source: Path, target: Path) -> Path:
    """A copy of a site folder (without its build cache), safe to build and edit."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".cache"))
    return target


def medium_site(root: Path, explainers: int = 24, actors: int = 16, cards: int = 24, title: str = "Desk") -> Path:
    """A synthetic site of a few dozen pages with references, mentions, embeds and positions."""
    files = {"content/site.yml": f"title: {title}\nbase_url: https://example.org/briefs/\n"}
    for a in range(actors):
        related = f"relations:\n  - {{actor: actor-{(a + 1) % actors}, label: talks to}}\n" if a % 3 == 0 else ""
        files[f"content/actors/actor-{a}.md"] = (
            f"---\nname: Person Number{a}\nkind: {'person' if a % 2 else 'country'}\naliases: [Alias{a}]\n{related}---\n"
            f"A profile of Person Number{a}, who meets [[actor-{(a + 5) % actors}]].\n")
    for c in range(cards):
        files[f"content/cards/card-{c}.yml"] = (
            f"title: Card {c}\nclaim: \"[[actor-{c % actors}]] said something about [[actor-{(c + 3) % actors}]].\"\n"
            f"figure: about {c} million\ndate: 20{10 + c % 14}-0{1 + c % 9}\nactors: [actor-{c % actors}]\n"
            f"sources:\n  - name: Agency {c}\n    url: https://example.org/source/{c}\n")
    for e in range(explainers):
        paragraphs = "\n\n".join(
            f"Person Number{(e + p) % actors} met Alias{(e + p + 1) % actors} in the city. "
            f"[[actor-{(e + p + 2) % actors}]] answered. The talks went on for {p} hours; nobody agreed."
            for p in range(8))
        files[f"content/explainers/explainer-{e}.md"] = (
            f"---\ntitle: Explainer {e}\ndek: What explainer {e} explains.\npublished: 2024-0{1 + e % 9}-1{e % 10}\n"
            f"actors: [actor-{e % actors}]\n---\n\n{paragraphs}\n\n## Why it matters now\n\n{paragraphs}\n\n"
            f"![[card-{e % cards}]]\n\n## What each side wants\n\n### [[actor-{e % actors}]]\n\nMore talks.\n\n"
            f"### [[actor-{(e + 1) % actors}]]\n\nFewer talks.\n")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
