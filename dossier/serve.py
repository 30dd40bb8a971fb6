"""`python build.py serve`: build, serve OUT, watch the sources, rebuild, reload the browsers.

    serve()      binds the port, runs the loop until Ctrl-C or SIGTERM, then stops cleanly
    Rebuilder    turns bursts of changes into builds, one at a time, each of the latest
                 state, in a worker thread so that requests never wait for a build
    serve_watch  the sources, through watchdog (inotify): no polling floor
    serve_http   livereload's handlers, guarded, and the site's files, safely
    serve_page   what every served HTML page gets: livereload's client, its build number
                 and a freshness check, a stylesheet swapper, and the error overlay

Every save reaches the browser: a burst of saves is one build of the last state; a save
during a build gets another build after it; every finished build reloads the browsers at
once. livereload's 3-second reload throttle lives in LiveReloadHandler.poll_tasks, its
polling path, which is not used: builds call LiveReloadHandler.reload_waiters directly.
A page that loads while a build finishes finds out when its websocket connects.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from . import pipeline
from .assets import published_name
from .model import Site
from .pipeline import Options, Result
from .problems import ContentError, Problem
from .render import BUILTIN, theme_dirs
from .serve_http import Hosts, Preview, application, bracketed, reload_browsers, server_limits
from .serve_page import overlay_html
from .serve_watch import Watcher

DEBOUNCE = 0.05  # seconds of quiet after a change before building: one build for a burst of saves
LIVE_SUFFIXES = (".css", ".png", ".jpg", ".jpeg", ".gif")  # swapped in the page without a reload


def serve(options: Options, host: str, port: int, reporter, *, debounce: float = DEBOUNCE) -> int:
    """Serve until Ctrl-C (or SIGTERM); 0 then, 2 when the address cannot be bound."""
    try:
        sockets = bind_sockets(port, host or None)
    except (OSError, socket.gaierror) as exc:
        reporter.usage(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return 2
    asyncio.run(_serve(options, host, sockets, reporter, debounce))
    return 0


async def _serve(options: Options, host: str, sockets: list[socket.socket], reporter, debounce: float) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # no loop signal handlers (Windows): KeyboardInterrupt
            pass
    port = sockets[0].getsockname()[1]
    preview = Preview(out=options.out, base_path=base_path(options, "/"))
    rebuilder = Rebuilder(options, preview, reporter, debounce)
    watcher = Watcher(options.root, options.out, lambda path: loop.call_soon_threadsafe(rebuilder.changed, path))
    server = HTTPServer(application(preview, Hosts.bound_to(host, port), watcher), **server_limits())
    watcher.start()  # before the first build: a save while it runs gets a build after it
    builds = None
    try:
        await rebuilder.build(set())
        if not stop.is_set():
            server.add_sockets(sockets)
            builds = asyncio.create_task(rebuilder.run())
            shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, bracketed(host))
            print(f"serving http://{shown}:{port}{preview.base_path} (Ctrl-C to stop)", file=reporter.out, flush=True)
            await stop.wait()
    finally:
        watcher.stop()
        server.stop()
        if builds is not None:
            builds.cancel()
        if rebuilder.busy:
            print("stopping once the build in progress ends", file=reporter.out, flush=True)
        rebuilder.close()  # waits for that build: its temporary folder goes with it
        await server.close_all_connections()


@dataclass
class Outcome:
    """What one build attempt came to: a result, or the problems, or an unexpected failure."""

    result: Result | None = None
    problems: list[Problem] = field(default_factory=list)
    failure: str = ""

    @property
    def good(self) -> bool:
        return self.result is not None


def attempt(options: Options) -> Outcome:
    """One build, whatever happens in it (runs in the worker thread)."""
    try:
        return Outcome(result=pipeline.build(options))
    except ContentError as exc:
        return Outcome(problems=exc.problems)
    except OSError as exc:
        return Outcome(failure=f"cannot write the site: {exc.strerror or exc} ({exc.filename or ''}); "
                               "the previous site is unchanged")
    except Exception:  # a bug in the generator: keep serving, show it, keep the traceback
        return Outcome(failure="internal error in the generator\n\n" + traceback.format_exc())


class Rebuilder:
    """Builds one at a time in a worker thread, each after a quiet moment, then reloads the browsers."""

    def __init__(self, options: Options, preview: Preview, reporter, debounce: float):
        self.options, self.preview, self.reporter, self.debounce = options, preview, reporter, debounce
        self.pending: set[str] = set()
        self.last_change = 0.0
        self.wake = asyncio.Event()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-build")
        self.busy = False
        self.good = True  # the latest build was good (no overlay on the pages)

    def changed(self, path: str) -> None:
        """A source changed (called on the loop)."""
        self.pending.add(path)
        self.last_change = asyncio.get_running_loop().time()
        self.wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self.wake.wait()
            while (quiet := loop.time() - self.last_change) < self.debounce:
                await asyncio.sleep(self.debounce - quiet)
            self.wake.clear()
            changed, self.pending = self.pending, set()
            try:
                await self.build(changed)
            except Exception:  # a bug here must not end the rebuilds: say it, go on
                traceback.print_exc(file=self.reporter.err)

    async def build(self, changed: set[str]) -> None:
        """Build the current sources; then show the result (or the errors) and reload the browsers."""
        self.busy = True
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(self.pool, attempt, self.options)
        finally:
            self.busy = False
        self.show(outcome, changed)

    def show(self, outcome: Outcome, changed: set[str]) -> None:
        """Serve what the build came to, say it in the terminal, and reload the browsers."""
        was_good, self.good = self.good, outcome.good
        preview = self.preview
        if outcome.good:
            preview.base_path = base_path(self.options, preview.base_path)
            preview.overlay = ""
            self.reporter.built(outcome.result, self.options.out)
        else:
            preview.overlay = overlay_html(outcome.problems, outcome.failure, [self.options.root, BUILTIN])
            if outcome.failure:
                print(f"error: {outcome.failure}", file=self.reporter.err)
            self.reporter.problems(outcome.problems)
        preview.build += 1
        self.reporter.out.flush()
        self.reporter.err.flush()
        live = was_good and outcome.good
        reload_browsers(reload_paths(changed, self.options.root, preview.base_path) if live else ["*"])

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def reload_paths(changed: set[str], root: Path, base: str) -> list[str]:
    """What to tell the browsers: the new URLs of the changed stylesheets and images, if
    that is all that changed; else '*', a full reload."""
    urls = [_live_url(Path(path), root, base) for path in sorted(changed)]
    return urls if urls and all(urls) else ["*"]


def _live_url(path: Path, root: Path, base: str) -> str | None:
    """The URL a changed stylesheet or image is now published at, or None."""
    if path.suffix.lower() not in LIVE_SUFFIXES or not path.is_file():
        return None
    media = (root / "content" / "media").resolve()
    if path.is_relative_to(media):
        return f"{base}media/{path.relative_to(media).as_posix()}"
    themes = [folder.resolve() for folder in theme_dirs(root, "assets")]
    folder = next((f for f in themes if path.is_relative_to(f)), None)
    if folder is None:
        return None
    name = path.relative_to(folder).as_posix()
    published = next(f / name for f in themes if (f / name).is_file())  # the site's own wins
    try:
        return f"{base}assets/{published_name(name, published.read_bytes())}"
    except OSError:  # gone again already: a full reload it is
        return None


def base_path(options: Options, previous: str) -> str:
    """The path of base_url that the site is served under: --base-url's, else site.yml's.

    The build has validated site.yml already; this only reads the one value it needs."""
    url = options.base_url
    if url is None:
        try:
            url = yaml.safe_load((options.root / "content" / "site.yml").read_text(encoding="utf-8"))["base_url"]
        except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError, KeyError):
            return previous
    if not isinstance(url, str) or "://" not in url:
        return previous
    return Site(title="", base_url=url.rstrip("/") + "/").base_path
