"""Fixtures for tests that drive a real browser.

The browser is Debian's /usr/bin/chromium, driven by Playwright's sync API
through ``executable_path``; Playwright's own browser downloads are never used
(never run ``playwright install``). ``bash scripts/setup --test`` installs
everything these fixtures need.

Outside CI a missing browser stack skips the browser tests with the reason;
with ``CI=true`` (as ``.ci/run`` runs) it fails them instead, so CI can never
pass by silently skipping.

Fixtures
--------
chromium_path   (session)  path of the chromium binary
playwright      (session)  the started ``sync_playwright()`` object
browser         (session)  one headless Chromium shared by the session
page            (function) a fresh context + page (light colour scheme)
dark_page       (function) the same with ``color_scheme="dark"``
new_page        (function) factory: ``new_page(color_scheme="dark",
                           viewport={"width": 390, "height": 844}, ...)``
                           takes any ``browser.new_context`` keyword; all
                           contexts it made are closed after the test
static_server   (function) factory: ``static_server(directory, prefix="/x/")``
                           serves ``directory`` at
                           ``http://127.0.0.1:PORT/x/`` and returns that URL
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SETUP_HINT = "run `bash scripts/setup --test` (it installs Debian's chromium and the Python test tools)"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(reason: str):
    """Skip locally, fail in CI: CI must never pass by skipping browser tests."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = CHROMIUM if os.access(CHROMIUM, os.X_OK) else None
    if path is None:
        _unavailable(f"{CHROMIUM} not found: {SETUP_HINT}")
    return path


@pytest.fixture(scope="session")
def playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the environment
        _unavailable(f"playwright is not importable ({exc}): {SETUP_HINT}")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(chromium_path, playwright, tmp_path_factory):  # chromium_path first: skip before starting the driver
    browser = playwright.chromium.launch(
        executable_path=chromium_path,
        headless=True,
        args=CHROMIUM_ARGS,
        # chromium makes its singleton folder (org.chromium.Chromium.*) in TMPDIR and leaves it
        env={**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("chromium"))},
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def new_page(browser):
    """Factory: ``new_page(**context_kwargs)`` -> a page in a fresh context.

    Any keyword of ``Browser.new_context`` works, e.g. ``color_scheme="dark"``,
    ``viewport={"width": 390, "height": 844}``, ``reduced_motion="reduce"``,
    ``java_script_enabled=False``. Every context made is closed after the test.
    """
    contexts = []

    def make(**context_kwargs):
        context = browser.new_context(**context_kwargs)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page(color_scheme="light")


@pytest.fixture
def dark_page(new_page):
    return new_page(color_scheme="dark")


# ---------------------------------------------------------------- static server


class _PrefixedHandler(http.server.SimpleHTTPRequestHandler):
    """Serves ``directory`` under the URL path ``prefix`` (e.g. ``/explainers/``).

    Anything outside the prefix is a 404, like a site deployed under a sub-path,
    so a link that forgets the base path fails in the test too. The path below
    the prefix maps to files as in SimpleHTTPRequestHandler (directories serve
    their index.html, a directory without a trailing slash is redirected).
    """

    prefix = "/"

    def _strip_prefix(self) -> bool:
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        prefix = self.prefix
        if path == prefix.rstrip("/") and prefix != "/":
            # /explainers -> /explainers/ as a real server would
            self.send_response(301)
            location = prefix + (("?" + parsed.query) if parsed.query else "")
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        if not path.startswith(prefix):
            self.send_error(404, f"outside the served prefix {prefix}")
            return False
        rest = "/" + path[len(prefix):]
        self.path = urllib.parse.urlunsplit(("", "", rest, parsed.query, parsed.fragment))
        return True

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self._strip_prefix():
            super().do_GET()

    def do_HEAD(self):  # noqa: N802
        if self._strip_prefix():
            super().do_HEAD()

    def end_headers(self):
        # Tests rebuild and reload: never let the browser reuse a stale file.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def static_server():
    """Factory: ``static_server(directory, prefix="/")`` -> base URL.

    Serves ``directory`` over HTTP on 127.0.0.1 on a free port, under the URL
    sub-path ``prefix``, from a thread; returns e.g.
    ``http://127.0.0.1:41234/explainers/`` (always ending in ``/``). Every
    server started is shut down after the test.
    """
    servers = []

    def start(directory, prefix: str = "/") -> str:
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"static_server: not a directory: {directory}")
        parts = [part for part in prefix.split("/") if part]
        if any(part in (".", "..") for part in parts):
            raise ValueError(f"static_server: bad prefix {prefix!r}")
        prefix = "/" + "".join(part + "/" for part in parts)
        handler = type("Handler", (_PrefixedHandler,), {"prefix": prefix})
        handler = functools.partial(handler, directory=str(directory))
        server = _Server(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, name=f"static_server:{prefix}", daemon=True)
        thread.start()
        servers.append((server, thread))
        host, port = server.server_address[:2]
        return f"http://{host}:{port}{prefix}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------ other tools


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def vnu_jar(repo_root) -> Path:
    """Path of the Nu Html Checker's jar (npm package vnu-jar); run it with
    ``[java, "-jar", vnu_jar, "--errors-only", "--format", "json", FILE...]``."""
    jar = repo_root / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not jar.is_file():
        _unavailable(f"{jar} not found: {SETUP_HINT}")
    if shutil.which("java") is None:
        _unavailable(f"java not found (the Nu Html Checker needs Java 11+): {SETUP_HINT}")
    return jar


@pytest.fixture(scope="session")
def axe_js(repo_root) -> str:
    """Source of axe-core's axe.min.js, to ``page.add_script_tag(content=axe_js)``
    and then ``page.evaluate("() => axe.run()")``."""
    path = repo_root / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        _unavailable(f"{path} not found: {SETUP_HINT}")
    return path.read_text(encoding="utf-8")
