"""`python build.py serve` over HTTP, as real processes: what it serves, what it refuses,
how it follows saves and errors, and that Ctrl-C leaves nothing behind.

The browser side (reloads, live CSS, the overlay on screen) is in browser/test_serve_browser.py.
"""

from __future__ import annotations

import base64
import functools
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from dossier import pipeline, search
from dossier.load import MAX_FILE_BYTES
from dossier.render import BUILTIN

from .conftest import MINIMAL, REPO, write_site

BASE = "/explainers/"
SITE = {path: textwrap.dedent(text).lstrip("\n") for path, text in {
    "content/site.yml": """
        title: Serve desk
        base_url: https://example.org/explainers/
        """,
    "content/explainers/first-look.md": """
        ---
        title: A first look
        dek: What the preview shows.
        published: 2024-06-17
        actors: [north-korea]
        ---
        North Korea is sending shells.

        ## Why it matters now

        ![[shells]]
        """,
    "content/actors/north-korea.md": MINIMAL["content/actors/north-korea.md"],
    "content/cards/shells.yml": """
        title: Shells sent to Russia
        claim: "[[north-korea]] may have sent close to five million shells."
        date: 2024-06
        actors: [north-korea]
        sources:
          - name: Bloomberg
        """,
}.items()}
EXPLAINER = "content/explainers/first-look.md"
CARD = "content/cards/shells.yml"
BROKEN_CARD = SITE[CARD].replace("actors: [north-korea]", "actors: [north-korea, north-koreaa]")
BROKEN_MARK = f"{CARD}:4:23"  # the line and column of north-koreaa in BROKEN_CARD
SECRET = "secret-beside-the-output"


def make_site(root: Path) -> Path:
    """The fixture site, plus a secret file beside the output folder that nothing may serve."""
    write_site(root, SITE)
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    return root


def save(path: Path, text: str) -> None:
    """Save as many editors do: write a temporary file beside it, then rename it over."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


def explainer_text(title: str) -> str:
    return SITE[EXPLAINER].replace("title: A first look", f"title: {title}")


class Served:
    """A `python build.py serve` process on a free port, its output collected as it comes."""

    def __init__(self, root: Path, *args: str, timeout: float = 60):
        self.root = root
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=root)
        threading.Thread(target=self._collect, daemon=True).start()
        found = self.wait_for_output(r"serving (http://\S+)", timeout)
        self.url = found.group(1)
        self.port = int(re.search(r":(\d+)/", self.url).group(1))

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_output(self, pattern: str, timeout: float = 20) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output)
            if found:
                return found
            if self.process.poll() is not None and not re.search(pattern, self.output):
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.output}")
            time.sleep(0.02)
        pytest.fail(f"no {pattern!r} from serve within {timeout} s:\n{self.output}")

    def builds(self) -> int:
        return len(re.findall(r"^built ", self.output, re.M))

    def request(self, path: str, method: str = "GET", host: str | None = None,
                headers: dict[str, str] | None = None, body: bytes | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", f"127.0.0.1:{self.port}" if host is None else host)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def wait_for_page(self, path: str, check, timeout: float = 20) -> bytes:
        """Poll `path` until check(status, body) holds; the last answer is in the failure."""
        deadline = time.monotonic() + timeout
        status, body = None, b""
        while time.monotonic() < deadline:
            status, _, body = self.request(path)
            if check(status, body):
                return body
            time.sleep(0.05)
        pytest.fail(f"{path}: still {status} after {timeout} s:\n{body[:2000]!r}\n--- serve said:\n{self.output}")

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Socket:
    """A bare websocket client: enough of RFC 6455 to shake hands, say hello and hear replies."""

    def __init__(self, port: int, origin: str | None, host: str | None = None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET /livereload HTTP/1.1", f"Host: {f'127.0.0.1:{port}' if host is None else host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if origin:
            lines.append(f"Origin: {origin}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        self.status = int(head.split(b" ", 2)[1]) if head else 0

    def send(self, message: dict) -> None:
        payload, mask = json.dumps(message).encode(), os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def receive(self, timeout: float) -> dict | None:
        """The next text message, or None if none comes within timeout."""
        self.sock.settimeout(timeout)
        try:
            first, second = self._exactly(2)
        except (socket.timeout, ConnectionError):
            return None
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(self._exactly(2), "big")
        elif size == 127:
            size = int.from_bytes(self._exactly(8), "big")
        payload = self._exactly(size)
        return json.loads(payload) if first & 0x0F == 1 else None

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


def raw_request(port: int, data: bytes, timeout: float = 5) -> bytes:
    """Send bytes as they are; the first line of the answer (b'' if the server closed or said nothing)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except (socket.timeout, ConnectionError):
            pass
    return answer.split(b"\r\n", 1)[0]


