"""The preview's HTTP side: livereload's websocket and script, guarded, and the site's files.

Every request first passes the Host check, which defeats DNS rebinding. The websocket gets
back tornado's same-origin check, which livereload turns off. /forcereload reloads the
browsers only on a same-origin POST (tornado's cross-origin protection), never on a GET.
The site handler serves only regular files inside OUT, realpath-contained, no dotfiles.

livereload.Server.application() mounts its own handler classes and offers no way to swap
them, so the application is composed here from livereload's handler classes instead.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import mimetypes
import os
import re
import stat
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from livereload.handlers import ForceReloadHandler, LiveReloadHandler, LiveReloadJSHandler
from tornado import web
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketHandler

from .serve_page import BUILD_PATH, MISSING_PAGE, decorate

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
WILDCARDS = ("", "0.0.0.0", "[::]")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
SEND_TIMEOUT = 10  # seconds a client may take to accept one piece of an answer before it is dropped
PIECE = 256 * 1024  # site files are sent a piece at a time: a slow but steady client gets a big file


@dataclass
class Preview:
    """What the server shows: changed by the rebuilder on the loop, read by the handlers."""

    out: Path
    base_path: str = "/"
    build: int = 0  # builds finished so far, good or not
    overlay: str = ""  # the error overlay of the latest build; "" when it was good
    drafts: dict[str, bytes] = field(default_factory=dict)  # first looks (serve_first_look.py) by output path


@dataclass(frozen=True)
class Hosts:
    """The Host header values the server answers to: loopback names and --host, with the port."""

    names: frozenset[str]
    port: int
    any_ip: bool = False  # bound to every interface: any IP literal as well (no DNS, no rebinding)

    @classmethod
    def bound_to(cls, host: str, port: int) -> "Hosts":
        name = bracketed(host.lower())
        wildcard = name in WILDCARDS
        return cls(frozenset(LOOPBACK) | ({name} if not wildcard else set()), port, wildcard)

    def allow(self, header: str) -> bool:
        name, port = split_host(header.strip().lower())
        port_ok = port == str(self.port) or (port is None and self.port == 80)
        return bool(name) and port_ok and (name in self.names or (self.any_ip and _is_ip(name)))


def bracketed(host: str) -> str:
    """An IPv6 literal as it appears in URLs and Host headers."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def split_host(header: str) -> tuple[str, str | None]:
    """('name', 'port' or None) from a Host header; ('', None) when it is malformed."""
    if header.startswith("["):
        name, sep, rest = header.partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return "", None
        return name + "]", rest[1:] if rest else None
    if ":" not in header:
        return header, None
    name, _, port = header.rpartition(":")
    return ("", None) if ":" in name else (name, port)


def _is_ip(name: str) -> bool:
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return address.version == 4 or name.startswith("[")


class Guarded(web.RequestHandler):
    """Refuses, with 403, a request whose Host header names a host this server is not;
    drops a client that does not accept what it is sent within SEND_TIMEOUT."""

    def prepare(self) -> None:
        if not self.settings["hosts"].allow(self.request.headers.get("Host", "")):
            raise web.HTTPError(403)

    def flush(self, include_footers: bool = False) -> asyncio.Future[None]:
        # tornado times out reading a request (server_limits), never writing the answer:
        # a client that asks and never reads would hold its connection for good.
        sent = super().flush(include_footers)
        if not sent.done():
            connection = self.request.connection
            timer = asyncio.get_running_loop().call_later(SEND_TIMEOUT, connection.close)
            sent.add_done_callback(lambda _: timer.cancel())
        return sent


class ReloadSocket(Guarded, LiveReloadHandler):
    """livereload's websocket: same-origin only, and a browser counts as soon as it says hello.

    livereload.js then says which page it is on (`info`): a saved layout's first look is made
    of the pages open (open_pages)."""

    page = ""  # the path of the page the browser has open, as its `info` said

    def check_origin(self, origin: str) -> bool:
        return WebSocketHandler.check_origin(self, origin)  # tornado's same-origin check

    def on_message(self, message: str | bytes) -> None:
        try:
            said = json.loads(message)
            command = said.get("command")
            if command == "info" and isinstance(said.get("url"), str):
                self.page = urllib.parse.urlsplit(said["url"]).path[:2048]
        except (ValueError, TypeError, AttributeError):  # not JSON, not an object, not a URL
            return
        if command == "hello":
            # Registered before the hello reply goes out, so once the page sees the handshake
            # (and asks for BUILD_PATH), no later build can miss it.
            LiveReloadHandler.waiters.add(self)
        if command in ("hello", "info"):
            super().on_message(message)


class ReloadScript(Guarded, LiveReloadJSHandler):
    """livereload.js, the client that the pages load."""


class ForceReload(Guarded, ForceReloadHandler):
    """livereload's /forcereload, as a POST only: a GET must not change what browsers show."""

    def get(self) -> None:
        raise web.HTTPError(405)

    def post(self) -> None:
        super().get()


class BuildNumber(Guarded):
    """The number of the latest finished build, which pages compare with their own."""

    def initialize(self, preview: Preview) -> None:
        self.preview = preview

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"build": self.preview.build}))


