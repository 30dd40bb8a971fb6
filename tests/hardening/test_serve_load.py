"""`python build.py serve` under load and under attack, on loopback only, bounded in count and time.

- 200 concurrent clients fetch pages, stylesheets and missing pages while saves (good, broken,
  fixed; content and stylesheet) keep rebuilds running: no 5xx, no connection error, every page
  whole and of one saved version, every stylesheet and script a page names served with it.
- Oversized requests (a 100 KB request line, 1 MB of headers, a 100 MB body, a chunked body that
  never ends) are refused at once, the server's memory stays level and others are served meanwhile.
- Slow clients (300 sending a request a byte a second, 100 saying nothing, bodies that trickle,
  one that never reads what it asked for) do not slow anyone else down, and all of them are
  dropped within a bounded time (dossier/serve_http.py: server_limits and SEND_TIMEOUT), while
  the page's livereload websocket stays connected.

What the load test holds the server to about assets: the build swaps the whole output folder in
at once, so whatever the site being served names should be there. Previous builds' assets are not
kept: a page read just before a swap may name a stylesheet (fingerprinted: its name changes with
its content) that is gone when it is asked for right after, and gets 404. That happens, hundreds
of times a run here; the browser's reload after the build mends such a page. So a 404 for an asset
passes only if the site no longer names it by then, which every stylesheet saved being different
makes exact. A stylesheet saved while a build runs can break that guarantee in the build itself:
test_a_stylesheet_saved_during_a_build_leaves_a_consistent_site shows how, deterministically.

Traversal, encoding tricks, malformed requests and garbage websocket frames are in test_serve.py,
whose server helper this file reuses.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import re
import resource
import select
import shutil
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dossier import pipeline
from dossier.assets import published_name

from ..conftest import EXAMPLE, MINIMAL, REPO, write_site
from ..test_serve import BASE, Served, Socket, save

HOME = BASE
EXPLAINER_PAGE = f"{BASE}explainers/putin-visits-pyongyang/"
ACTOR_PAGE = f"{BASE}actors/russia/"
EXPLAINER = "content/explainers/putin-visits-pyongyang.md"
ACTOR = "content/actors/russia.md"
STYLE = "assets/style.css"  # the site's own stylesheet, in place of the built-in one
EXPLAINER_TITLE = 'title: "Putin goes to Pyongyang: why the trip matters now"'
ACTOR_ROLE = "role: Sanctioned power at war in Ukraine"
# Saved versions leave a marker on every page that shows the field: the explainer's title is on
# the home page, its own page and its actors' pages; the actor's role on its page and the explainer's.
X_MARK, A_MARK, CSS_MARK = re.compile(rb"XMARK(\d+)"), re.compile(rb"AMARK(\d+)"), re.compile(rb"CSSMARK(\d+)")
ASSET = re.compile(rb'(?:href|src)="(/explainers/assets/[^"]+\.(?:css|js))"')

CLIENTS = 200
LOAD_SECONDS = 20
HELD_LIMIT = 15  # seconds within which the server must drop a request that never completes
MEMORY_BOUND = 50 * 2**20  # bytes the server may grow by while it refuses oversized requests


def rss(pid: int, field: str = "VmRSS") -> int:
    """A /proc/PID/status memory figure, in bytes (VmRSS now, VmHWM the peak so far)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1)) * 1024


def untroubled(server: Served) -> bool:
    """Whether the server is still running and has printed no traceback or lost exception."""
    return server.process.poll() is None and not re.search(r"Traceback|Uncaught|exception", server.output)