@pytest.fixture
def served(tmp_path):
    """Factory: served(root=None, *args) -> a running Served on the fixture site (or root)."""
    started: list[Served] = []

    def start(root: Path | None = None, *args: str) -> Served:
        server = Served(root or make_site(tmp_path / f"site-{len(started)}"), *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for the tests that only read (and add files to OUT, which is never watched)."""
    server = Served(make_site(tmp_path_factory.mktemp("shared")))
    yield server
    server.kill()


# --------------------------------------------------------------------------- serving


def test_serves_the_site_under_the_base_path(shared):
    status, headers, body = shared.request(BASE)
    assert status == 200 and b"A first look" in body
    assert headers["Content-Type"].startswith("text/html") and headers["Cache-Control"] == "no-store"
    assert b'data-dossier="livereload"' in body and b'data-dossier="client"' in body
    status, _, body = shared.request(f"{BASE}explainers/first-look/")
    assert status == 200 and b"<h1" in body and b"dossier-errors" not in body
    status, headers, body = shared.request(f"{BASE}feed.xml")
    assert status == 200 and b"livereload" not in body  # only HTML pages get the client
    status, headers, body = shared.request(f"{BASE}explainers/first-look/", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    status, _, body = shared.request("/livereload.js")
    assert status == 200 and b"LiveReload" in body


@pytest.mark.parametrize("path, location", [
    ("/", BASE), ("/explainers", BASE), ("/explainers?x=1", f"{BASE}?x=1"),
    (f"{BASE}explainers/first-look", f"{BASE}explainers/first-look/"),
])
def test_redirects_to_the_base_path_and_to_folders(shared, path, location):
    status, headers, _ = shared.request(path)
    assert (status, headers.get("Location")) == (302, location)


def test_missing_page_is_the_sites_404_with_the_client(shared):
    status, _, body = shared.request(f"{BASE}explainers/nothing-here/")
    assert status == 404 and b"Page not found" in body and b'data-dossier="livereload"' in body
    assert shared.request("/elsewhere/")[0] == 404


# ------------------------------------------------------------------------- refusing


@pytest.mark.parametrize("host", [
    "evil.example:{port}", "evil.example", "127.0.0.1.evil.example:{port}", "127.0.0.1:1{port}",
    "127.0.0.1", "localhost:{port}.evil.example", "[::1]x:{port}", "", "0.0.0.0:{port}",
])
def test_a_foreign_host_header_gets_403(shared, host):
    host = host.format(port=shared.port)
    for path in (BASE, "/livereload.js", "/_dossier/build", "/livereload"):
        status, _, _ = shared.request(path, host=host)
        assert status == 403, (path, host)
    assert Socket(shared.port, f"http://{host}", host=host).status == 403


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}", "[::1]:{port}"])
def test_loopback_host_headers_are_served(shared, host):
    assert shared.request(BASE, host=host.format(port=shared.port))[0] == 200


def test_on_every_interface_ip_literals_are_served_and_names_still_refused(served):
    server = served(None, "--host", "0.0.0.0")
    assert server.url.startswith("http://127.0.0.1:")
    for host in ("192.0.2.7:{port}", "[2001:db8::1]:{port}", "127.0.0.1:{port}"):
        assert server.request(BASE, host=host.format(port=server.port))[0] == 200, host
    for host in ("evil.example:{port}", "192.0.2.7.nip.io:{port}", "2001:db8::1:{port}", "192.0.2.7:1{port}"):
        assert server.request(BASE, host=host.format(port=server.port))[0] == 403, host


@pytest.mark.parametrize("origin", ["http://evil.example", "http://evil.example:{port}", "null",
                                    "http://localhost:{port}", "http://127.0.0.1:1{port}", "https://127.0.0.1"])
def test_websocket_from_another_origin_is_refused(shared, origin):
    socket_ = Socket(shared.port, origin.format(port=shared.port))
    assert socket_.status == 403
    socket_.close()


def test_websocket_from_the_same_origin_says_hello(shared):
    socket_ = Socket(shared.port, f"http://127.0.0.1:{shared.port}")
    assert socket_.status == 101
    socket_.send({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
    assert socket_.receive(5)["command"] == "hello"
    for url in ("http://[::1", 7, "/../../etc/passwd"):  # the page it says it is on: taken with care
        socket_.send({"command": "info", "url": url})
    socket_.send({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
    assert socket_.receive(5)["command"] == "hello"  # still heard
    assert "Traceback" not in shared.output, shared.output
    socket_.close()


def test_forcereload_changes_nothing_on_a_get(shared):
    socket_ = Socket(shared.port, f"http://127.0.0.1:{shared.port}")
    socket_.send({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
    assert socket_.receive(5)["command"] == "hello"
    assert shared.request("/forcereload?path=*")[0] == 405
    assert socket_.receive(1) is None
    foreign = {"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"}
    assert shared.request("/forcereload", method="POST", headers=foreign, body=b"path=*")[0] == 403
    assert socket_.receive(1) is None
    # A local tool (no Origin) may still POST one, and then the browsers do reload.
    assert shared.request("/forcereload", method="POST", body=b"")[0] == 200
    assert socket_.receive(5)["command"] == "reload"
    socket_.close()


TRAVERSALS = [
    "/explainers/../secret.txt", "/explainers/%2e%2e/secret.txt", "/explainers/%2E%2E/secret.txt",
    "/explainers/.%2e/secret.txt", "/explainers/%2e./secret.txt", "/explainers/%252e%252e/secret.txt",
    "/explainers/%25252e%25252e/secret.txt", "/explainers/..%2fsecret.txt", "/explainers/..%2Fsecret.txt",
    "/explainers/..%252fsecret.txt", "/explainers/..%5csecret.txt", "/explainers/..%5Csecret.txt",
    "/explainers/..\\secret.txt", "/explainers/.\\..\\secret.txt", "/explainers/..%255csecret.txt",
    "/explainers/%c0%ae%c0%ae/secret.txt", "/explainers/%e0%80%ae%e0%80%ae/secret.txt",
    "/explainers/..%c0%afsecret.txt", "/explainers/%uff0e%uff0e/secret.txt", "/explainers/..;/secret.txt",
    "/explainers/.../secret.txt", "/explainers/....//secret.txt", "/explainers/./../secret.txt",
    "/explainers/explainers/../../secret.txt", "/explainers/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/explainers/../../../../../../../../etc/passwd", "/explainers//etc/passwd", "/explainers/%2fetc%2fpasswd",
    "/explainers/%2F..%2Fsecret.txt", "/explainers/index.html%00.css", "/explainers/%00", "/explainers/..%00/secret.txt",
    "/explainers/%0a", "/explainers/%ff%fe", "/../secret.txt", "/%2e%2e/secret.txt", "/explainers/~/secret.txt",
    "/explainers/file:///etc/passwd", "//secret.txt", "///etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_in_any_encoding_gets_404(shared, path):
    status, _, body = shared.request(path)
    assert status == 404 and SECRET.encode() not in body and b"root:" not in body


def test_raw_traversal_and_nul_bytes_are_refused(shared):
    for line in (b"GET /explainers/../secret.txt HTTP/1.1", b"GET /explainers/%00/../secret.txt HTTP/1.1",
                 b"GET /explainers/\x00/../secret.txt HTTP/1.1", b"GET http://127.0.0.1/../secret.txt HTTP/1.1",
                 b"GET ../secret.txt HTTP/1.1", b"GET explainers/../../secret.txt HTTP/1.1"):
        first = raw_request(shared.port, line + f"\r\nHost: 127.0.0.1:{shared.port}\r\n\r\n".encode())
        assert first.startswith(b"HTTP/1.1 4") or first == b"", (line, first)
    assert shared.request(BASE)[0] == 200


def test_dotfiles_in_the_output_get_404_and_writing_there_triggers_no_build(shared):
    out = shared.root / "site"
    build = json.loads(shared.request("/_dossier/build")[2])["build"]
    (out / ".env").write_text(SECRET)
    (out / ".git").mkdir(exist_ok=True)
    (out / ".git" / "config").write_text(SECRET)
    (out / "explainers" / ".draft.html").write_text(SECRET)
    (out / "visible.txt").write_text("visible")
    for path in (".env", ".git/config", ".git/", "explainers/.draft.html", "%2eenv", ".%65nv"):
        status, _, body = shared.request(BASE + path)
        assert status == 404 and SECRET.encode() not in body, path
    assert shared.request(f"{BASE}visible.txt")[2] == b"visible"  # the same place, not a dotfile: served
    time.sleep(0.5)
    assert json.loads(shared.request("/_dossier/build")[2])["build"] == build


def test_symlinks_out_of_the_output_get_404(shared):
    out = shared.root / "site"
    (out / "leak.txt").symlink_to(shared.root / "secret.txt")
    (out / "leak-folder").symlink_to(shared.root / "content")
    (out / "loop").symlink_to(out / "loop")
    (out / "inside.txt").symlink_to(out / "robots.txt")
    for path in ("leak.txt", "leak-folder/site.yml", "leak-folder/", "loop", "loop/x"):
        status, _, body = shared.request(BASE + path)
        assert status == 404 and SECRET.encode() not in body and b"base_url" not in body, path
    assert shared.request(f"{BASE}inside.txt")[0] == 200  # a link that stays inside OUT is fine


def test_no_request_crashes_it(shared):
    port = shared.port
    for data in (b"\x00\xff garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET\r\n\r\n",
                 b"GET /explainers/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX: " % port + b"a" * 200_000 + b"\r\n\r\n",
                 b"POST /explainers/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 99999999\r\n\r\nx" % port,
                 b"GET /explainers/" + b"a/" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port,
                 b"GET /explainers/" + b"%ff" * 3000 + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port):
        raw_request(port, data, timeout=0.5)
    for method in ("PUT", "DELETE", "OPTIONS", "PATCH", "BREW"):
        assert shared.request(BASE, method=method)[0] in (403, 405), method
    socket_ = Socket(port, f"http://127.0.0.1:{port}")
    for message in ({"command": 5}, {"nothing": 1}, {"command": "info"}, {"command": "reload", "path": "*"}):
        socket_.send(message)
    socket_.sock.sendall(bytes([0x81, 0x83]) + b"\x00\x00\x00\x00" + b"{{{")  # not JSON
    socket_.close()
    assert shared.request(BASE)[0] == 200
    assert shared.process.poll() is None


# ------------------------------------------------------------------ following saves


def test_creates_deletes_and_renames_are_seen(served):
    server = served()
    card = server.root / "content" / "cards" / "drones.yml"
    save(card, 'title: Drones for Russia\nclaim: "Drones were sent."\nsources:\n  - name: Reuters\n')
    server.wait_for_page(f"{BASE}cards/drones/", lambda s, b: s == 200 and b"Drones for Russia" in b)
    card.rename(card.with_name("uavs.yml"))
    server.wait_for_page(f"{BASE}cards/uavs/", lambda s, b: s == 200)
    server.wait_for_page(f"{BASE}cards/drones/", lambda s, b: s == 404)
    card.with_name("uavs.yml").unlink()
    server.wait_for_page(f"{BASE}cards/uavs/", lambda s, b: s == 404)


def test_a_theme_folder_made_after_start_is_watched(served):
    server = served()

    def stylesheet(status: int, page: bytes) -> bytes:
        return server.request(re.search(rb'href="([^"]+\.css)"', page).group(1).decode())[2]

    style = server.root / "assets" / "style.css"
    style.parent.mkdir()
    style.write_text("body { color: rgb(1, 2, 3); }\n")
    server.wait_for_page(BASE, lambda s, b: b"rgb(1, 2, 3)" in stylesheet(s, b))
    save(style, "body { color: rgb(4, 5, 6); }\n")
    server.wait_for_page(BASE, lambda s, b: b"rgb(4, 5, 6)" in stylesheet(s, b))
    shutil.rmtree(style.parent)  # back to the built-in stylesheet
    server.wait_for_page(BASE, lambda s, b: b"rgb(4, 5, 6)" not in stylesheet(s, b))
    style.parent.mkdir()  # and a new theme folder is watched again
    style.write_text("body { color: rgb(7, 8, 9); }\n")
    server.wait_for_page(BASE, lambda s, b: b"rgb(7, 8, 9)" in stylesheet(s, b))
    save(style, "body { color: rgb(10, 11, 12); }\n")
    server.wait_for_page(BASE, lambda s, b: b"rgb(10, 11, 12)" in stylesheet(s, b))


def test_a_burst_of_saves_is_one_build_of_the_last_state(served):
    server = served()
    explainer = server.root / EXPLAINER
    started = time.monotonic()
    for n in range(1, 11):
        save(explainer, explainer_text(f"Burst {n}"))
    burst = time.monotonic() - started
    server.wait_for_page(f"{BASE}explainers/first-look/", lambda s, b: b"Burst 10" in b)
    time.sleep(0.5)
    # The first build, then one for the burst; a loaded machine that stalled this loop for
    # about serve's quiet period (50 ms) may have made it two bursts.
    assert server.builds() <= (2 if burst < 0.025 else 3), f"burst took {burst:.3f} s\n{server.output}"


# References and emphasis: five times the rendering per byte of plain prose, so that a file
# under the loader's size limit is slow enough on a fast machine too
SLOW_PARAGRAPH = "[[north-korea]] sent *shells* and **drones** to Russia, this sentence says. " * 10
SLOW_SECONDS = 1.0  # how long the slow explainer's body takes to render, on whatever machine runs the tests


def slow_explainer(title: str) -> str:
    """An explainer whose body takes long enough to render that a test can save again meanwhile."""
    return with_paragraphs(title, slow_paragraphs())


def with_paragraphs(title: str, count: int) -> str:
    return explainer_text(title) + "\n" + "\n\n".join([SLOW_PARAGRAPH] * count) + "\n"


@functools.cache
def slow_paragraphs() -> int:
    """How many paragraphs take SLOW_SECONDS to render here and now, as many as fit in a content
    file: measured, since a fixed number was too quick on a fast machine (plain prose, 600
    paragraphs and then 1,500, rendered in under the 0.5 s the tests need). Two `check` builds
    of the fixture site, without the paragraphs and with 300 of them, give the time a paragraph
    takes; a first build before them warms up what only a process's first build does (imports,
    the layouts compiled)."""
    calibration = 300
    took = {}
    with tempfile.TemporaryDirectory() as scratch:
        for n, count in enumerate((0, 0, calibration)):  # the first is the warm-up: its time is replaced
            root = make_site(Path(scratch) / str(n))
            (root / EXPLAINER).write_text(with_paragraphs("Calibration", count), encoding="utf-8")
            took[count] = pipeline.build(pipeline.Options(root=root, out=root / "site", write=False)).seconds
    per_paragraph = max(took[calibration] - took[0], 1e-4) / calibration
    fits = (MAX_FILE_BYTES - len(with_paragraphs("Slow A", 0).encode())) // len(f"{SLOW_PARAGRAPH}\n\n".encode())
    return max(calibration, min(fits, round(SLOW_SECONDS / per_paragraph)))


def test_a_save_during_a_slow_build_gets_a_build_after_it_and_requests_go_on(served, tmp_path):
    root = make_site(tmp_path / "slow")
    slow = slow_explainer("Slow A")
    (root / EXPLAINER).write_text(slow, encoding="utf-8")
    server = served(root)
    seconds = float(re.search(r" in ([\d.]+) s", server.output).group(1))
    assert seconds > 0.5, "the fixture should make a slow build"
    explainer = root / EXPLAINER
    save(explainer, slow.replace("Slow A", "Slow B"))
    time.sleep(0.3)  # the build of B is under way
    save(explainer, slow.replace("Slow A", "Slow C"))
    started = time.monotonic()
    status, _, _ = server.request(f"{BASE}actors/north-korea/")
    waited = time.monotonic() - started
    assert status == 200 and waited < max(0.3, seconds / 2), f"a request waited {waited:.2f} s for a build"
    server.wait_for_page(f"{BASE}explainers/first-look/", lambda s, b: b"Slow C" in b, timeout=60)
    time.sleep(seconds + 0.5)
    status, _, body = server.request(f"{BASE}explainers/first-look/")
    assert b"Slow C" in body  # and it stays there: no later build of an older state


def test_a_save_stops_the_build_of_the_last_one_until_it_writes(served, tmp_path):
    """The second save comes while the first one's build renders its (slow) body: that build is
    stopped before it writes, and one build of the second save follows. The first look at the
    second save is not kept waiting for the first save's build."""
    root = make_site(tmp_path / "slow")
    slow = slow_explainer("Slow")
    (root / EXPLAINER).write_text(slow, encoding="utf-8")
    server = served(root)
    builds = server.builds()
    save(root / EXPLAINER, slow.replace("this sentence", "sentence B"))
    look = float(server.wait_for_output(r"first look at 1 page in ([\d.]+) s").group(1))
    assert look > 0.25, "the body should take long enough to render to save again meanwhile"
    time.sleep(0.1)  # the build of B is rendering the body
    save(root / EXPLAINER, slow.replace("this sentence", "sentence C"))
    server.wait_for_page(f"{BASE}explainers/first-look/", lambda s, b: b"sentence C" in b, timeout=60)
    server.wait_for_output(rf"(?ms)(^built .*){{{builds + 1}}}", timeout=60)
    time.sleep(look * 3)
    assert server.builds() == builds + 1, server.output  # B's build was stopped, C's was not
    assert len(re.findall(r"^first look at", server.output, re.M)) == 2
    assert b"sentence C" in server.request(f"{BASE}explainers/first-look/")[2]