class SiteFiles(Guarded):
    """The built site, under the path of base_url; every HTML page decorated for the preview."""

    def initialize(self, preview: Preview) -> None:
        self.preview = preview

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    async def get(self) -> None:
        data = self._serve()
        try:
            for start in range(0, len(data), PIECE):
                self.write(data[start:start + PIECE])
                await self.flush()
        except StreamClosedError:  # the client left, or was dropped (Guarded.flush)
            pass

    def head(self) -> None:
        self._serve()

    def _serve(self) -> bytes:
        """Set the answer's status and headers; its body."""
        preview = self.preview
        found = locate(preview.out, preview.base_path, self.request.path)
        if isinstance(found, str):
            self.redirect(found + (f"?{self.request.query}" if self.request.query else ""))
            return b""
        data = read_regular(found, preview.out) if found else None
        if data is not None and preview.drafts:  # only ever in place of a page the site has
            data = preview.drafts.get(found.relative_to(preview.out.resolve()).as_posix(), data)
        if data is None:
            self.set_status(404)
            found = preview.out / "404.html"
            data = read_regular(found, preview.out) or MISSING_PAGE
        kind = content_type(found.name)
        if kind.startswith("text/html"):
            data = decorate(data, preview.build, preview.overlay)
        self.set_header("Content-Type", kind)
        self.set_header("Content-Length", len(data))
        return data


def locate(out: Path, base_path: str, raw_path: str) -> Path | str | None:
    """What a request path names: a file inside OUT, a path to redirect to, or None (404)."""
    if base_path != "/" and raw_path in ("/", base_path.rstrip("/")):
        return base_path
    if not raw_path.startswith(base_path):
        return None
    try:
        rest = urllib.parse.unquote(raw_path[len(base_path):], errors="strict")
    except UnicodeDecodeError:
        return None
    parts = rest.split("/")
    last = parts.pop()
    if not all(map(_safe_segment, parts)) or (last and not _safe_segment(last)):
        return None
    try:
        root = out.resolve(strict=True)
        found = root.joinpath(*parts, last).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not found.is_relative_to(root):
        return None
    if found.is_dir():
        return f"{raw_path}/" if last else found / "index.html"
    return found if last else None


def _safe_segment(segment: str) -> bool:
    """A path segment that names a visible file: no dot start, no separators, no control characters."""
    return (bool(segment) and not segment.startswith(".") and "\\" not in segment
            and not any(ord(c) < 32 or ord(c) == 127 for c in segment)
            and not _ESCAPE.search(segment))  # still escaped after decoding: double encoding


def read_regular(path: Path, out: Path) -> bytes | None:
    """The bytes of `path` if it is a regular file whose real path is inside OUT, else None."""
    try:
        root = out.resolve(strict=True)
        real = path.resolve(strict=True)
        if not real.is_relative_to(root) or any(part.startswith(".") for part in real.relative_to(root).parts):
            return None
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, RuntimeError, ValueError):
        return None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        try:
            return file.read()
        except OSError:
            return None


def content_type(name: str) -> str:
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    textual = kind.startswith("text/") or kind in ("application/javascript", "application/json", "application/xml")
    return f"{kind}; charset=utf-8" if textual else kind


def application(preview: Preview, hosts: Hosts, watcher: object) -> web.Application:
    """The tornado application: livereload's three routes, guarded, the build number, the site."""
    # livereload's handlers read these from their class, as livereload.Server sets them;
    # reload_waiters() logs `watcher.filepath`, the last changed source.
    LiveReloadHandler.watcher = watcher
    LiveReloadHandler.live_css = True
    return web.Application(
        [
            (r"/livereload", ReloadSocket),
            (r"/livereload\.js", ReloadScript),
            (r"/forcereload", ForceReload),
            (re.escape(BUILD_PATH), BuildNumber, {"preview": preview}),
            (r"/.*", SiteFiles, {"preview": preview}),
        ],
        hosts=hosts,
        cross_origin_protection=True,  # a POST from another origin gets 403 before any handler runs
        websocket_max_message_size=64 * 1024,
        log_function=lambda handler: None,
    )


def server_limits() -> dict:
    """tornado HTTPServer settings that bound what one client can hold (hardening, issue 5).

    A preview answers GETs and the empty POST of /forcereload: a request whose head or body
    is bigger, or slower, than a browser's is refused or dropped before it costs memory or a
    connection for long. tornado's defaults would read a 100 MB body into memory and wait an
    hour for a request's headers, or for the next request on a kept-alive connection.
    """
    return {
        "max_header_size": 64 * 1024,  # request line and headers (a browser's are a few KB): else closed
        "max_body_size": 64 * 1024,  # announced or chunked: else 400 before the body is read
        "max_buffer_size": 1024 * 1024,  # what one connection's read buffer may hold
        "idle_connection_timeout": 10,  # seconds to send a whole request head, and between kept-alive requests
        "body_timeout": 10,  # seconds to send a whole body
    }


def open_pages(preview: Preview) -> set[str]:
    """The output paths of the HTML pages the connected browsers have open (on the loop)."""
    out = preview.out.resolve()
    found = set()
    for page in {getattr(socket_, "page", "") for socket_ in LiveReloadHandler.waiters} - {""}:
        where = locate(out, preview.base_path, page)
        if isinstance(where, Path) and where.suffix == ".html":
            found.add(where.relative_to(out).as_posix())
    return found


def reload_browsers(paths: list[str]) -> None:
    """Tell every connected page to reload; a stylesheet's or image's path swaps only that."""
    for path in paths:
        LiveReloadHandler.reload_waiters(path)
