"""Full-text search: Pagefind's index of the rendered pages, published under OUT/pagefind/.

Pagefind reads the pages that mark their readable part with `data-pagefind-body`
(the built-in theme marks explainers, actors and cards, each with its `kind`
as metadata); a theme that marks no page gets every page indexed. The index is made
from the next site as the build assembled it, before it is swapped in, and is
swapped in with the rest of the site: a site and its index never disagree.

The binary comes from the PyPI package `pagefind_bin`, whose wheel ships it;
nothing is downloaded at run time. PAGEFIND_BINARY_PATH points at another one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

BUNDLE = "pagefind"  # the folder under OUT that search pages load pagefind.js from
POLL = 0.1  # seconds between looks at a build's stop event while Pagefind runs
# Pagefind is given this long before it counts as hung: ~5 ms a page is usual (2 cores), so
# this leaves 20 times that, on a loaded machine too. A fixed 600 s failed a 20,000-explainer site.
BUDGET_BASE, BUDGET_PER_PAGE = 600.0, 0.1


class SearchError(OSError):
    """The index could not be made (no binary, or Pagefind failed)."""


class SearchStopped(SearchError):
    """The build's stop event was set while Pagefind ran: the build is abandoned."""


def index_folder(site: Path, out: Path, pages: int, stop: threading.Event | None = None) -> dict[str, bytes]:
    """Pagefind's bundle for a whole site already assembled in a folder (the build's next site).

    `pages`, how many pages it holds, sets how long Pagefind may take (BUDGET_*). Pagefind itself keeps to the pages marked `data-pagefind-body` when any page is marked.
    The scratch folder sits beside OUT and is gone afterwards; named like the writer's temporary
    folders (".OUT.building-...-PID"), so that the next build clears it if this one is killed.
    """
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.building-search", suffix=f"-{os.getpid()}",
                                     dir=out.parent) as scratch:
        bundle = Path(scratch) / "bundle"
        run_pagefind(site, bundle, stop, BUDGET_BASE + BUDGET_PER_PAGE * pages)
        return {f"{BUNDLE}/{path.relative_to(bundle).as_posix()}": path.read_bytes()
                for path in sorted(bundle.rglob("*")) if path.is_file()}


def run_pagefind(site: Path, bundle: Path, stop: threading.Event | None = None, timeout: float = 600) -> None:
    """Run Pagefind over site into bundle; SearchStopped as soon as `stop` is set (serve sets it on a save)."""
    command = [str(binary()), "--site", str(site), "--output-path", str(bundle), "--silent"]
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)  # its own group: _kill ends whatever it started
    except OSError as exc:
        raise SearchError(f"search index: could not run Pagefind ({exc})") from None
    deadline = time.monotonic() + timeout
    while True:
        try:
            stdout, stderr = process.communicate(timeout=POLL)
            break
        except subprocess.TimeoutExpired:
            if stop is not None and stop.is_set():
                _kill(process)
                raise SearchStopped("search index: stopped") from None
            if time.monotonic() > deadline:
                _kill(process)
                raise SearchError(f"search index: Pagefind took more than {timeout:.0f} s") from None
    if process.returncode != 0:
        detail = (stderr or stdout).strip().splitlines()
        raise SearchError(f"search index: Pagefind failed ({detail[-1] if detail else f'exit {process.returncode}'})")


def _kill(process: subprocess.Popen) -> None:
    """End Pagefind and whatever it started, and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # gone already
        pass
    process.communicate()


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