def listening_socket(port: int) -> Socket:
    """A websocket that has said hello, as livereload.js does: it hears every reload."""
    socket_ = Socket(port, f"http://127.0.0.1:{port}")
    socket_.send({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
    assert socket_.receive(5)["command"] == "hello"
    return socket_


def test_a_save_that_changes_no_page_reloads_nothing(served):
    server = served()
    socket_ = listening_socket(server.port)
    builds = server.builds()
    save(server.root / CARD, SITE[CARD] + "# an editor's note, in a YAML comment\n")
    server.wait_for_output(rf"(?ms)(^built .*){{{builds + 1}}}")
    assert socket_.receive(1) is None  # the same bytes everywhere: the open page stays as it is
    save(server.root / CARD, SITE[CARD].replace("Shells sent to Russia", "Shells sent north"))
    assert socket_.receive(20)["command"] == "reload"
    socket_.close()


def test_a_save_shows_its_page_at_once_then_the_build_brings_the_rest(served):
    """serve_first_look.py: the saved explainer's page is served, and the browsers reloaded,
    before the build; the build then reloads them again with the whole site."""
    server = served()
    socket_ = listening_socket(server.port)
    builds = server.builds()
    save(server.root / EXPLAINER, explainer_text("Seen at once"))
    assert socket_.receive(20)["command"] == "reload"
    server.wait_for_output(r"first look at 1 page in [\d.]+ s; building the site\n")
    assert socket_.receive(20)["command"] == "reload"  # the build's
    server.wait_for_output(rf"(?ms)(^built .*){{{builds + 1}}}")
    assert server.output.index("first look at") < [m.start() for m in re.finditer(r"^built ", server.output, re.M)][-1]
    status, _, body = server.request(f"{BASE}explainers/first-look/")
    assert status == 200 and b"Seen at once" in body
    socket_.close()


@pytest.mark.parametrize("during_a_page_build", [False, True])
def test_a_saved_stylesheet_is_served_at_once_under_the_name_the_pages_have(served, tmp_path, during_a_page_build):
    """A stylesheet's first look: the open pages are told to fetch the stylesheet they name
    again, and get the saved bytes, before the build makes every page name the new fingerprint.
    Also when an explainer's (slow) build is under way: the look has both saves, but only the
    stylesheet is shown early."""
    root = make_site(tmp_path / "styled")
    style = root / "assets" / "style.css"
    style.parent.mkdir()
    shutil.copyfile(BUILTIN / "assets" / "style.css", style)
    slow = slow_explainer("Slow") if during_a_page_build else ""
    if slow:
        (root / EXPLAINER).write_text(slow, encoding="utf-8")
    server = served(root)
    old = [p.name for p in (root / "site" / "assets").glob("style.*.css")]
    socket_ = listening_socket(server.port)
    builds = server.builds()
    if slow:
        save(root / EXPLAINER, slow.replace("this sentence", "sentence B"))
        assert socket_.receive(20)["path"] == "*"  # its first look; its build renders the slow body
        time.sleep(0.1)
    save(style, style.read_text() + "\nh1 { color: rgb(1, 2, 3) !important; }\n")
    look = socket_.receive(20)
    assert look["command"] == "reload" and look["path"] == f"{BASE}assets/{old[0]}", look
    status, _, body = server.request(f"{BASE}assets/{old[0]}")
    assert b"rgb(1, 2, 3)" in body or status == 404  # the saved bytes, or the build has replaced the site
    server.wait_for_output(r"first look at 1 stylesheet in [\d.]+ s; building the site\n")
    built = socket_.receive(30)  # the build's: the new stylesheet alone, or a page with it (the slow build stopped)
    new = [p.name for p in (root / "site" / "assets").glob("style.*.css")]
    if slow and new == old:  # the slow build was not stopped after all: the stylesheet's build comes next
        built = socket_.receive(30)
        new = [p.name for p in (root / "site" / "assets").glob("style.*.css")]
    assert new != old and built["path"] in (f"{BASE}assets/{new[0]}", "*" if slow else None), (built, new, old)
    server.wait_for_output(rf"(?ms)(^built .*){{{builds + 1}}}")
    status, _, body = server.request(f"{BASE}assets/{new[0]}")
    assert status == 200 and b"rgb(1, 2, 3)" in body
    assert server.request(f"{BASE}assets/{old[0]}")[0] == 404  # the look's draft went with the build
    socket_.close()


LOOP = "{% for j in range(1000) %}{% set x = i + j %}{% endfor %}"


@functools.cache
def slow_loops() -> int:
    """How many times LOOP runs in 3 * SLOW_SECONDS here and now (measured, as slow_paragraphs)."""
    import jinja2

    template = jinja2.Environment().from_string(f"{{% for i in range(200) %}}{LOOP}{{% endfor %}}")
    started = time.perf_counter()
    template.render()
    return int(200 * 3 * SLOW_SECONDS / (time.perf_counter() - started))


def test_a_page_saved_while_a_stylesheet_is_built_is_shown_at_once(served, tmp_path):
    """A stylesheet's build renders every page (12-17 s at 5,000 explainers). A page saved
    meanwhile gets its first look at once, naming the stylesheet as the site serves it, where
    the look serves the saved stylesheet."""
    root = make_site(tmp_path / "restyling")
    style = root / "assets" / "style.css"
    style.parent.mkdir()
    shutil.copyfile(BUILTIN / "assets" / "style.css", style)
    card = (BUILTIN / "layouts" / "card.html").read_text(encoding="utf-8")  # rendered in seconds: a slow page
    slow = f"{{% for i in range({slow_loops()}) %}}{LOOP}{{% endfor %}}{{% endblock %}}"
    (root / "layouts").mkdir()
    (root / "layouts" / "card.html").write_text(card[:card.rindex("{% endblock %}")] + slow, encoding="utf-8")
    server = served(root)
    builds = server.builds()
    save(style, style.read_text() + "\nh1 { color: rgb(1, 2, 3) !important; }\n")
    server.wait_for_output(r"first look at 1 stylesheet in")
    old = [p.name for p in (root / "site" / "assets").glob("style.*.css")]
    save(root / EXPLAINER, explainer_text("Saved while restyling"))
    body = server.wait_for_page(f"{BASE}explainers/first-look/", lambda s, b: b"Saved while restyling" in b)
    assert server.builds() == builds, server.output  # the stylesheet's build is still under way
    assert f"assets/{old[0]}".encode() in body  # the stylesheet as served, which has the saved bytes
    assert b"rgb(1, 2, 3)" in server.request(f"{BASE}assets/{old[0]}")[2]
    server.wait_for_output(r"first look at 1 page in")
    # then a build has both (or two: the stylesheet's is stopped by the save if it has not yet written)
    built = root / "site" / "explainers" / "first-look" / "index.html"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (b"Saved while restyling" in built.read_bytes()
                                               and not (root / "site" / "assets" / old[0]).exists()):
        time.sleep(0.05)
    assert b"Saved while restyling" in built.read_bytes() and not (root / "site" / "assets" / old[0]).exists()


def test_a_saved_layout_shows_at_once_on_the_page_a_browser_has_open(served, tmp_path):
    """A layout's build renders every page. The page a browser has open (as livereload.js says
    in its `info`) gets a first look in the saved layout at once."""
    root = make_site(tmp_path / "relaying")
    card = (BUILTIN / "layouts" / "card.html").read_text(encoding="utf-8")  # rendered in seconds: a slow page
    slow = f"{{% for i in range({slow_loops()}) %}}{LOOP}{{% endfor %}}{{% endblock %}}"
    (root / "layouts").mkdir()
    (root / "layouts" / "card.html").write_text(card[:card.rindex("{% endblock %}")] + slow, encoding="utf-8")
    server = served(root)
    page = f"{BASE}explainers/first-look/"
    socket_ = listening_socket(server.port)
    socket_.send({"command": "info", "plugins": {}, "url": f"http://127.0.0.1:{server.port}{page}"})
    time.sleep(0.2)  # the server has read it
    builds = server.builds()
    base = (BUILTIN / "layouts" / "base.html").read_text(encoding="utf-8")
    save(root / "layouts" / "base.html", base.replace("</main>", '<p class="relaid">Relaid.</p></main>', 1))
    assert socket_.receive(20)["path"] == "*"
    body = server.wait_for_page(page, lambda s, b: b'class="relaid"' in b, timeout=5)
    assert server.builds() == builds and b"A first look" in body, server.output  # the layout's build is under way
    server.wait_for_output(r"first look at 1 page in")
    server.wait_for_output(rf"(?ms)(^built .*){{{builds + 1}}}", timeout=60)
    assert b'class="relaid"' in server.request(f"{BASE}cards/shells/")[2]  # the build's, every page
    socket_.close()


def test_a_start_with_nothing_to_build_warms_up_for_first_looks(served, tmp_path):
    """On a site built before, serve's first build does nothing and plans nothing; once the
    editor pauses it plans every page in memory, and the next save gets its first look."""
    root = make_site(tmp_path / "built")
    subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root)], check=True, capture_output=True)
    server = served(root)
    assert "(0 rendered," in server.output
    server.wait_for_output(r"warmed up in [\d.]+ s")
    save(root / EXPLAINER, explainer_text("After the warm-up"))
    server.wait_for_output(r"first look at 1 page in")
    server.wait_for_page(f"{BASE}explainers/first-look/", lambda s, b: b"After the warm-up" in b)
    assert "error" not in server.output


