"""Save-to-browser latency of `python build.py serve`, measured in a real browser.

    .venv/bin/python bench/serve_latency.py [--saves 20] [--content DIR | --root DIR] [--gap 1.0]

Copies the example site's content/ (or --content) to a temporary root, or uses a site
root in place (--root: a big site built beforehand, whose build cache serve then starts
from; the explainer and stylesheet are put back afterwards), starts `build.py serve` on it, opens an explainer in Debian's chromium through Playwright, then
saves the explainer's title SAVES times, GAP seconds apart, each as editors do (a temporary
file renamed over). A save's latency runs from just before the rename to the moment the
page's DOM holds the new title (Date.now() when serve's client has swapped the new page in,
or at DOMContentLoaded if it reloaded; the same clock). Then the same for stylesheet saves,
which are swapped in too (or reloaded, when their build also has a page save that a big site
was still building): up to the first animation frame whose computed style shows the change.
Then layout saves (`--layout-saves`, a site's own base.html with a marker, removed afterwards),
each after the last one's build: up to the moment the open page has the marker, and the build.

Prints each latency, then median, p90 and the median build time that serve reported.
Not a test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

# Every document load records (title, time) in sessionStorage, which survives reloads; a
# livereload.js plugin notes when each reload message arrives (and lets livereload act on it).
RECORD_LOADS = """
window.LiveReloadPluginBench = class {
  static identifier = 'bench';
  static version = '1.0';
  reload() { sessionStorage.setItem('message', Date.now()); return false; }
};
const recordTitle = () => {
  const h1 = document.querySelector('h1');
  const seen = JSON.parse(sessionStorage.getItem('seen') || '{}');
  seen[h1 ? h1.textContent.trim() : ''] = Date.now();
  const layout = document.querySelector('[data-bench-layout]');  // a layout save's marker
  if (layout) seen['layout ' + layout.dataset.benchLayout] ??= Date.now();
  sessionStorage.setItem('seen', JSON.stringify(seen));
};
document.addEventListener('DOMContentLoaded', recordTitle);  // a reloaded page
document.addEventListener('dossier:swapped', recordTitle);  // a page swapped in without a reload
"""
# Once watching, every animation frame notes the first time each h1 colour is seen, in
# sessionStorage: a build that also has a page save reloads the page instead of swapping the
# stylesheet (on a big site the last page save's build may still run), and the watch goes on.
WATCH_COLOUR = """
const watchColour = () => {
  if (!sessionStorage.getItem('watch')) return;
  const tick = () => {
    const h1 = document.querySelector('h1');
    const colour = h1 ? getComputedStyle(h1).color : '';
    const colours = JSON.parse(sessionStorage.getItem('colours') || '{}');
    if (!(colour in colours)) { colours[colour] = Date.now(); sessionStorage.setItem('colours', JSON.stringify(colours)); }
    requestAnimationFrame(tick);
  };
  tick();
};
window.__watchColour = watchColour;
document.addEventListener('DOMContentLoaded', watchColour);
"""


def save(path: Path, text: str) -> float:
    """Write a temporary file and rename it over path; the time (ms since the epoch) of the rename."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    started = time.time() * 1000
    os.replace(temp, path)
    return started


def wait(page, script: str, key: str, timeout: float = 30, server: tuple | None = None) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server[0].poll() is not None:
            raise SystemExit("serve exited:\n" + "".join(server[1]))
        try:
            found = page.evaluate(script, key)
        except Exception:  # the page is navigating: ask again
            found = None
        if found:
            return float(found)
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {key!r}")


