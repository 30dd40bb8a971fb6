"""Interruptions: builds killed at random moments, an --out that can't be written, a full disk.

Whatever happens, --out holds a complete site (the previous one, or the new one once it is
swapped in whole), and the next build succeeds and clears what a killed one left.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .sites import HERE, REPO, build, medium_site, minimal_site, tree_digest, write_files

KILLS = int(os.environ.get("HARDENING_KILLS", "50"))
def leftovers(out: Path) -> list[str]:
    """What a build leaves beside OUT while it runs: gone once a build has ended."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith((f".{out.name}.building-", f".{out.name}.old-")))


def set_version(root: Path, version: tuple[str, int]) -> None:
    """Content version (site title, wording of one explainer): the title changes every page."""
    title, wording = version
    site = root / "content/site.yml"
    site.write_text(f"title: {title}\nbase_url: https://example.org/briefs/\n")
    explainer = root / "content/explainers/explainer-0.md"
    text = explainer.read_text()
    explainer.write_text(text.replace("nobody agreed" if wording else "everybody agreed",
                                      "everybody agreed" if wording else "nobody agreed"))


def test_builds_killed_at_random_moments_leave_a_complete_site(tmp_path):
    """KILLS builds are killed at random moments, full rebuilds and incremental ones in turn."""
    versions = [(title, wording) for title in ("Desk A", "Desk B") for wording in (0, 1)]
    root = medium_site(tmp_path / "root", explainers=12, actors=10, cards=12)
    out = tmp_path / "site"
    complete: dict[tuple, dict[str, str]] = {}
    for version in versions:  # what a complete build of each version looks like
        set_version(root, version)
        reference = tmp_path / f"reference-{len(complete)}"
        assert build(root, reference).returncode == 0
        complete[version] = tree_digest(reference)
        shutil.rmtree(reference)
    current = versions[0]
    set_version(root, current)
    assert build(root, out).returncode == 0
    took = {}  # how long an uninterrupted build of each kind takes: a new title changes every page
    for kind, version in (("full", ("Desk B", 0)), ("incremental", ("Desk B", 1))):
        set_version(root, version)
        started = time.monotonic()
        assert build(root, out).returncode == 0
        took[kind], current = time.monotonic() - started, version
    rng = random.Random(int(os.environ.get("HARDENING_SEED", "5")))

    killed = mid_write = tries = 0
    while killed < KILLS:
        tries += 1
        assert tries <= 3 * KILLS, f"only {killed} of {tries} builds were killed before they ended"
        previous = tree_digest(out)
        kind = "full" if tries % 2 else "incremental"
        title, wording = current
        current = ("Desk A" if title == "Desk B" else "Desk B", wording) if kind == "full" else (title, 1 - wording)
        set_version(root, current)
        delay = rng.uniform(0, 1.1 * took[kind])
        child = subprocess.Popen([sys.executable, "build.py", "build", "--root", str(root), "--out", str(out)],
                                 cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        time.sleep(delay)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)  # the build and any worker it forked
        _, errors = child.communicate()
        now = tree_digest(out)
        if child.returncode == 0:
            assert now == complete[current], f"try {tries}: a finished build left an incomplete site"
            continue
        killed += 1
        assert child.returncode == -signal.SIGKILL, f"try {tries}: the build failed by itself: {errors!r}"
        assert now == previous or now == complete[current], \
            f"kill {killed} after {delay:.2f} s of a {kind} build: the site in --out is neither the old nor the new"
        mid_write += bool(leftovers(out)) or now != previous
        if killed % 10 == 0:  # the next build succeeds and clears what the killed ones left
            result = build(root, out)
            assert result.returncode == 0, result.stderr
            assert tree_digest(out) == complete[current]
            assert leftovers(out) == []
    assert mid_write >= 1, "no build was killed while it wrote the site; the kills came too early"
    result = build(root, out)
    assert result.returncode == 0, result.stderr
    assert tree_digest(out) == complete[current]
    assert leftovers(out) == []


@pytest.fixture
def previous(tmp_path) -> tuple[Path, Path, dict[str, str]]:
    """A site root, its good build in tmp/out/site, and the digest of that build; then an edit to build."""
    root = minimal_site(tmp_path / "root")
    out = tmp_path / "out" / "site"
    assert build(root, out).returncode == 0
    before = tree_digest(out)
    write_files(root, {"content/site.yml": "title: A new title on every page\nbase_url: https://example.org/briefs/\n"},
                tmp_path)
    return root, out, before