def search_words(out: Path) -> bytes:
    """The text of Pagefind's fragments (gzipped JSON, one per page) under OUT."""
    return b"".join(gzip.decompress(path.read_bytes()) for path in sorted((out / "pagefind").rglob("*.pf_fragment")))


def test_the_search_index_catches_up_once_the_editor_pauses(served):
    server = served()
    save(server.root / EXPLAINER, explainer_text("Quokkas of Wonsan"))
    server.wait_for_page(f"{BASE}explainers/first-look/", lambda s, b: b"Quokkas of Wonsan" in b)
    server.wait_for_output(r"search index updated in")
    assert b"Quokkas of Wonsan" in search_words(server.root / "site")
    assert "steps:" not in server.output  # only with --timings


def test_timings_follow_each_build_and_the_search_catching_up(served):
    """`serve --timings`: each build's summary, and the search index's catching up, name their steps."""
    server = served(None, "--timings")
    save(server.root / EXPLAINER, explainer_text("Quokkas of Wonsan"))
    server.wait_for_output(r"search index updated in .*\nsteps: ")
    lines = server.output.splitlines()
    builds = [n for n, line in enumerate(lines) if line.startswith("built ")]
    assert len(builds) == 2, server.output
    for n in builds:  # as the site is shown: its record is written at a pause
        steps = re.findall(r"(\w+) \d+\.\d\d s", lines[n + 1].removeprefix("steps: "))
        assert lines[n + 1].startswith("steps: ") and steps[:2] == ["scan", "read"] and steps[-1] == "commit", lines
    caught_up = lines[lines.index(next(line for line in lines if line.startswith("search index updated"))) + 1]
    assert re.findall(r"(\w+) \d+\.\d\d s", caught_up)[-3:] == ["search", "commit", "record"], caught_up


