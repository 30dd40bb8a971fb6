"""`python build.py serve`: build, serve OUT, watch the sources, rebuild, reload the browsers.

    serve()      binds the port, runs the loop until Ctrl-C or SIGTERM, then stops cleanly
    Rebuilder    turns bursts of changes into builds, one at a time, each of the latest
                 state, in a worker thread so that requests never wait for a build
    Collector    keeps Python's cyclic collector off what the builds keep in memory
    serve_watch  the sources, through watchdog (inotify): no polling floor
    serve_http   livereload's handlers, guarded, and the site's files, safely
    serve_page   what every served HTML page gets: livereload's client, its build number
                 and a freshness check, a stylesheet swapper, and the error overlay
    serve_first_look
                 a save's first look: the saved items' pages (a saved layout's: the pages
                 open in browsers; a stylesheet: itself), made at once from the last build
                 and served until a build has the save (also for saves during a build)

Every save reaches the browser: a burst of saves is one build of the last state; a save
during a build stops it if it has written nothing yet (but never two builds in a row), or
else gets another build after it; every build reloads the browsers as soon as
its site is in place (Options.published), and leaves the writing of the build cache to the
editor's pause (Options.record_later; at 5,000 explainers 0.9-1.1 s a build), which a save
stops. livereload's 3-second
reload throttle lives in LiveReloadHandler.poll_tasks, its polling path, which is not
used: builds call LiveReloadHandler.reload_waiters directly.
A page that loads while a build finishes finds out when its websocket connects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import signal
import socket
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from . import cache, pipeline, search
from .assets import FOLDER, published_name
from .cache import remembered_plan
from .pipeline import Options, Result
from .problems import ContentError, Problem
from .render import BUILTIN
from .serve_first_look import first_look, theme_asset
from .serve_http import Hosts, Preview, application, bracketed, open_pages, reload_browsers, server_limits
from .serve_page import overlay_html
from .serve_watch import Watcher

DEBOUNCE = 0.05  # seconds of quiet after a change before building: one build for a burst of saves
SEARCH_PAUSE = 1.0  # seconds of quiet after a build before the search index catches up with it
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
    preview = Preview(out=options.out, base_path="/")
    rebuilder = Rebuilder(options, preview, reporter, debounce)
    watcher = Watcher(options.root, options.out, lambda path: loop.call_soon_threadsafe(rebuilder.changed, path))
    server = HTTPServer(application(preview, Hosts.bound_to(host, port), watcher), **server_limits())
    watcher.start()  # before the first build: a save while it runs gets a build after it
    builds = None
    try:
        await rebuilder.build(set(), first=True)
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
    stopped: bool = False  # stopped for a newer save before it wrote anything

    @property
    def good(self) -> bool:
        return self.result is not None


def attempt(options: Options) -> Outcome:
    """One build, whatever happens in it (runs in the worker thread)."""
    try:
        return Outcome(result=pipeline.build(options))
    except ContentError as exc:
        return Outcome(problems=exc.problems)
    except search.SearchStopped:
        return Outcome(stopped=True)
    except OSError as exc:
        return Outcome(failure=f"cannot write the site: {exc.strerror or exc} ({exc.filename or ''}); "
                               "the previous site is unchanged")
    except Exception:  # a bug in the generator: keep serving, show it, keep the traceback
        return Outcome(failure="internal error in the generator\n\n" + traceback.format_exc())


class Collector:
    """Python's cyclic collector in the preview, kept off what the builds leave in memory.

    A build runs with the collector off (pipeline.collector_paused). Turned back on, the
    collector walks what the build made, and every few builds everything the preview keeps:
    at 5,000 explainers such a full collection took 1.6-2.5 s with the interpreter held, and a
    save's first look or a page request made then waited for it. So each build ends by collecting
    only what it made (the garbage cycles a build leaves are its own) and freezing the rest
    (gc.freeze): later collections walk only what was made after it. What a later build
    replaces is freed by reference counting, frozen or not; a frozen cycle is freed only by a
    full collection, which runs when the editor pauses, once the frozen objects have grown by
    a quarter since the last one (CPython's own rule for its oldest generation).
    """

    GROWTH = 1.25

    def __init__(self) -> None:
        self.frozen = 0  # objects frozen after the last build
        self.after_full = 0  # ... after the last full collection

    def around(self, work, *args):
        """work(*args), in the build thread, with the collector off until what it left is frozen."""
        gc.disable()  # pipeline.collector_paused() then leaves it off
        try:
            return work(*args)
        finally:
            gc.collect(1)  # what the build made (and other threads since the last freeze)
            self._freeze()

    def due(self) -> bool:
        return self.frozen > self.after_full * self.GROWTH

    def rebase(self) -> None:
        """What is frozen now is the preview's working set (a warm-up has planned every page):
        growth is counted from it, rather than spent on a full collection that finds nothing."""
        self.after_full = self.frozen

    def collect_all(self) -> None:
        """A full collection (in the build thread, when the editor pauses)."""
        gc.disable()
        gc.unfreeze()
        gc.collect()
        self._freeze()
        self.after_full = self.frozen

    def _freeze(self) -> None:
        gc.freeze()
        self.frozen = gc.get_freeze_count()
        self.after_full = self.after_full or self.frozen  # the first build's: growth is counted from it
        gc.enable()


class Rebuilder:
    """Builds one at a time in a worker thread, each after a quiet moment, then reloads the browsers.

    Pagefind reads every page, so it would make each save's build as slow as a whole site's:
    saves are built with the last search index kept, and the index catches up once the
    editor pauses (SEARCH_PAUSE), in a build that the next save stops. The same pause warms
    serve up when its first build found nothing to do: a build that plans every page in
    memory, which a save's first look is made from (serve_first_look.py). And it writes the
    build cache's record, which the builds keep in memory until then: the next process
    (`build`, or serve again) starts from it. Stopped before a pause, serve writes it as it stops.
    """

    def __init__(self, options: Options, preview: Preview, reporter, debounce: float):
        options = dataclasses.replace(options, record_later=True)  # written at a pause (_catch_up)
        self.options, self.preview, self.reporter, self.debounce = options, preview, reporter, debounce
        self.pending: set[str] = set()
        self.last_change = 0.0
        self.wake = asyncio.Event()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-build")
        self.looks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-look")  # first looks, one at a time
        self.busy = False
        self.good = True  # the latest build was good (no overlay on the pages)
        self.search_behind = False  # the served search index is older than the pages
        self.stoppable: threading.Event | None = None  # set to stop the build in progress (it ends between steps)
        self.stopped_last = False  # the last save's build was stopped: the next one is not
        self.carried: set[str] = set()  # the changes of a stopped build, for the build that replaces it
        self.in_build: set[str] = set()  # the changes the build in progress was started for
        self.looking: asyncio.Future | None = None  # a first look made while a build runs (_look_meanwhile)
        self.looked = -1.0  # when the latest first look began
        self.warmed = False  # a warm-up has been made (or was not needed)
        self.collector = Collector()

    def changed(self, path: str) -> None:
        """A source changed (called on the loop)."""
        self.pending.add(path)
        self.last_change = asyncio.get_running_loop().time()
        self.wake.set()
        if self.stoppable is not None:
            self.stoppable.set()
        if self.busy and self.looking is None:  # the editor need not wait for the build in progress
            self.looking = asyncio.ensure_future(self._look_meanwhile())

    async def _look_meanwhile(self) -> None:
        """First looks at the saves made while a build runs, made beside it from the last build's
        plan: so with every change not yet in a built site."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                while (quiet := loop.time() - self.last_change) < self.debounce:
                    await asyncio.sleep(self.debounce - quiet)
                started = loop.time()
                await self.first_look(self.in_build | self.carried | self.pending)
                if self.last_change < started or not self.busy:
                    return
        finally:
            self.looking = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not await self._changes_or_pause():
                await self._catch_up()
                continue
            while (quiet := loop.time() - self.last_change) < self.debounce:
                await asyncio.sleep(self.debounce - quiet)
            try:
                if self.looking is not None:  # it looks at the pending changes too; and its pages
                    await self.looking  # must be up before the build's replace them
                self.wake.clear()
                changed, self.pending, self.carried = self.pending | self.carried, set(), set()
                if self.looked < self.last_change:  # else the look made meanwhile saw these changes
                    await self.first_look(changed)
                await self.build(changed)
            except Exception:  # a bug here must not end the rebuilds: say it, go on
                traceback.print_exc(file=self.reporter.err)

    async def _changes_or_pause(self) -> bool:
        """Wait for a change (True), or for a pause while there is catching up to do (False)."""
        if not self.search_behind and not self._cold() and not self.collector.due() and not self._unwritten():
            await self.wake.wait()
            return True
        try:
            await asyncio.wait_for(self.wake.wait(), SEARCH_PAUSE)
            return True
        except asyncio.TimeoutError:
            return False

    async def build(self, changed: set[str], first: bool = False) -> None:
        """Build the current sources; then show the result (or the errors) and reload the browsers.

        A good build is shown as soon as its site is in place, while it still takes in its record."""
        loop = asyncio.get_running_loop()
        shown: list[int] = []  # how many warnings the result had when it was shown

        def published(result: Result) -> None:  # in the worker thread
            shown.append(len(result.warnings))  # a copy is shown: the save may still add a warning to it
            loop.call_soon_threadsafe(self.show, Outcome(result=dataclasses.replace(result, warnings=list(result.warnings))),
                                      changed)

        # A save's build is stopped by the next save until it writes (then its site is shown): the
        # next save's first look is not kept waiting. Never two in a row, so the site catches up.
        stop = None if first or self.stopped_last else threading.Event()
        options = dataclasses.replace(self.options, search=self.options.search and first, published=published, stop=stop)
        self.stoppable, self.in_build = stop, changed
        try:
            outcome = await self._attempt(options)
        finally:
            self.stoppable, self.in_build = None, set()
        self.stopped_last = outcome.stopped
        if outcome.stopped:  # the build of the newer save covers this one's changes
            self.carried |= changed
            return
        if not shown or not outcome.good:  # not published, or it failed after (a bug in saving the cache)
            self.show(outcome, changed)
        else:  # a warning that the cache could not be saved comes after
            self.reporter.problems(outcome.result.warnings[shown[0]:])
            self.reporter.err.flush()

    async def first_look(self, changed: set[str]) -> None:
        """Serve at once the saved items' own pages, made from the last build (serve_first_look.py);
        the build that follows replaces them with its site."""
        if not self.good:
            return
        started = self.looked = asyncio.get_running_loop().time()
        try:
            found = await asyncio.get_running_loop().run_in_executor(self.looks, _look_apace, self.options, changed,
                                                                     open_pages(self.preview))
        except Exception as exc:  # a bug: the build comes next all the same
            print(f"first look skipped: internal error ({type(exc).__name__}: {exc})", file=self.reporter.err, flush=True)
            return
        # what the browsers have not seen: a look made during a build has the build's saves too
        new = sorted(rel for rel, data in found.items() if self.preview.drafts.get(rel) != data)
        self.preview.drafts = found  # none: nothing to show early, or nothing that can be
        if new:
            self.preview.build += 1
            seconds = asyncio.get_running_loop().time() - started
            styles = [rel for rel in new if rel.endswith(".css")]  # swapped in: fetched again under their URLs
            said = [f"{n} {what}{'s' if n > 1 else ''}" for n, what in ((len(new) - len(styles), "page"),
                                                                      (len(styles), "stylesheet")) if n]
            print(f"first look at {' and '.join(said)} in {seconds:.2f} s; building the site",
                  file=self.reporter.out, flush=True)
            reload_browsers([f"{self.preview.base_path}{rel}" for rel in styles] if styles == new else ["*"])

    def _cold(self) -> bool:
        """Whether nothing is planned in memory for a first look, and a warm-up would do it."""
        return not self.warmed and self.good and remembered_plan(self.options.root, self.options.out) is None

    def _unwritten(self) -> bool:
        return cache.unwritten(self.options.root, self.options.out)

    async def _catch_up(self) -> None:
        """What waits for a pause: the search index, the warm-up, the build cache's record on
        disk (for the next process), a full collection (Collector)."""
        if self.search_behind or self._cold():
            await self._catch_up_search()
        loop = asyncio.get_running_loop()
        if self._unwritten() and not self.wake.is_set():  # stopped by a save, between two files
            self.stoppable = threading.Event()
            try:
                await loop.run_in_executor(self.pool, self.collector.around, self._write_record, self.stoppable)
            finally:
                self.stoppable = None
        if self.collector.due() and not self.wake.is_set():
            await loop.run_in_executor(self.pool, self.collector.collect_all)

    def _write_record(self, stop: threading.Event | None = None) -> None:
        """The build cache's record on disk (in the build thread): the next process starts from it."""
        try:
            cache.write_remembered(self.options.root, self.options.out, stop)
        except OSError as exc:  # as a build's failed save says: the site is fine, the next build starts afresh
            self.reporter.problems([pipeline.cache_unsaved(exc)])
            self.reporter.err.flush()
        except Exception:  # a bug: the site is fine; say it, keep serving
            print("warning: the build cache could not be saved: internal error\n" + traceback.format_exc(),
                  file=self.reporter.err, flush=True)

    async def _catch_up_search(self) -> None:
        """The search index made for the pages as they are, and serve warmed up if it is cold."""
        self.stoppable = threading.Event()
        warm_up = self._cold()
        try:
            outcome = await self._attempt(dataclasses.replace(self.options, stop=self.stoppable, replan=warm_up))
        finally:
            self.stoppable = None
        if outcome.stopped:
            return
        self.warmed = self.warmed or warm_up
        if warm_up:
            self.collector.rebase()
        behind, self.search_behind = self.search_behind, False
        if not outcome.good:  # the save's build has shown what is wrong; the next one will try again
            return
        if any(not rel.startswith(f"{search.BUNDLE}/") for rel in outcome.result.changed):
            self.show(outcome, set())  # a save landed before its change was seen: show it now
            return
        self.search_behind = outcome.result.search_behind
        if warm_up:
            print(f"warmed up in {outcome.result.seconds:.2f} s: a save now shows its page at once",
                  file=self.reporter.out, flush=True)
        if behind:
            print(f"search index updated in {outcome.result.seconds:.2f} s", file=self.reporter.out, flush=True)
        if (warm_up or behind) and self.reporter.steps:
            self.reporter.timings(outcome.result)
            self.reporter.out.flush()

    async def _attempt(self, options: Options) -> Outcome:
        self.busy = True
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self.collector.around, attempt, options)
        finally:
            self.busy = False

    def show(self, outcome: Outcome, changed: set[str]) -> None:
        """Serve what the build came to, say it in the terminal, and reload the browsers."""
        was_good, self.good = self.good, outcome.good
        preview = self.preview
        looked = bool(preview.drafts)
        # looks showing saves newer than this build stay, unless it replaced assets they name
        restyled = outcome.good and any(rel.startswith(FOLDER) for rel in outcome.result.changed)
        if not outcome.good or not (self.pending or self.carried) or restyled:
            preview.drafts = {}
        same = was_good and outcome.good and not outcome.result.changed and not looked  # the same site, byte for byte
        if outcome.good:
            preview.base_path = outcome.result.base_path
            preview.overlay = ""
            self.search_behind = outcome.result.search_behind
            self.reporter.built(outcome.result, self.options.out)
        else:
            preview.overlay = overlay_html(outcome.problems, outcome.failure, [self.options.root, BUILTIN])
            if outcome.failure:
                print(f"error: {outcome.failure}", file=self.reporter.err)
            self.reporter.problems(outcome.problems)
        self.reporter.out.flush()
        self.reporter.err.flush()
        if same:
            return  # nothing to reload
        preview.build += 1
        live = was_good and outcome.good
        reload_browsers(reload_paths(changed, self.options.root, preview.base_path) if live else ["*"])

    def close(self) -> None:
        if self.stoppable is not None:  # a catch-up, or a build that has written nothing yet, need not be waited for
            self.stoppable.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.looks.shutdown(wait=True, cancel_futures=True)
        if self._unwritten():  # so the next `build` (or serve) starts where this one left off
            self._write_record()


LOOK_SWITCH = 0.0005  # seconds: how often the interpreter changes threads while a first look is made


def _look_apace(options: Options, changed: set[str], open_pages: set[str]) -> dict[str, bytes]:
    """first_look(), with the interpreter handed from thread to thread every 0.5 ms, not 5 ms,
    meanwhile: a look made beside a build gives the interpreter up at each file it reads, and
    waited up to 5 ms each time to have it back. At 5,000 explainers, 20 saves 0.5 s apart, two
    alternated pairs: from save to page 209 and 211 ms against 307 and 255 ms (medians)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(LOOK_SWITCH)
    try:
        return first_look(options, changed, open_pages)
    finally:
        sys.setswitchinterval(before)


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
    asset = theme_asset(root, path)
    return None if asset is None else f"{base}{FOLDER}{published_name(*asset)}"  # None: a full reload