def socket_budget(wanted: int) -> int:
    """How many sockets this test may hold: what it wants, within the open-file limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(10, min(wanted, (soft - 200) // 2))  # the server holds one descriptor per socket too


def load_site(root: Path) -> Path:
    """A copy of the example site with version 0 of every marker, and a stylesheet of its own."""
    shutil.copytree(EXAMPLE, root / "content")
    write_explainer(root, 0)
    write_actor(root, 0)
    write_style(root, 0)
    return root


def write_explainer(root: Path, version: int, broken: bool = False) -> None:
    text = (REPO / EXPLAINER).read_text(encoding="utf-8")
    assert EXPLAINER_TITLE in text and "actors:\n" in text, "the example explainer changed: update this test"
    text = text.replace(EXPLAINER_TITLE, EXPLAINER_TITLE[:-1] + f' XMARK{version}"', 1)
    if broken:  # an actor that does not exist: the build stops with an error
        text = text.replace("actors:\n", "actors:\n  - nobody-at-all\n", 1)
    save(root / EXPLAINER, text)


def write_actor(root: Path, version: int) -> None:
    text = (REPO / ACTOR).read_text(encoding="utf-8")
    assert ACTOR_ROLE in text, "the example actor changed: update this test"
    save(root / ACTOR, text.replace(ACTOR_ROLE, f"{ACTOR_ROLE} AMARK{version}", 1))


def write_style(root: Path, version: int) -> None:
    path = root / STYLE
    path.parent.mkdir(exist_ok=True)
    save(path, (REPO / "assets" / "style.css").read_text(encoding="utf-8") + f"\n/* CSSMARK{version} */\n")


class Client:
    """One keep-alive HTTP/1.1 connection to the server, reopened when the server closes it."""

    def __init__(self, port: int, timeout: float = 30, close: bool = False):
        self.port, self.timeout, self.close_each = port, timeout, close
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            self.connection.putheader("Host", f"127.0.0.1:{self.port}")
            if self.close_each:
                self.connection.putheader("Connection", "close")
            self.connection.endheaders()
            response = self.connection.getresponse()
            body = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, body

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class _Parser(HTMLParser):
    """Counts the document's html, head and body elements (html.parser raises on nothing, so count)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag):
        self.tags["/" + tag] = self.tags.get("/" + tag, 0) + 1


def version(mark: re.Pattern, page: bytes) -> int | None:
    found = mark.search(page)
    return int(found.group(1)) if found else None


def page_problem(path: str, status: int, body: bytes) -> str | None:
    """What is wrong with an HTML page as served, or None: it must be one whole document."""
    if not body.rstrip().endswith(b"</html>"):
        return f"{path} {status}: does not end with </html> ({len(body)} bytes, ends {body[-80:]!r})"
    parser = _Parser()
    try:
        parser.feed(body.decode("utf-8"))
        parser.close()
    except (UnicodeDecodeError, AssertionError) as exc:
        return f"{path} {status}: does not parse: {exc}"
    for tag in ("html", "head", "body"):
        if parser.tags.get(tag) != 1 or parser.tags.get("/" + tag) != 1:
            return f"{path} {status}: not one <{tag}> element: {parser.tags.get(tag)} / {parser.tags.get('/' + tag)}"
    if body.count(b"<!doctype html>") + body.count(b"<!DOCTYPE html>") != 1:
        return f"{path} {status}: not one doctype"
    return None


