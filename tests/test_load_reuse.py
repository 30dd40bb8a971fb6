"""The loader reuses what an unchanged content file was read into, without opening it.

The build cache's scan has just taken a checksum of every content file; a regular file
whose checksum is unchanged is not read, decoded or hashed again. These tests count the
files the loader opens (load._read_bytes) and check that every build still equals a clean one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dossier import cache, load, pipeline
from dossier.problems import ContentError, Problems

from .test_incremental import assert_same_as_clean, edit, site, stub_pagefind  # noqa: F401 (fixtures)

CARD = "content/cards/limousine-gift.yml"


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The content files the loader opens, in order, as paths from the root."""
    opened: list[str] = []
    read_bytes = load._read_bytes

    def counted(path: Path, rel: str, problems: Problems) -> bytes | None:
        opened.append(rel)
        return read_bytes(path, rel, problems)

    monkeypatch.setattr(load, "_read_bytes", counted)
    return opened


def build_in_process(root: Path) -> pipeline.Result:
    """A build as the preview server runs it: in this process, after the last one."""
    return pipeline.build(pipeline.Options(root=root, out=root / "site"))


def content_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for kind in load.KINDS for p in (root / "content" / kind).iterdir()}


def errors_of(root: Path) -> list[str]:
    """The problems an in-process build of ROOT stops with."""
    with pytest.raises(ContentError) as failed:
        build_in_process(root)
    return [str(problem) for problem in failed.value.problems]


def errors_of_clean_build(root: Path, where: Path) -> list[str]:
    """The problems a build of the same sources with no cache stops with (paths are relative)."""
    for folder in ("content", "layouts", "assets"):
        shutil.copytree(root / folder, where / folder, symlinks=True)
    return errors_of(where)


def test_only_changed_files_are_opened_again(site, reads, tmp_path):
    build_in_process(site)
    assert set(reads) == content_files(site) | {"content/site.yml"}
    reads.clear()
    edit(site / CARD, "title: ", "title: Edited, ")
    build_in_process(site)
    assert reads == ["content/site.yml", CARD]  # site.yml is read for the epoch's sake, always
    assert_same_as_clean(site, tmp_path)


def test_created_renamed_and_deleted_files_equal_a_clean_build(site, reads, tmp_path):
    build_in_process(site)
    reads.clear()
    card = site / CARD
    moved = card.with_name("limousine-present.yml")
    text = card.read_text(encoding="utf-8")
    card.unlink()
    moved.write_text(text, encoding="utf-8")  # renamed: same bytes, another slug
    (site / "content/cards/new-card.yml").write_text(text.replace("title: ", "title: New, ", 1), encoding="utf-8")
    for explainer in (site / "content/explainers").glob("*.md"):  # mentions of the old slug follow it
        explainer.write_text(explainer.read_text(encoding="utf-8").replace("limousine-gift", "limousine-present"),
                             encoding="utf-8")
    build_in_process(site)
    assert {"content/cards/limousine-present.yml", "content/cards/new-card.yml"} <= set(reads)
    assert "content/cards/iran-drones.yml" not in reads
    assert_same_as_clean(site, tmp_path)