def start_serve(root: Path, timeout: float) -> tuple[subprocess.Popen, str, list[str]]:
    process = subprocess.Popen([sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"serving (http://\S+)", "".join(lines))
        if found:
            return process, found.group(1), lines
        if process.poll() is not None:
            raise SystemExit("serve exited:\n" + "".join(lines))
        time.sleep(0.05)
    raise SystemExit("serve did not start")


def builds_done(lines: list[str]) -> int:
    """How many builds serve has reported, good or not."""
    return len(re.findall(r"^(built |error)", "".join(lines), re.M))


def serve_is_building(lines: list[str]) -> bool:
    """Whether serve's last word is a first look, whose build has not ended yet."""
    said = [line for line in lines if re.match(r"(built |error|first look)", line)]
    return bool(said) and said[-1].startswith("first look")


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return (f"{name}: median {statistics.median(values):.0f} ms, p90 {p90:.0f} ms, "
            f"min {ordered[0]:.0f} ms, max {ordered[-1]:.0f} ms ({len(values)} saves)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between saves")
    parser.add_argument("--content", type=Path, default=REPO / "content")
    parser.add_argument("--style-saves", type=int, help="stylesheet saves (default: half the saves, at least 5)")
    parser.add_argument("--root", type=Path, help="a site root to serve in place (with assets/style.css)")
    parser.add_argument("--explainer", default="putin-visits-pyongyang")
    parser.add_argument("--layout-saves", type=int, default=3, help="layout saves, each after the last one's build")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="serve-latency-") as temp:
        root = args.root or Path(temp)
        if not args.root:
            shutil.copytree(args.content, root / "content")
            (root / "assets").mkdir()
            shutil.copyfile(REPO / "assets" / "style.css", root / "assets" / "style.css")
        style = root / "assets" / "style.css"
        explainer = root / "content" / "explainers" / f"{args.explainer}.md"
        original, original_style = explainer.read_text(encoding="utf-8"), style.read_text(encoding="utf-8")
        layout = root / "layouts" / "base.html"
        had_layout, had_layouts = layout.exists(), layout.parent.exists()
        if had_layout and args.layout_saves:
            raise SystemExit(f"{layout} exists: the layout saves would replace it (--layout-saves 0)")
        title = re.search(r"^title: (.*)$", original, re.M).group(0)
        process, url, lines = start_serve(root, 3600 if args.root else 120)
        limit = 600 if args.root else 30  # seconds a save may take to show
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS,
                                                     env={**os.environ, "TMPDIR": temp})  # its singleton folder
                page = browser.new_page()
                page.add_init_script(RECORD_LOADS + WATCH_COLOUR)
                page.goto(f"{url}explainers/{args.explainer}/")
                time.sleep(1)
                first = re.search(r"\(\d+ rendered, (\d+) unchanged\)", "".join(lines))
                # pages taken from the last CLI build's record (stand-ins): serve warms up at the first pause
                if first and int(first.group(1)) > 0:
                    deadline = time.monotonic() + limit
                    while "warmed up" not in "".join(lines) and time.monotonic() < deadline and process.poll() is None:
                        time.sleep(0.1)
                    print("".join(line for line in lines if line.startswith("warmed up")).strip(), flush=True)
                builds_before = len(re.findall(r"^built .* in ([\d.]+) s", "".join(lines), re.M))

                pages, messages = [], []
                for n in range(1, args.saves + 1):
                    marker = f"Latency probe {n}"
                    started = save(explainer, original.replace(title, f'title: "{marker}"', 1))
                    seen = wait(page, "k => JSON.parse(sessionStorage.getItem('seen') || '{}')[k]", marker, limit, (process, lines))
                    message = float(page.evaluate("() => sessionStorage.getItem('message')") or seen)
                    pages.append(seen - started)
                    messages.append(message - started)
                    print(f"page save {n}: {seen - started:.0f} ms (reload message after {message - started:.0f} ms)",
                          flush=True)
                    time.sleep(args.gap)

                said_for_pages = len(lines)  # what serve said up to the last page save's first look
                page.evaluate("() => { sessionStorage.setItem('watch', '1'); window.__watchColour(); }")
                styles, base = [], style.read_text(encoding="utf-8")
                style_saves = max(5, args.saves // 2) if args.style_saves is None else args.style_saves
                for n in range(1, style_saves + 1):
                    colour = f"rgb({n}, 2, 3)"
                    started = save(style, base + f"\nh1 {{ color: {colour} !important; }}\n")
                    seen = wait(page, "c => JSON.parse(sessionStorage.getItem('colours') || '{}')[c]", colour, limit,
                                (process, lines))
                    styles.append(seen - started)
                    print(f"stylesheet save {n}: {seen - started:.0f} ms", flush=True)
                    time.sleep(args.gap)

                layouts, layout_builds = [], []
                built = (REPO / "layouts" / "base.html").read_text(encoding="utf-8")
                for n in range(1, args.layout_saves + 1):
                    while serve_is_building(lines):
                        time.sleep(0.1)
                    done = builds_done(lines)
                    layout.parent.mkdir(exist_ok=True)
                    started = save(layout, built.replace("</main>", f'<p data-bench-layout="{n}"></p></main>', 1))
                    seen = wait(page, "k => JSON.parse(sessionStorage.getItem('seen') || '{}')[k]", f"layout {n}",
                                limit, (process, lines))
                    deadline = time.monotonic() + limit
                    while builds_done(lines) == done and time.monotonic() < deadline:
                        time.sleep(0.05)
                    layouts.append(seen - started)
                    layout_builds.append(time.time() * 1000 - started)
                    print(f"layout save {n}: {seen - started:.0f} ms (its build ended after "
                          f"{layout_builds[-1] / 1000:.1f} s)", flush=True)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=120)
            explainer.write_text(original, encoding="utf-8")
            style.write_text(original_style, encoding="utf-8")
            if not had_layout:
                layout.unlink(missing_ok=True)
            if not had_layouts and layout.parent.is_dir() and not any(layout.parent.iterdir()):
                layout.parent.rmdir()
        builds = [float(s) * 1000 for s in re.findall(r"^built .* in ([\d.]+) s", "".join(lines), re.M)]
        page_builds = builds[builds_before:builds_before + len(pages)]
        print()
        print(summary("save to page (page swapped in or reloaded)", pages))
        print(summary("  of which save to reload message", messages))
        looks = len(re.findall(r"^first look at \d+ pages? in", "".join(lines[:said_for_pages]), re.M))
        print(f"  first looks (the saved page, made before the build): {looks} of {len(pages)} saves")
        if len(page_builds) == len(messages):
            print(summary("  the build after each save (the whole site in place)", page_builds))
        if styles:
            print(summary("save to page (stylesheet, swapped in or reloaded)", styles))
        if layouts:
            print(summary("save to page (layout, the open page)", layouts))
            print(summary("  the layout's build (every page)", layout_builds))
        print(f"median build time reported by serve: {statistics.median(builds[builds_before:]):.0f} ms "
              f"(the rest is the watcher, the {50} ms quiet period, the reload and the page load)")
        print(f"machine load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