class Load:
    """What the clients saw, and what the saver saved, in one load run."""

    def __init__(self, server: Served):
        self.server = server
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.errors: list[str] = []  # connection-level: resets, timeouts, truncated bodies
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []
        self.checked: dict[bytes, str | None] = {}  # page digest -> problem, each distinct page checked once
        self.marks: dict[str, set[bytes]] = {"X": set(), "A": set()}  # marker versions seen on pages
        self.overlays = 0  # pages served with the error overlay of the broken save
        self.asset_gone = 0  # stylesheets named by a page and gone by the time they were asked for
        self.saved = {"X": {b"0"}, "A": {b"0"}, "CSS": {b"0"}}  # good versions, added before each save
        self.broken: set[bytes] = set()

    def fail(self, message: str) -> None:
        with self.lock:
            if len(self.failures) < 50:
                self.failures.append(message)

    def count(self, status: int, seconds: float) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies.append(seconds)

    def fetch(self, client: Client, path: str) -> tuple[int, bytes] | None:
        started = time.monotonic()
        try:
            status, body = client.get(path)
        except (OSError, http.client.HTTPException) as exc:
            with self.lock:
                self.errors.append(f"{path}: {exc!r}")
            return None
        self.count(status, time.monotonic() - started)
        if status >= 500:
            self.fail(f"{path}: {status}\n{body[:500]!r}")
        return status, body

    def check_page(self, path: str, status: int, body: bytes) -> None:
        digest = hashlib.blake2b(body, digest_size=16).digest()
        if digest in self.checked:
            problem = self.checked[digest]
        else:
            problem = page_problem(path, status, body)
            for key, mark in (("X", X_MARK), ("A", A_MARK)):
                found = set(mark.findall(body))
                if len(found) > 1:
                    problem = problem or f"{path}: two versions of one source on one page: {sorted(found)}"
                with self.lock:
                    self.marks[key] |= found
            expected = {HOME: "X", EXPLAINER_PAGE: "XA", ACTOR_PAGE: "A"}.get(path, "") if status == 200 else ""
            for key in expected:
                if not (X_MARK if key == "X" else A_MARK).search(body):
                    problem = problem or f"{path}: no {key} marker on a page that shows one"
            self.checked[digest] = problem
        if problem:
            self.fail(problem)
        if b'id="dossier-errors"' in body:
            with self.lock:
                self.overlays += 1

    def check_assets(self, client: Client, page: str, body: bytes) -> None:
        """Every stylesheet and script the page names is served (or a newer build has replaced it)."""
        for asset in dict.fromkeys(ASSET.findall(body)):
            answer = self.fetch(client, asset.decode())
            if answer is None:
                continue
            status, data = answer
            if status == 200:
                if asset.endswith(b".css") and not CSS_MARK.search(data):
                    self.fail(f"{asset!r} from {page}: a stylesheet without its marker, {len(data)} bytes")
                continue
            # Gone: fine only if the site has moved on to a newer stylesheet since the page was
            # read (every saved stylesheet differs, so an old name never comes back).
            home = self.fetch(client, HOME)
            if status == 404 and home is not None and home[0] == 200 and asset not in home[1]:
                with self.lock:
                    self.asset_gone += 1
            else:
                self.fail(f"{asset!r} named by {page} answers {status} while the site still names it")

    def client(self, number: int, deadline: float, port: int) -> None:
        rng = random.Random(number)
        paths = [HOME, EXPLAINER_PAGE, ACTOR_PAGE, f"{BASE}actors/north-korea/", f"{BASE}actors/",
                 f"{BASE}explainers/russia-courts-sanctioned-partners/", f"{BASE}search/",
                 f"{BASE}no-such-page/", f"{BASE}assets/no-such.css"]
        client = Client(port, close=number % 4 == 0)  # a quarter open a connection for every request
        try:
            while time.monotonic() < deadline:
                path = rng.choice(paths)
                answer = self.fetch(client, path)
                if answer is None:
                    continue
                status, body = answer
                if path.endswith(".css"):
                    if status != 404:
                        self.fail(f"{path}: {status}, expected 404")
                    continue
                if status not in (200, 404) or (status == 404) != ("no-such" in path):
                    self.fail(f"{path}: {status}")
                self.check_page(path, status, body)
                if status == 200:
                    self.check_assets(client, path, body)
        finally:
            client.close()

    def saver(self, root: Path, stop: threading.Event) -> None:
        """Saves until stopped: the explainer, the actor and the stylesheet in turn, once broken then fixed."""
        rng = random.Random(5)
        version = 0
        while not stop.wait(rng.uniform(0.2, 0.6)):
            version += 1
            mark = str(version).encode()
            if version == 4:  # a broken save, and the fix a moment later
                self.broken.add(mark)
                write_explainer(root, version, broken=True)
                until = time.monotonic() + 30
                while "nobody-at-all" not in self.server.output and time.monotonic() < until:
                    time.sleep(0.05)  # the broken build has run; the pages show its errors for a moment
                if stop.wait(0.5):
                    break
                continue
            kind = "X" if version == 5 else ("X", "A", "CSS")[version % 3]  # (5 fixes the broken explainer)
            self.saved[kind].add(mark)  # before the save: a page may show it the moment it is saved
            {"X": write_explainer, "A": write_actor, "CSS": write_style}[kind](root, version)
        self.last = {kind: max(map(int, versions)) for kind, versions in self.saved.items()}