def test_a_save_stops_the_search_index_catching_up(served, tmp_path):
    """With a Pagefind that takes 30 s, a save is still shown at once: it stops the catch-up."""
    slow = tmp_path / "slow-pagefind"
    slow.write_text(f"#!/bin/sh\nsleep 30\nexec {search.binary()} \"$@\"\n")
    slow.chmod(0o755)
    root = make_site(tmp_path / "site")
    subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(root)], check=True, capture_output=True)
    os.environ["PAGEFIND_BINARY_PATH"] = str(slow)  # for the server only: the first build made the index
    try:
        server = served(root)
    finally:
        del os.environ["PAGEFIND_BINARY_PATH"]
    save(root / EXPLAINER, explainer_text("First save"))
    server.wait_for_page(f"{BASE}explainers/first-look/", lambda s, b: b"First save" in b)
    time.sleep(1.5)  # serve's pause: the catch-up is under way, in the slow Pagefind
    started = time.monotonic()
    save(root / EXPLAINER, explainer_text("Second save"))
    server.wait_for_page(f"{BASE}explainers/first-look/", lambda s, b: b"Second save" in b, timeout=25)
    assert time.monotonic() - started < 10, server.output
    assert "search index updated" not in server.output and "error" not in server.output
    # its scratch folder is gone, and the save's build clears its own once the page is shown
    until = time.monotonic() + 10
    while [p for p in root.iterdir() if p.name.startswith(".site.")] and time.monotonic() < until:
        time.sleep(0.05)
    assert not [p.name for p in root.iterdir() if p.name.startswith(".site.")]