def test_out_below_a_file_is_a_usage_error(tmp_path):
    root = minimal_site(tmp_path / "root")
    (tmp_path / "a-file").write_text("not a folder\n")
    result = build(root, tmp_path / "a-file" / "site")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert (tmp_path / "a-file").read_text() == "not a folder\n"


def test_out_where_nothing_can_be_written_is_a_usage_error(tmp_path):
    root = minimal_site(tmp_path / "root")
    result = build(root, Path("/proc/dossier-site"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot write the site: ") and "Traceback" not in result.stderr
    assert result.stderr.endswith("the previous site is unchanged\n")


def test_file_size_limit_stops_the_build_and_keeps_the_previous_site(previous):
    """A disk that refuses to grow files (RLIMIT_FSIZE, so that even root is refused): exit 2, site kept."""
    root, out, before = previous

    def small_files_only():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = build(root, out, preexec_fn=small_files_only)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: cannot write the site: File too large")
    assert "Traceback" not in result.stderr
    assert tree_digest(out) == before
    assert leftovers(out) == []


def _in_own_mount_namespace(scenario: str, folder: Path) -> dict:
    """Run mountns.py in a private mount namespace (tmpfs and read-only mounts); skip where not allowed."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        pytest.skip("needs root and unshare for a private mount namespace")
    folder.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "mount", "-t", "tmpfs", "tmpfs", str(folder)],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"mounting in a private namespace is not allowed here: {probe.stderr.decode().strip()}")
    result = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, str(HERE / "mountns.py"),
                             scenario, str(folder)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_full_disk_stops_the_build_and_keeps_the_previous_site(tmp_path):
    """A tmpfs with room for the previous site and not much more: ENOSPC is a clear error, exit 2."""
    found = _in_own_mount_namespace("full", tmp_path / "disk")
    assert found["first"] == 0
    assert found["returncode"] == 2, found["stderr"]
    assert found["stderr"].startswith("error: cannot write the site: No space left on device")
    assert "Traceback" not in found["stderr"]
    assert found["after"] == found["before"]
    assert found["leftovers"] == []


def test_read_only_out_stops_the_build_and_keeps_the_previous_site(tmp_path):
    """--out on a read-only mount (which stops root too): exit 2, previous site kept."""
    found = _in_own_mount_namespace("readonly", tmp_path / "disk")
    assert found["first"] == 0
    assert found["returncode"] == 2, found["stderr"]
    assert found["stderr"].startswith("error: cannot write the site: Read-only file system")
    assert found["after"] == found["before"]
    assert found["leftovers"] == []


def search_scratch_left(tmp_path: Path) -> list[Path]:
    """search.index_shards' scratch folders still beside OUT, once their removal (a thread's,
    which a build waits for before it returns) is done."""
    from dossier import output

    output.removed()
    return list(tmp_path.glob(".out.building-search*"))


def test_a_hung_pagefind_is_ended_after_a_budget_that_grows_with_the_site(tmp_path, monkeypatch):
    """A Pagefind that never finishes must not hang the build; one that is merely slow on a
    large site must not be cut off (a fixed 600 s failed a 20,000-explainer build)."""
    from dossier import search

    started = tmp_path / "started"
    hung = tmp_path / "pagefind-hung"
    hung.write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 600\n")
    hung.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(hung))
    monkeypatch.setattr(search, "BUDGET_BASE", 0.5)
    monkeypatch.setattr(search, "BUDGET_PER_PAGE", 0.1)
    site = tmp_path / "site"
    site.mkdir()
    began = time.monotonic()
    with pytest.raises(search.SearchError, match=r"Pagefind took more than 2 s"):
        pages = [f"p{n}/index.html" for n in range(15)]  # 0.5 s + 15 x 0.1 s
        search.index_shards(site, tmp_path / "out", {f"{search.BUNDLE}/": pages}, whole=True)
    assert 1.8 < time.monotonic() - began < 10
    with pytest.raises(ProcessLookupError):  # ended, with whatever it started
        os.kill(int(started.read_text()), 0)
    assert not search_scratch_left(tmp_path)  # its scratch folder is gone


TWO_SHARDS = {"pagefind/": ["a/index.html"], "pagefind/part-1/": ["b/index.html"]}


def two_shard_site(tmp_path: Path, monkeypatch, pagefind: str) -> Path:
    """A site of two pages, a and b, one a shard, and a stand-in Pagefind (a shell script's body)."""
    site = tmp_path / "site"
    for name in ("a", "b"):
        (site / name).mkdir(parents=True)
        (site / name / "index.html").write_text("<p>page</p>")
    stub = tmp_path / "pagefind-stand-in"
    stub.write_text(f"#!/bin/sh\n{pagefind}")
    stub.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(stub))
    return site


def test_a_failing_search_shard_ends_the_others_at_once(tmp_path, monkeypatch):
    """Shards are indexed side by side: when one Pagefind fails, the build reports that
    failure now, and ends the Pagefinds still running instead of waiting for them."""
    from dossier import search

    started = tmp_path / "started"
    site = two_shard_site(tmp_path, monkeypatch, "if [ -e \"$2/a\" ]; then echo 'Error: broken shard' >&2; sleep 0.3; exit 1; fi\n"
                                                 f"echo $$ > {started}\nexec sleep 600\n")
    began = time.monotonic()
    with pytest.raises(search.SearchError, match="Pagefind failed .Error: broken shard."):
        search.index_shards(site, tmp_path / "out", TWO_SHARDS, whole=False)
    assert time.monotonic() - began < 10
    with pytest.raises(ProcessLookupError):  # the hung one was ended
        os.kill(int(started.read_text()), 0)
    assert not search_scratch_left(tmp_path)


def test_ctrl_c_while_search_shards_are_indexed_ends_their_pagefinds_at_once(tmp_path, monkeypatch):
    """Ctrl-C reaches the build's main thread while Pagefinds run in threads beside it: they
    are ended then, and the build stops, instead of waiting for them to finish."""
    from dossier import search

    started = tmp_path / "started"
    site = two_shard_site(tmp_path, monkeypatch, f"echo $$ >> {started}\nexec sleep 600\n")
    monkeypatch.setattr(search, "BUDGET_BASE", 30.0)  # without the fix, the build would wait this long
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()  # as a terminal's Ctrl-C
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        search.index_shards(site, tmp_path / "out", TWO_SHARDS, whole=False)
    assert time.monotonic() - began < 10
    pids = started.read_text().split()
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
    assert not search_scratch_left(tmp_path)


def test_each_search_shard_is_handed_over_while_the_others_are_still_indexed(tmp_path, monkeypatch):
    """A shard's bundle goes to `each` as soon as its Pagefind ends, not after the last one:
    shard b's stand-in waits for a's bundle to have been handed over, and gives up after 20 s."""
    from dossier import search

    handed = tmp_path / "a-handed-over"
    site = two_shard_site(tmp_path, monkeypatch,
                          'mkdir -p "$4/index" && echo "$2" > "$4/index/shard"\n'
                          f'if [ -e "$2/b" ]; then for n in $(seq 200); do [ -e {handed} ] && exit 0; sleep 0.1; done; fi\n')
    got = []

    def each(files, written):  # and the very files Pagefind wrote, there until the index is done
        got.append(sorted(files))
        assert {rel: path.read_bytes() for rel, path in written.items()} == files
        if "pagefind/index/shard" in files:
            handed.touch()

    began = time.monotonic()
    assert search.index_shards(site, tmp_path / "out", TWO_SHARDS, whole=False, each=each) == {}
    assert time.monotonic() - began < 10
    assert got == [["pagefind/index/shard"], ["pagefind/part-1/index/shard"]]


def test_an_error_handing_a_search_shard_over_fails_the_index(tmp_path, monkeypatch):
    """`each` runs in a thread of its own: an error there (a full disk) is not lost with it."""
    from dossier import search

    site = two_shard_site(tmp_path, monkeypatch, 'mkdir -p "$4/index" && echo "$2" > "$4/index/shard"\n')

    def each(files, written):
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        search.index_shards(site, tmp_path / "out", TWO_SHARDS, whole=False, each=each)
    assert not search_scratch_left(tmp_path)


def test_an_error_handing_a_search_shard_over_ends_the_other_pagefinds_at_once(tmp_path, monkeypatch):
    """A full disk while shard a's bundle is put: shard b's Pagefind, still running, is ended
    then, and the disk's error is the one raised, not the stop it caused."""
    from dossier import search

    started = tmp_path / "started"
    site = two_shard_site(tmp_path, monkeypatch, f'if [ -e "$2/a" ]; then while [ ! -s {started} ]; do sleep 0.05; done; '
                                                 'mkdir -p "$4/index" && exit 0; fi\n'
                                                 f"echo $$ > {started}\nexec sleep 600\n")

    def each(files, written):
        raise OSError("No space left on device")

    began = time.monotonic()
    with pytest.raises(OSError, match="No space left"):
        search.index_shards(site, tmp_path / "out", TWO_SHARDS, whole=False, each=each)
    assert time.monotonic() - began < 10
    with pytest.raises(ProcessLookupError):  # b's stand-in was ended
        os.kill(int(started.read_text()), 0)
    assert not search_scratch_left(tmp_path)