def test_200_clients_while_rebuilding_get_whole_pages_of_saved_versions(tmp_path):
    root = load_site(tmp_path / "load")
    server = Served(root)
    try:
        load = Load(server)
        deadline = time.monotonic() + LOAD_SECONDS
        stop = threading.Event()
        saver = threading.Thread(target=load.saver, args=(root, stop), daemon=True)
        clients = [threading.Thread(target=load.client, args=(n, deadline, server.port), daemon=True)
                   for n in range(socket_budget(CLIENTS))]
        builds_before = server.builds()
        for thread in clients:
            thread.start()
        saver.start()
        for thread in clients:
            thread.join(timeout=LOAD_SECONDS + 60)
        stop.set()
        saver.join(timeout=30)
        assert not any(t.is_alive() for t in clients + [saver]), "a client or the saver is stuck"
        builds = server.builds() - builds_before
        seconds = [float(n) for n in re.findall(r"^built .* in ([\d.]+) s", server.output, re.M)[builds_before:]]
        summary = (f"{load.requests} requests, statuses {load.statuses}, {builds} good builds taking {seconds} s, "
                   f"{load.overlays} pages with errors, {load.asset_gone} stylesheets replaced between page and fetch, "
                   f"latency median {statistics.median(load.latencies or [0]):.3f} s "
                   f"max {max(load.latencies or [0]):.3f} s")
        print(summary)
        assert load.errors == [], f"{len(load.errors)} connection errors, e.g. {load.errors[:5]}\n{summary}"
        assert load.failures == [], "\n".join(load.failures[:20]) + f"\n{summary}"
        for key in ("X", "A"):
            shown = {int(v) for v in load.marks[key]}
            assert shown <= {int(v) for v in load.saved[key]}, f"{key}: pages showed versions never saved"
            assert not shown & {int(v) for v in load.broken}, f"{key}: a broken save was served"
        assert load.overlays > 0, "clients should have seen the broken save's errors"
        assert builds >= 3, f"the saves should have kept rebuilds running\n{server.output}"
        assert len(load.marks["X"]) >= 2 and len(load.marks["A"]) >= 2, "clients should have seen the site change"
        assert load.requests >= 2000, summary  # load, not a trickle
        # After the load: still serving, and the last good save of each file is what it shows.
        last = load.last
        body = server.wait_for_page(EXPLAINER_PAGE, lambda s, b: s == 200 and (version(X_MARK, b), version(A_MARK, b))
                                    == (last["X"], last["A"]), timeout=30)
        assert b"dossier-errors" not in body
        # the last save may have been the stylesheet, saved after those: its build may still be running
        until, seen = time.monotonic() + 30, None
        while seen != last["CSS"] and time.monotonic() < until:
            style = ASSET.search(server.request(HOME)[2]).group(1).decode()
            status, _, css = server.request(style)
            assert status == 200, style  # a page never names a stylesheet the site does not have
            seen = int(CSS_MARK.search(css).group(1))
            time.sleep(0.05)
        assert seen == last["CSS"], f"the last stylesheet save ({last['CSS']}) never showed; still {seen}"
        assert untroubled(server), server.output
    finally:
        server.kill()


def stylesheet_problems(out: Path) -> list[str]:
    """Pages naming a stylesheet the site does not have; stylesheets whose bytes are not their name's."""
    present = {path.name: path.read_bytes() for path in (out / "assets").glob("style.*.css")}
    found = [f"assets/{name} holds the bytes of {published_name('style.css', data)}"
             for name, data in present.items() if published_name("style.css", data) != name]
    named: dict[str, int] = {}
    for page in out.rglob("*.html"):
        for name in set(re.findall(r"assets/(style\.[0-9a-f]+\.css)", page.read_text(encoding="utf-8"))):
            named[name] = named.get(name, 0) + 1
    found += [f"{count} pages name assets/{name}, which the site does not have"
              for name, count in named.items() if name not in present]
    return found