# ----------------------------------------------------------------------------- errors


def test_a_broken_save_shows_every_error_and_a_fixed_save_brings_the_site_back(served):
    server = served()
    page = f"{BASE}explainers/first-look/"
    save(server.root / CARD, BROKEN_CARD)
    body = server.wait_for_page(page, lambda s, b: b"dossier-errors" in b)
    text = body.decode()
    assert BROKEN_MARK in text and "unknown actor &#x27;north-koreaa&#x27;" in text
    assert "actors: [north-korea, north-koreaa]" in text  # the offending source line
    assert "A first look" in text  # the last good page underneath
    server.wait_for_output(re.escape(BROKEN_MARK))  # and in the terminal, as `build` reports it (read from a pipe)
    status, _, other = server.request(f"{BASE}actors/north-korea/")
    assert status == 200 and BROKEN_MARK.encode() in other  # on whatever page is open
    status, _, missing = server.request(f"{BASE}nowhere/")
    assert status == 404 and BROKEN_MARK.encode() in missing
    save(server.root / CARD, SITE[CARD].replace("Shells sent to Russia", "Shells, fixed"))
    server.wait_for_page(f"{BASE}cards/shells/", lambda s, b: b"Shells, fixed" in b and b"dossier-errors" not in b)
    assert b"dossier-errors" not in server.request(page)[2]


def test_a_broken_layout_shows_its_line(served, tmp_path):
    root = make_site(tmp_path / "layout")
    server = served(root)
    layout = root / "layouts" / "404.html"
    layout.parent.mkdir()
    layout.write_text('{% extends "base.html" %}\n{% block main %}\n<p>{{ oops( }}</p>\n{% endblock %}\n')
    body = server.wait_for_page(BASE, lambda s, b: b"dossier-errors" in b).decode()
    assert "layouts/404.html:3:" in body and "{{ oops( }}" in body


def test_a_first_build_with_errors_still_serves_and_recovers(served, tmp_path):
    root = make_site(tmp_path / "broken-first")
    (root / CARD).write_text(BROKEN_CARD, encoding="utf-8")
    server = served(root)
    status, _, body = server.request(BASE)
    assert status == 404 and BROKEN_MARK.encode() in body and b'data-dossier="livereload"' in body
    save(root / CARD, SITE[CARD])
    server.wait_for_page(BASE, lambda s, b: s == 200 and b"A first look" in b)


# ---------------------------------------------------------------------------- stopping


