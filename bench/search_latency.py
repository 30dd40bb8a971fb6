"""A reader's first search on built sites, measured in a real browser on a throttled network.

    .venv/bin/python bench/search_latency.py SITE [SITE ...] [--terms grain,Vakrus] [--runs 3]

Serves each built site (an output folder) over HTTP/1.1 on 127.0.0.1, and opens its search
page with a query (`search/?q=TERM`) in Debian's chromium, through Playwright, in a fresh
browser context each run (nothing cached), on the network Lighthouse's mobile audit assumes
(150 ms round trips, 1.6 Mbit/s down). Times from the navigation to the moment the page says
how many results it found, and counts the requests and bytes the search index took.

It answers what the number of search shards costs readers (search.py: SHARD_PAGES,
MAX_SHARDS): build the same corpus with another DOSSIER_SEARCH_SHARD_PAGES into another
`--out`, and give both folders. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from serve_latency import ARGS, CHROMIUM  # the same browser, started the same way

MOBILE = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}
FOUND = "() => /result/.test(document.getElementById('search-status').textContent)"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - http.server's naming
        pass


def served(site: Path) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def first_search(browser, base: str, term: str) -> tuple[float, int, int, str]:
    """(seconds to the results, requests and bytes under pagefind/, what the page said)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", MOBILE)
        finished = []
        page.on("requestfinished", lambda request: finished.append(request))
        started = time.perf_counter()
        page.goto(f"{base}/search/?q={term}")
        page.wait_for_function(FOUND, timeout=120_000)
        seconds = time.perf_counter() - started
        index = [r for r in finished if "/pagefind/" in r.url]
        return seconds, len(index), sum(r.sizes()["responseBodySize"] for r in index), page.text_content("#search-status")
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sites", nargs="+", type=Path, help="built output folders")
    parser.add_argument("--terms", default="grain,Vakrus", help="comma-separated queries (the corpus's words)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for site in args.sites:
            shards = site / "pagefind" / "shards.json"
            count = 1 + len(json.loads(shards.read_text())["merge"]) if shards.exists() else 1
            server = served(site)
            base = f"http://127.0.0.1:{server.server_address[1]}"
            for term in args.terms.split(","):
                runs = [first_search(browser, base, term) for _ in range(args.runs)]
                seconds = [r[0] for r in runs]
                _, requests, size, said = runs[-1]
                print(f"{site} ({count} shards) {term!r}: median {statistics.median(seconds):.2f} s "
                      f"({', '.join(f'{s:.2f}' for s in seconds)}); {requests} requests, {size / 1000:.0f} kB "
                      f"of index; {said}", flush=True)
            server.shutdown()
        browser.close()


if __name__ == "__main__":
    main()