def test_a_stylesheet_saved_during_a_build_leaves_a_consistent_site(tmp_path, monkeypatch):
    """What the load test above runs into, made certain: under serve, saves land during builds.

    A build reads the stylesheet three times: its scan (which decides what pages to render
    again), the Theme step (the fingerprinted name pages link to) and the copy into the site.
    A save between two of them must not leave pages naming a stylesheet the site does not
    have, nor a stylesheet whose bytes are not those its name was made from.
    """
    root = write_site(tmp_path / "root", MINIMAL)
    style, builtin = root / STYLE, (REPO / "assets" / "style.css").read_text(encoding="utf-8")
    style.parent.mkdir()
    actor = root / "content" / "actors" / "russia.md"

    def css(version: int) -> None:
        save(style, builtin + f"/* CSSMARK{version} */\n")

    css(0)
    options = pipeline.Options(root=root, out=root / "site")
    pipeline.build(options)
    problems = []
    # (the step the save lands before, the stylesheet saved before the build, the one saved in it)
    for step, before, during in (("read_content", None, 1), ("check_outputs", 2, 3)):
        save(actor, actor.read_text(encoding="utf-8") + f"\nEdited before the save of {during}.\n")
        if before is not None:
            css(before)
        real = getattr(pipeline, step)

        def saving(*args, real=real, during=during, **kwargs):
            css(during)  # the editor saves, mid-build
            return real(*args, **kwargs)

        monkeypatch.setattr(pipeline, step, saving)
        pipeline.build(options)
        monkeypatch.undo()
        problems += [f"saved before {step}: {problem}" for problem in stylesheet_problems(root / "site")]
        pipeline.build(options)  # the build the save queues under serve mends it
        assert stylesheet_problems(root / "site") == []
    assert problems == [], "\n".join(problems)


# ------------------------------------------------------------------------- attacks


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """One server for the attacks, which change no source."""
    server = Served(load_site(tmp_path_factory.mktemp("attacked")))
    yield server
    server.kill()


class Prober:
    """While an attack runs: a normal client asking for a page again and again, on a new connection each time."""

    def __init__(self, port: int):
        self.port = port
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                status, body = Client(self.port, timeout=10, close=True).get(EXPLAINER_PAGE)
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append(repr(exc))
                continue
            self.latencies.append(time.monotonic() - started)
            if status != 200 or not body.rstrip().endswith(b"</html>"):
                self.failures.append(f"{status}, {len(body)} bytes")
            self.stop.wait(0.05)

    def __enter__(self) -> "Prober":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        until = time.monotonic() + 10
        while len(self.latencies) + len(self.failures) < 5 and time.monotonic() < until:
            time.sleep(0.05)  # a few answers at least, however quick the attack was
        self.stop.set()
        self.thread.join(timeout=20)

    def check(self, within: float) -> None:
        assert self.failures == [], self.failures[:5]
        assert self.latencies, "the prober got no answer at all"
        assert max(self.latencies) < within, f"a normal request waited {max(self.latencies):.2f} s: {self.latencies}"


def send_oversized(port: int, head: bytes, piece: bytes = b"", total: int = 0) -> tuple[bytes, float, int]:
    """Send head, then piece after piece (up to total bytes) as long as the server takes them.

    The first line of what the server answered (b'' for a close without a word), the seconds
    until it answered or closed, and how many bytes it had been sent by then."""
    sent = 0
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(head)
            while sent < total and not readable(sock) and time.monotonic() - started < 15:
                sock.sendall(piece)
                sent += len(piece)
            answer = sock.recv(4096) if readable(sock, 5) else b"(no answer, still open)"
        except (BrokenPipeError, ConnectionResetError):
            answer = b""
        except socket.timeout:
            answer = b"(timed out: the server neither reads nor refuses)"
    return answer.split(b"\r\n", 1)[0], time.monotonic() - started, len(head) + sent