@pytest.mark.parametrize("signum, during_build", [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_ctrl_c_exits_0_and_leaves_no_temporary_folders(served, signum, during_build):
    server = served()
    if during_build:
        save(server.root / EXPLAINER, explainer_text("Interrupted"))
        time.sleep(0.1)
    assert server.stop(signum) == 0, server.output
    assert "Traceback" not in server.output
    leftovers = [p.name for p in server.root.iterdir() if p.name.startswith(".site.")]
    assert leftovers == [] and (server.root / "site" / "index.html").is_file()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_serve_writes_its_build_cache_at_a_pause_or_as_it_stops(served):
    """A save's build leaves the build cache's record to the editor's pause (seconds of a big
    site's build); stopped before that pause, serve writes it as it stops: the next `build`
    finds every page as the record says (none rendered)."""
    server = served()
    page = f"{BASE}explainers/first-look/"
    record = lambda: [(p, p.stat().st_mtime_ns) for p in server.root.glob(".cache/dossier/*/core.pickle")]  # noqa: E731
    written = record()
    save(server.root / EXPLAINER, explainer_text("Saved, then a pause"))
    server.wait_for_page(page, lambda s, b: b"Saved, then a pause" in b)
    deadline = time.monotonic() + 20
    while record() == written and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record() != written, server.output
    save(server.root / EXPLAINER, explainer_text("Saved, then stopped"))
    server.wait_for_page(page, lambda s, b: b"Saved, then stopped" in b)
    deadline = time.monotonic() + 20
    while server.builds() < 3 and time.monotonic() < deadline:  # its build, not only its first look
        time.sleep(0.02)
    assert server.stop(signal.SIGINT) == 0, server.output
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(server.root)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and re.search(r"\(0 rendered", done.stdout), done.stdout + done.stderr


def test_serve_goes_on_when_its_build_cache_cannot_be_written(tmp_path, monkeypatch):
    """Writing the build cache at a pause fails (a full disk, or a bug): serve says so, and goes on."""
    import io

    from dossier import cache, cli, pipeline, serve
    from dossier.serve_http import Preview

    out = io.StringIO()
    rebuilder = serve.Rebuilder(pipeline.Options(root=tmp_path, out=tmp_path / "site"), Preview(out=tmp_path),
                                cli.Reporter(out, out), debounce=0.01)
    for failure, said in ((OSError(28, "No space left on device"), "saved (No space left on device); the next"),
                          (ZeroDivisionError(), "saved: internal error\nTraceback")):

        def write(root, out_, stop=None, failure=failure):
            raise failure

        monkeypatch.setattr(cache, "write_remembered", write)
        rebuilder._write_record()  # does not raise
        assert f"warning: the build cache could not be {said}" in out.getvalue(), out.getvalue()
    rebuilder.close()


def test_a_busy_port_is_a_usage_error(shared):
    process = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "--root", str(shared.root),
                              "--port", str(shared.port)], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2 and f"cannot listen on 127.0.0.1:{shared.port}" in process.stderr


# ---------------------------------------------------------------------- the worker processes

POOL_UNDER_SERVE = """
import asyncio, signal, sys
from dossier import render_pool
render_pool.MIN_COST = 0  # split even this small job among forked workers, as a big site's build does
seen = []

async def main():
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # what serve does
        loop.add_signal_handler(signum, lambda signum=signum: seen.append(signum))
    for _ in range(20):  # builds run in a thread, as serve runs them
        doubled = await loop.run_in_executor(None, render_pool.run, lambda chunk: [x * 2 for x in chunk],
                                             list(range(2000)))
        assert doubled == [x * 2 for x in range(2000)]
    await asyncio.sleep(0.5)

asyncio.run(main())
print("signals seen:", seen)
"""


def test_workers_forked_by_a_build_in_serve_end_and_do_not_signal_serve():
    """On a big site a build splits its work among forked workers, which the pool ends with
    SIGTERM. Forked from serve, they inherited asyncio's handlers, which only tell serve's loop:
    the build hung waiting for them, and serve stopped as if it had been told to."""
    done = subprocess.run([sys.executable, "-c", POOL_UNDER_SERVE], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "signals seen: []"


COLLECTOR_UNDER_SERVE = """
import dataclasses, gc, sys, weakref
from pathlib import Path
from dossier import pipeline, serve

root = Path(sys.argv[1])
options = pipeline.Options(root=root, out=root / "site", record_later=True)  # as serve.Rebuilder builds
collector = serve.Collector()
explainer = root / "content" / "explainers" / "putin-visits-pyongyang.md"

def build(n):
    explainer.write_text(explainer.read_text().replace("Putin", "Vladimir Putin", 1))  # a save
    assert collector.around(serve.attempt, dataclasses.replace(options, replan=n % 2 == 1)).good

build(0)
collector.collect_all()  # what importing left behind
for n in range(1, 4):
    build(n)
walked = sum(1 for o in gc.get_objects() if str(getattr(type(o), "__module__", "")).startswith("dossier."))
print("dossier objects the collector walks:", walked)
gc.disable()  # one more build, its garbage looked at: the link table is freed with the build, not left in a cycle
explainer.write_text(explainer.read_text().replace("Putin", "Vladimir Putin", 1))
assert serve.attempt(options).good
gc.set_debug(gc.DEBUG_SAVEALL)
gc.collect(1)
gc.set_debug(0)
print("link table entries left for the collector:", sum(type(o).__name__ == "Target" for o in gc.garbage))
gc.garbage.clear()
gc.collect()  # what it kept: freed now
collector.around(lambda: None)
print("due after the builds:", collector.due())
gc.unfreeze()
print("garbage the builds left:", gc.collect())
gc.freeze()

class Node:
    pass

def keep_a_big_cycle():  # as a build keeps a layout environment, which the next replaces
    kept.extend(Node() for _ in range(gc.get_freeze_count() // 3))
    for node in kept:
        node.cycle = kept

kept = []
collector.around(keep_a_big_cycle)
first = weakref.ref(kept[0])
kept = None  # replaced: a cycle among frozen objects, out of the young collections' reach
print("due once a third more is frozen:", collector.due())
collector.collect_all()
print("collected by the full collection:", first() is None, collector.due())
"""


def test_serve_keeps_the_collector_off_what_builds_leave_and_leaks_no_cycle(tmp_path):
    """serve.Collector: after each build in serve, nothing the build keeps is walked by Python's
    cyclic collector (at 5,000 explainers a collection walking it held everything up 2-2.5 s),
    and the garbage cycles a build makes are collected then, not kept frozen; the link table
    (an entry per item) is not among them (render_bodies.Renderers). A cycle frozen and
    dropped later goes in the full collection serve makes when the editor pauses."""
    root = tmp_path / "site-root"
    shutil.copytree(REPO / "content", root / "content")
    done = subprocess.run([sys.executable, "-c", COLLECTOR_UNDER_SERVE, str(root)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "dossier objects the collector walks: 0",
        "link table entries left for the collector: 0",
        "due after the builds: False",
        "garbage the builds left: 0",
        "due once a third more is frozen: True",
        "collected by the full collection: True False",
    ], done.stdout


@pytest.mark.parametrize("restyled", [False, True])
def test_a_save_during_a_build_gets_its_first_look_beside_it(tmp_path, monkeypatch, restyled):
    """serve.Rebuilder with a build held open: a save made meanwhile gets a first look at once,
    made with every change the site does not have yet, and shown until a build has them; or
    until a build replaces the assets (a stylesheet) the look's page names: it would name
    a file the site no longer has."""
    import asyncio
    import io

    from dossier import cli, pipeline, serve
    from dossier.serve_http import Preview

    releases, builds, looks = [threading.Event() for _ in range(3)], [], []

    def held_build(options):
        builds.append(options)
        releases[len(builds) - 1].wait(20)
        changed = ["explainers/a/index.html"] + (["assets/style.1.css", "assets/style.2.css"] if restyled else [])
        return serve.Outcome(result=pipeline.Result(pages=1, changed=changed))

    def look(options, changed, open_pages):
        looks.append(set(changed))
        return {"explainers/a/index.html": f"look {len(looks)}".encode()}

    monkeypatch.setattr(serve, "attempt", held_build)
    monkeypatch.setattr(serve, "first_look", look)
    reloads = []
    monkeypatch.setattr(serve, "reload_browsers", reloads.append)
    preview = Preview(out=tmp_path)
    out = io.StringIO()

    async def main():
        options = pipeline.Options(root=tmp_path, out=tmp_path / "site")
        rebuilder = serve.Rebuilder(options, preview, cli.Reporter(out, out), debounce=0.01)
        rebuilds = asyncio.create_task(rebuilder.run())
        until = functools.partial(_until, said=lambda: (builds, looks, out.getvalue()))
        rebuilder.changed("a.md")
        await until(lambda: builds)  # the look at a.md came first, then the build, held open
        assert looks == [{"a.md"}]
        rebuilder.changed("b.md")
        await until(lambda: len(looks) == 2)  # at once, not after the build
        assert looks[1] == {"a.md", "b.md"} and len(builds) == 1
        await until(lambda: preview.drafts == {"explainers/a/index.html": b"look 2"})
        assert reloads == [["*"], ["*"]]  # the browsers were told of each look
        releases[0].set()  # the build of a.md ends; b.md's draft stays until a build has b.md
        await until(lambda: len(builds) == 2)
        assert preview.drafts == ({} if restyled else {"explainers/a/index.html": b"look 2"})
        assert len(looks) == 2  # the look made meanwhile saw b.md: none again before its build
        releases[1].set()
        await until(lambda: not rebuilder.busy)
        await until(lambda: preview.drafts == {})
        rebuilds.cancel()
        rebuilder.close()

    _run_apart(main)


def test_a_save_that_stops_the_search_catching_up_gets_its_first_look(tmp_path, monkeypatch):
    """serve.Rebuilder with a search catch-up that ends the moment a save stops it: the save's
    first look is made with the save, every time. (The look was once made with the changes
    the build loop had just taken for its build: none, and the save waited for its build.)"""
    import asyncio
    import io

    from dossier import cli, pipeline, serve
    from dossier.serve_http import Preview

    builds, looks = [], []

    def build(options):
        builds.append("catch-up" if options.search else "save")
        if options.search:
            options.stop.wait(20)
            return serve.Outcome(stopped=True)
        return serve.Outcome(result=pipeline.Result(pages=1, changed=["explainers/a/index.html"], search_behind=True))

    def look(options, changed, open_pages):
        looks.append(set(changed))
        return {"explainers/a/index.html": b"look"} if changed else {}

    monkeypatch.setattr(serve, "attempt", build)
    monkeypatch.setattr(serve, "first_look", look)
    monkeypatch.setattr(serve, "reload_browsers", lambda paths: None)
    monkeypatch.setattr(serve, "SEARCH_PAUSE", 0.02)
    out = io.StringIO()

    async def main():
        options = pipeline.Options(root=tmp_path, out=tmp_path / "site")
        rebuilder = serve.Rebuilder(options, Preview(out=tmp_path), cli.Reporter(out, out), debounce=0.01)
        rebuilds = asyncio.create_task(rebuilder.run())
        until = functools.partial(_until, said=lambda: (builds, looks, out.getvalue()))
        for n in range(20):
            await until(lambda: builds[-1:] == ["catch-up"] and rebuilder.stoppable is not None
                        or not n and not builds)
            rebuilder.changed(f"{n}.md")
            await until(lambda: builds.count("save") == n + 1)
            assert looks[-1] == {f"{n}.md"}, looks
        rebuilds.cancel()
        rebuilder.close()

    _run_apart(main)


def test_serve_collects_in_full_only_when_the_editor_pauses(tmp_path, monkeypatch):
    """serve.Rebuilder: a full collection that is due waits for a pause, and runs in the build
    thread, never beside a build."""
    import asyncio
    import io

    from dossier import cli, pipeline, serve
    from dossier.serve_http import Preview

    events = []

    def build(options):
        events.append("build")
        return serve.Outcome(result=pipeline.Result(pages=1, changed=["explainers/a/index.html"]))

    monkeypatch.setattr(serve, "attempt", build)
    monkeypatch.setattr(serve, "first_look", lambda options, changed, open_pages: {})
    monkeypatch.setattr(serve, "reload_browsers", lambda paths: None)
    monkeypatch.setattr(serve, "remembered_plan", lambda root, out: object())  # warm: no warm-up
    monkeypatch.setattr(serve, "SEARCH_PAUSE", 0.3)
    monkeypatch.setattr(serve.Collector, "due", lambda self: not events[-1:] or events[-1] == "build")
    monkeypatch.setattr(serve.Collector, "collect_all",
                        lambda self: events.append(f"collect in {threading.current_thread().name}"))

    async def main():
        options = pipeline.Options(root=tmp_path, out=tmp_path / "site")
        rebuilder = serve.Rebuilder(options, Preview(out=tmp_path), cli.Reporter(*[io.StringIO()] * 2), debounce=0.01)
        rebuilds = asyncio.create_task(rebuilder.run())
        for n in range(3):  # saves 0.1 s apart: no pause
            rebuilder.changed(f"{n}.md")
            await asyncio.sleep(0.1)
        assert events and events == ["build"] * len(events)
        await _until(lambda: events[-1] != "build", said=lambda: events)
        assert events[:-1] == ["build"] * 3 and events[-1].startswith("collect in dossier-build"), events
        await asyncio.sleep(0.5)  # nothing more is due
        assert len(events) == 4, events
        rebuilds.cancel()
        rebuilder.close()

    _run_apart(main)


def test_a_save_stops_the_build_cache_being_written_at_a_pause(tmp_path, monkeypatch):
    """serve.Rebuilder: the build cache is written once the editor pauses (0.7 s at 5,000
    explainers, the interpreter mostly held); a save meanwhile stops it, and it is written at
    the next pause."""
    import asyncio
    import io

    from dossier import cache, cli, pipeline, serve
    from dossier.serve_http import Preview

    events, written = [], []

    def build(options):
        events.append("build")
        return serve.Outcome(result=pipeline.Result(pages=1, changed=["explainers/a/index.html"]))

    def write(root, out, stop=None):
        events.append("write")
        if events.count("write") == 1 and stop is not None and stop.wait(10):  # the first one waits for a save
            events.append("stopped")
            return False
        written.append(True)
        return True

    monkeypatch.setattr(serve, "attempt", build)
    monkeypatch.setattr(serve, "first_look", lambda options, changed, open_pages: {})
    monkeypatch.setattr(serve, "reload_browsers", lambda paths: None)
    monkeypatch.setattr(serve, "remembered_plan", lambda root, out: object())  # warm: no warm-up
    monkeypatch.setattr(serve, "SEARCH_PAUSE", 0.2)
    monkeypatch.setattr(cache, "unwritten", lambda root, out: events[-1:] != ["write"] or not written)
    monkeypatch.setattr(cache, "write_remembered", write)

    async def main():
        options = pipeline.Options(root=tmp_path, out=tmp_path / "site")
        rebuilder = serve.Rebuilder(options, Preview(out=tmp_path), cli.Reporter(*[io.StringIO()] * 2), debounce=0.01)
        rebuilds = asyncio.create_task(rebuilder.run())
        await _until(lambda: events == ["write"], said=lambda: events)  # the pause: it is being written
        rebuilder.changed("a.md")
        await _until(lambda: len(events) > 2, said=lambda: events)
        assert events[:3] == ["write", "stopped", "build"], events  # the save's build comes at once
        await _until(lambda: written, said=lambda: events)  # and the next pause writes it
        assert events == ["write", "stopped", "build", "write"], events
        rebuilds.cancel()
        rebuilder.close()

    _run_apart(main)


def test_a_first_look_is_made_with_the_interpreter_changing_threads_often(tmp_path, monkeypatch):
    """serve.Rebuilder: while a first look is made (beside a build, at 5,000 explainers), the
    interpreter changes threads every 0.5 ms, not every 5 ms; afterwards as it was."""
    import asyncio
    import io

    from dossier import cli, pipeline, serve
    from dossier.serve_http import Preview

    during = []

    def look(options, changed, open_pages):
        during.append(sys.getswitchinterval())
        return {}

    monkeypatch.setattr(serve, "first_look", look)
    before = sys.getswitchinterval()

    async def main():
        options = pipeline.Options(root=tmp_path, out=tmp_path / "site")
        rebuilder = serve.Rebuilder(options, Preview(out=tmp_path), cli.Reporter(*[io.StringIO()] * 2), debounce=0.01)
        await rebuilder.first_look({"a.md"})
        rebuilder.close()

    _run_apart(main)
    assert during == [serve.LOOK_SWITCH] and serve.LOOK_SWITCH < before == sys.getswitchinterval()


async def _until(condition, timeout=10.0, said=lambda: None):
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, said()
        await asyncio.sleep(0.01)


def _run_apart(main) -> None:
    """asyncio.run(main()) in a thread of its own: after the browser tests, Playwright's loop
    is running in this one."""
    import asyncio

    failed: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # handed to the test's own thread
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the rebuilder test hung"
    if failed:
        raise failed[0]
