"""Full-text search: Pagefind's index of the rendered pages, published under OUT/pagefind/.

Pagefind reads the pages that mark their readable part with `data-pagefind-body`
(the built-in theme marks explainers, actors and cards, each with a `kind`
filter); a theme that marks no page gets every page indexed. The index is made
from the pages in memory, before the site is written, so it is swapped in with
the rest of the site: a site and its index never disagree.

The binary comes from the PyPI package `pagefind_bin`, whose wheel ships it;
nothing is downloaded at run time. PAGEFIND_BINARY_PATH points at another one.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

BUNDLE = "pagefind"  # the folder under OUT that search pages load pagefind.js from
MARK = b"data-pagefind-body"


class SearchError(OSError):
    """The index could not be made (no binary, or Pagefind failed)."""


def index_site(files: dict[str, bytes | Path], out: Path) -> dict[str, bytes]:
    """Pagefind's bundle for the site's pages, as files under pagefind/, ready to write with them."""
    pages = {rel: data for rel, data in files.items() if rel.endswith(".html") and isinstance(data, bytes)}
    marked = {rel: data for rel, data in pages.items() if MARK in data}
    pages = marked or pages
    if not pages:
        return {}
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    # The scratch folder sits beside OUT and is gone afterwards; named like the writer's temporary
    # folders (".OUT.building-...-PID"), so that the next build clears it if this one is killed.
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.building-search", suffix=f"-{os.getpid()}",
                                     dir=out.parent) as scratch:
        site, bundle = Path(scratch) / "site", Path(scratch) / "bundle"
        for rel, data in pages.items():
            path = site / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        run_pagefind(site, bundle)
        return {f"{BUNDLE}/{path.relative_to(bundle).as_posix()}": path.read_bytes()
                for path in sorted(bundle.rglob("*")) if path.is_file()}


def index_folder(site: Path, out: Path) -> dict[str, bytes]:
    """Pagefind's bundle for a whole site already assembled in a folder (the build's next site).

    The same index as index_site's, without writing every page again: Pagefind itself keeps
    to the pages marked `data-pagefind-body` when any page is marked.
    """
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.building-search", suffix=f"-{os.getpid()}",
                                     dir=out.parent) as scratch:
        bundle = Path(scratch) / "bundle"
        run_pagefind(site, bundle)
        return {f"{BUNDLE}/{path.relative_to(bundle).as_posix()}": path.read_bytes()
                for path in sorted(bundle.rglob("*")) if path.is_file()}


def run_pagefind(site: Path, bundle: Path) -> None:
    command = [str(binary()), "--site", str(site), "--output-path", str(bundle), "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SearchError(f"search index: could not run Pagefind ({exc})") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SearchError(f"search index: Pagefind failed ({detail[-1] if detail else f'exit {done.returncode}'})")


def binary() -> Path:
    """The Pagefind binary: PAGEFIND_BINARY_PATH, else the one the pagefind_bin wheel ships."""
    if os.environ.get("PAGEFIND_BINARY_PATH"):
        return Path(os.environ["PAGEFIND_BINARY_PATH"])
    try:
        from pagefind_bin import get_executable
        return Path(get_executable())
    except (ImportError, FileNotFoundError):
        raise SearchError("search index: the Pagefind binary is missing; "
                          "install the project's requirements (pip install -r requirements.txt)") from None