def readable(sock: socket.socket, timeout: float = 0) -> bool:
    """Whether the server has said something, or closed (within timeout seconds)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(timeout * 1000))


def test_oversized_requests_are_refused_at_once_and_memory_stays_level(attacked):
    port, pid = attacked.port, attacked.process.pid
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    piece, hundred_mb = b"x" * 65536, 100 * 2**20
    attacks = {  # name: (head, piece of body, body size)
        "100 KB request line": (b"GET " + BASE.encode() + b"a" * 100_000 + b" HTTP/1.1\r\n" + host + b"\r\n", b"", 0),
        "1 MB of headers": (b"GET " + BASE.encode() + b" HTTP/1.1\r\n" + host
                            + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"p" * 1000) for n in range(1100)) + b"\r\n", b"", 0),
        "100 MB body": (b"POST /forcereload HTTP/1.1\r\n" + host + b"Content-Length: %d\r\n\r\n" % hundred_mb,
                        piece, hundred_mb),
        "endless chunked body": (b"POST /forcereload HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\n",
                                 b"%x\r\n%s\r\n" % (len(piece), piece), hundred_mb),
    }
    peak_before, rss_before = rss(pid, "VmHWM"), rss(pid)
    wrong = []

    def attack(name: str) -> None:
        first, seconds, sent = send_oversized(port, *attacks[name])
        print(f"{name}: {first!r} after {seconds:.2f} s and {sent / 2**20:.1f} MB sent")
        if not (first == b"" or re.match(rb"HTTP/1\.[01] 4\d\d ", first)):
            wrong.append(f"{name}: answered {first!r}")
        if seconds > 3 or sent > 8 * 2**20:  # (the kernel's buffers take a few MB before anyone reads)
            wrong.append(f"{name}: refused only after {seconds:.2f} s and {sent / 2**20:.0f} MB")

    with Prober(port) as prober, ThreadPoolExecutor(max_workers=len(attacks)) as pool:
        list(pool.map(attack, list(attacks) * 3))  # all four at once, three times over
    peak_after, rss_after = rss(pid, "VmHWM"), rss(pid)
    memory = (f"server memory: VmRSS {rss_before >> 20} -> {rss_after >> 20} MB, "
              f"peak (VmHWM) {peak_before >> 20} -> {peak_after >> 20} MB")
    print(memory)
    assert wrong == [], "\n".join(wrong) + "\n" + memory
    assert peak_after - peak_before < MEMORY_BOUND and rss_after - rss_before < MEMORY_BOUND, memory
    prober.check(within=1.0)
    assert attacked.request(BASE)[0] == 200 and untroubled(attacked), attacked.output


def server_sockets(pid: int) -> int:
    """How many sockets the server process holds open (its listening socket among them)."""
    folder = Path(f"/proc/{pid}/fd")
    count = 0
    for entry in folder.iterdir():
        try:
            count += os.readlink(entry).startswith("socket:")
        except OSError:  # closed while we looked
            pass
    return count


def test_slow_and_idle_clients_do_not_hold_up_others_and_are_dropped(attacked):
    port, pid = attacked.port, attacked.process.pid
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    dribble = b"GET " + BASE.encode() + b" HTTP/1.1\r\n" + host + b"X-Slow: "  # then a byte a second, forever
    trickle = b"POST /forcereload HTTP/1.1\r\n" + host + b"Content-Length: 1000\r\n\r\n"  # then a byte a second
    chunks = b"POST /forcereload HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n\r\n"  # a 1-byte chunk a second
    budget = socket_budget(430)
    counts = {"dribbling": budget * 300 // 430, "idle": budget * 100 // 430, "trickling a body": 10,
              "trickling chunks": 10, "idle after a request": 10}
    # The page's own websocket, which must outlive them all.
    live = Socket(port, f"http://127.0.0.1:{port}")
    live.send({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
    assert live.receive(5)["command"] == "hello"
    baseline = server_sockets(pid)
    held: dict[str, list[socket.socket]] = {kind: [] for kind in counts}
    opened = time.monotonic()
    for kind, count in counts.items():
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            held[kind].append(sock)
            if kind == "trickling a body":
                sock.sendall(trickle)
            elif kind == "trickling chunks":
                sock.sendall(chunks)
            elif kind == "idle after a request":
                sock.sendall(b"GET /_dossier/build HTTP/1.1\r\n" + host + b"\r\n")
                assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
    # And one that asks for a big page and reads none of it, through a tiny window: more than the
    # kernel's buffers take (4 MB at most by default), so the server is left holding the rest.
    big = attacked.root / "site" / "big.html"  # OUT is not watched: no build
    if not big.exists():
        big.write_bytes(b"<!doctype html><html><head></head><body>" + b"<p>big</p>\n" * 1_000_000 + b"</body></html>")
    greedy = socket.socket()
    greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    greedy.connect(("127.0.0.1", port))
    greedy.sendall(b"GET " + BASE.encode() + b"big.html HTTP/1.1\r\n" + host + b"\r\n")
    every = [sock for socks in held.values() for sock in socks]

    closed: dict[socket.socket, float] = {}  # socket -> when the client saw the server close it
    lock = threading.Lock()
    stop = threading.Event()

    def drip() -> None:
        """Each second, one more byte on every dribbling and trickling connection still open."""
        step = 0
        while not stop.wait(1.0):
            more = {"dribbling": dribble[step:step + 1] or b"a", "trickling a body": b"b", "trickling chunks": b"1\r\nc\r\n"}
            for kind, data in more.items():
                for sock in held[kind]:
                    try:
                        if sock not in closed:
                            sock.send(data)
                    except OSError:
                        with lock:
                            closed.setdefault(sock, time.monotonic())
            step += 1

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(2)  # every connection holds a partial request now, and the greedy one a full window
        held_count = server_sockets(pid) - baseline
        latencies = []
        for _ in range(10):
            started = time.monotonic()
            status, body = Client(port, timeout=10, close=True).get(EXPLAINER_PAGE)
            latencies.append(time.monotonic() - started)
            assert status == 200 and body.rstrip().endswith(b"</html>")
            time.sleep(0.1)
        print(f"served while the server held {held_count} more connections: "
              f"max {max(latencies):.3f} s, median {statistics.median(latencies):.3f} s")
        assert held_count >= len(every) * 0.9, f"the server should hold the slow connections now: {held_count}"
        assert max(latencies) < 1.0, latencies

        # The server drops every one within HELD_LIMIT. The client sees each close; the greedy one's
        # close waits behind the data it never read, so that one is seen in the server's sockets.
        while time.monotonic() - opened < HELD_LIMIT:
            poller = select.poll()
            for sock in every:
                if sock not in closed:
                    poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
            by_fd = {sock.fileno(): sock for sock in every}
            for fd, _ in poller.poll(250):
                try:
                    data = by_fd[fd].recv(4096, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # (an answer before the close is read, and then the close)
                    with lock:
                        closed.setdefault(by_fd[fd], time.monotonic())
            if len(closed) == len(every) and server_sockets(pid) <= baseline:
                break
        left = server_sockets(pid) - baseline
        for kind, socks in held.items():
            times = [closed[s] - opened for s in socks if s in closed]
            print(f"{kind}: {len(times)} of {len(socks)} dropped, the last after {max(times, default=0):.1f} s")
            assert len(times) == len(socks), f"{kind}: {len(socks) - len(times)} still held after {HELD_LIMIT} s"
        print(f"after {time.monotonic() - opened:.1f} s the server holds {left} of them")
        assert left <= 0, f"{left} connections still held after {HELD_LIMIT} s (the one that never reads?)"

        # The websocket is still live, and the server still serves at once.
        assert attacked.request("/forcereload", method="POST", body=b"")[0] == 200
        assert live.receive(5)["command"] == "reload"
        started = time.monotonic()
        assert attacked.request(BASE)[0] == 200 and time.monotonic() - started < 1.0
        assert untroubled(attacked), attacked.output
    finally:
        stop.set()
        dripper.join(timeout=5)
        for sock in every + [greedy]:
            sock.close()
        live.close()
