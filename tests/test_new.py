"""`new KIND SLUG` writes a scaffold that builds as it is, and never overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run


@pytest.mark.parametrize("kind, path", [("explainer", "content/explainers/summit-explained.md"),
                                        ("actor", "content/actors/summit-explained.md"),
                                        ("card", "content/cards/summit-explained.yml")])
def test_scaffold_builds_as_it_is(minimal_site: Path, kind: str, path: str):
    result = run("new", kind, "summit-explained", "--root", minimal_site)
    assert result.returncode == 0, result.stderr
    assert (minimal_site / path).is_file()
    built = run("build", "--root", minimal_site)
    assert built.returncode == 0, built.stderr
    folder = {"explainer": "explainers", "actor": "actors", "card": "cards"}[kind]
    assert (minimal_site / "site" / folder / "summit-explained" / "index.html").is_file()


def test_scaffold_refuses_to_overwrite(minimal_site: Path):
    before = (minimal_site / "content/actors/russia.md").read_bytes()
    result = run("new", "actor", "russia", "--root", minimal_site)
    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert (minimal_site / "content/actors/russia.md").read_bytes() == before
    clash = run("new", "card", "russia", "--root", minimal_site)
    assert clash.returncode == 2 and not (minimal_site / "content/cards/russia.yml").exists()


@pytest.mark.parametrize("slug", ["Bad Slug", "UPPER", "../escape", "a--b", "a-", "kim.jong", "con"])
def test_scaffold_refuses_bad_slugs(minimal_site: Path, slug: str):
    result = run("new", "card", slug, "--root", minimal_site)
    assert result.returncode == 2
    assert "not a valid slug" in result.stderr or "device name" in result.stderr
    assert sorted(p.name for p in (minimal_site / "content/cards").iterdir()) == ["shells.yml"]