@pytest.mark.parametrize("settled", [False, True], ids=["racy", "settled"])
def test_an_edit_that_keeps_size_and_mtime_is_read(site, reads, tmp_path, monkeypatch, settled):
    if settled:  # as if the files had been hashed long after they were saved: their stat is trusted
        monkeypatch.setattr(cache, "RACY_NS", 0)
    build_in_process(site)
    reads.clear()
    card = site / CARD
    before = card.stat()
    edit(card, "title: ", "TITLE: ")  # same size; an unknown field, so the build must fail
    os.utime(card, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (card.stat().st_size, card.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    errors = errors_of(site)
    assert CARD in reads
    assert errors == errors_of_clean_build(site, tmp_path / "clean") and any("TITLE" in e for e in errors)
    edit(card, "TITLE: ", "title: ")
    os.utime(card, ns=(before.st_atime_ns, before.st_mtime_ns))
    build_in_process(site)
    assert_same_as_clean(site, tmp_path)


def test_a_linked_file_is_always_read(site, reads, tmp_path):
    shared = site / "shared"
    shared.mkdir()
    (site / CARD).rename(shared / "limousine-gift.yml")
    (site / CARD).symlink_to(shared / "limousine-gift.yml")
    build_in_process(site)
    reads.clear()
    edit(site / "content/cards/iran-drones.yml", "title: ", "title: Edited, ")
    build_in_process(site)
    assert reads == ["content/site.yml", "content/cards/iran-drones.yml", CARD]


@pytest.mark.parametrize("damage", ["bom", "link out", "folder", "misnamed"])
def test_a_file_gone_wrong_is_reported_as_in_a_clean_build(site, tmp_path, damage):
    build_in_process(site)
    card = site / CARD
    if damage == "bom":
        card.write_bytes(b"\xef\xbb\xbf" + card.read_bytes())
    elif damage == "link out":
        outside = tmp_path / "outside.yml"
        card.rename(outside)
        card.symlink_to(outside)
    elif damage == "folder":
        card.unlink()
        card.mkdir()
    else:
        card.rename(card.with_name("Limousine Gift.yml"))
    errors = errors_of(site)
    assert errors and errors == errors_of_clean_build(site, tmp_path / "clean")


def test_reused_and_read_files_get_the_same_checksums(site):
    """cache.hashes (each model object's version for deps.Fields) is one checksum of bytes either way."""
    options = pipeline.Options(root=site, out=site / "site")
    first = cache.BuildCache(site, options.out)
    first.scan(options)
    assert load.load(site, Problems(), memo=first.memo()) is not None  # nothing recorded: every file read
    assert first.hashes == {rel: first.scanned[rel] for rel in content_files(site)}
    again = cache.BuildCache(site, options.out)
    again.items = first.items  # what the first recorded
    again.scan(options)
    reused = []
    again_memo = again.memo()
    recall = again_memo.recall
    again_memo.recall = lambda *args: reused.append(args[2]) or recall(*args)  # type: ignore[method-assign]
    assert load.load(site, Problems(), memo=again_memo) is not None
    assert sorted(reused) == sorted(content_files(site))
    assert again.hashes == first.hashes


def test_files_read_by_workers_equal_files_read_in_one_process(tmp_path, monkeypatch):
    """A big site's files are read on every core (a clean build, serve's first): the model,
    each file's checksum and record, and the problems, in their order, are those of one
    process reading every file."""
    import subprocess
    import sys

    from dossier import render_pool

    from .conftest import REPO

    if render_pool.workers() < 2:
        pytest.skip("one core: the loader never splits its work")
    subprocess.run([sys.executable, str(REPO / "bench" / "corpus.py"), "--explainers", "100", "--seed", "5",
                    "--out", str(tmp_path), "--sites", "ours"], check=True, capture_output=True)
    root = tmp_path / "ours"
    cards = sorted((root / "content" / "cards").glob("*.yml"))
    edit(cards[3], "claim: ", "claim: [oops\n")  # broken YAML
    cards[40].write_bytes(b"\xef\xbb\xbf" + cards[40].read_bytes())
    explainer = sorted((root / "content" / "explainers").glob("*.md"))[70]
    edit(explainer, "title: ", "colour: red\ntitle: ")  # an unknown field
    pids = tmp_path / "pids"
    read_file = load._read_file

    def noted(*args):
        with open(pids, "a") as log:
            log.write(f"{os.getpid()}\n")
        return read_file(*args)

    monkeypatch.setattr(load, "_read_file", noted)

    def read(workers: int):
        monkeypatch.setattr(render_pool, "workers", lambda: workers)
        pids.unlink(missing_ok=True)
        options = pipeline.Options(root=root, out=root / "site")
        record = cache.BuildCache(root, options.out)
        record.scan(options)
        problems = Problems()
        content = load.load(root, problems, memo=record.memo())
        assert content is None  # the problems stop it
        problems_again = Problems()
        model = load.load(root, problems_again)  # without a memo, as `check` may
        assert model is None and problems_again.items == problems.items
        return ([str(p) for p in problems.items], record.hashes, sorted(record.items.data),
                sorted(record._used_items), set(pids.read_text().split()))

    alone, split = read(1), read(2)
    assert alone[0] and alone[0] == split[0]
    assert {p.split(":")[0] for p in alone[0]} == {f.relative_to(root).as_posix() for f in (cards[3], cards[40], explainer)}
    assert alone[1:4] == split[1:4] and len(alone[1]) > 200
    assert alone[4] == {str(os.getpid())} and str(os.getpid()) in split[4] and len(split[4]) >= 2  # and a worker
