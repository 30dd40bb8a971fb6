"""Bad input: every problem at path:line:col, all at once, exit 1, previous site untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import MINIMAL, run, tree_digest, write_site

# (case, files changed from the minimal site, expected error lines)
CASES = [
    ("unknown actor in a card", {"content/cards/shells.yml": """
        title: Shells
        claim: Shells were sent.
        actors: [russia, north-koreaa]
        sources:
          - name: Bloomberg
        """}, ["content/cards/shells.yml:3:18: error: unknown actor 'north-koreaa' (did you mean 'north-korea'?)"]),
    ("unknown reference", {"content/actors/russia.md": """
        ---
        name: Russia
        kind: country
        ---
        Neighbour of [[north-korae]].
        """}, ["content/actors/russia.md:5:14: error: unknown reference [[north-korae]] (did you mean 'north-korea'?)"]),
    ("unknown field", {"content/actors/russia.md": """
        ---
        name: Russia
        kind: country
        rol: big
        ---
        """}, ["content/actors/russia.md:4:1: error: unknown field 'rol' (did you mean 'role'?)"]),
    ("missing required field", {"content/actors/russia.md": """
        ---
        name: Russia
        ---
        """}, ["content/actors/russia.md:2:1: error: missing required field 'kind'"]),
    ("duplicate key", {"content/actors/russia.md": """
        ---
        name: Russia
        kind: country
        name: Russland
        ---
        """}, ["content/actors/russia.md:4:1: error: duplicate key 'name' (first given at line 2)"]),
    ("implicit boolean", {"content/actors/russia.md": """
        ---
        name: no
        kind: country
        ---
        """}, ['content/actors/russia.md:2:7: error: YAML reads no as a true/false value, not text; put it in quotes ("no") if you mean the text']),
    ("implicit float", {"content/cards/shells.yml": """
        title: 1.10
        claim: Shells.
        sources: [{name: Bloomberg}]
        """}, ['content/cards/shells.yml:1:8: error: YAML reads 1.10 as a number, not text; put it in quotes ("1.10") if you mean the text']),
    ("alias", {"content/cards/shells.yml": """
        title: &t Shells
        claim: *t
        sources: [{name: Bloomberg}]
        """}, ["content/cards/shells.yml:1:8: error: YAML anchors (&t) are not allowed; write the value out"]),
    ("impossible date", {"content/explainers/visit.md": """
        ---
        title: Visit
        dek: Dek.
        published: 2024-13-45
        ---
        """}, ["content/explainers/visit.md:4:12: error: '2024-13-45' is not a real date (month must be in 1..12)"]),
    ("url that is not http", {"content/cards/shells.yml": """
        title: Shells
        claim: Shells.
        sources:
          - name: Bloomberg
            url: javascript:alert(1)
        """}, ["content/cards/shells.yml:5:10: error: 'javascript:alert(1)' is not an absolute http(s) URL"]),
    ("unknown relation and self relation", {"content/actors/russia.md": """
        ---
        name: Russia
        kind: country
        relations:
          - {actor: russia, label: is}
          - {actor: ukrane, label: invaded}
        ---
        """}, ["content/actors/russia.md:5:13: error: actor 'russia' cannot be related to itself",
               "content/actors/russia.md:6:13: error: unknown actor 'ukrane'"]),
    ("alias clash", {"content/actors/north-korea.md": """
        ---
        name: North Korea
        kind: country
        aliases: [Pyongyang, Moscow]
        ---
        """}, ["content/actors/russia.md:4:11: error: alias 'Moscow' is already a name or alias of actor 'north-korea'"]),
    ("file name that is not a slug", {"content/actors/Putin.md": """
        ---
        name: Vladimir Putin
        kind: person
        ---
        """}, ["content/actors/Putin.md:1:1: error: file name 'Putin.md' is not a valid slug; rename it to 'putin.md'"]),
    ("slug used twice", {"content/cards/russia.yml": """
        title: Russia
        claim: A card.
        sources: [{name: Desk}]
        """}, ["content/cards/russia.yml:1:1: error: slug 'russia' is already used by content/actors/russia.md; slugs are unique across explainers, actors and cards"]),
    ("embedding something that is not a card", {"content/explainers/visit.md": """
        ---
        title: Visit
        dek: Dek.
        published: 2024-06-17
        ---

        ![[russia]]
        """}, ["content/explainers/visit.md:7:1: error: ![[russia]] embeds cards only; 'russia' is an actor, link to it with [[russia]]"]),
    ("front matter never closed", {"content/explainers/visit.md": """
        ---
        title: Visit
        """}, ["content/explainers/visit.md:1:1: error: front matter is never closed; add a line '---' after the fields"]),
    ("updated before published", {"content/explainers/visit.md": """
        ---
        title: Visit
        dek: Dek.
        published: 2024-06-17
        updated: 2024-06-01
        ---
        """}, ["content/explainers/visit.md:5:10: error: updated (2024-06-01) is before published (2024-06-17)"]),
    ("layout with an undefined variable", {"layouts/card.html": """
        {% extends "base.html" %}
        {% block title %}{{ card.title }}{% endblock %}
        {% block description %}{{ card.title }}{% endblock %}
        {% block main %}
        <p>{{ card.nonsense_field }}</p>
        {% endblock %}
        """}, ["layouts/card.html:5:1: error: layout error: 'dossier.model.Card object' has no attribute 'nonsense_field' (rendering cards/shells/index.html)"]),
]


@pytest.fixture
def previous_build(minimal_site: Path) -> tuple[Path, Path, dict[str, str]]:
    out = minimal_site / "site"
    result = run("build", "--root", minimal_site)
    assert result.returncode == 0, result.stderr
    return minimal_site, out, tree_digest(out)


@pytest.mark.parametrize("case, files, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported_at_its_place(previous_build, case, files, expected):
    root, out, before = previous_build
    write_site(root, files)
    result = run("build", "--root", root)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[:-1] == expected
    assert lines[-1] == f"{len(expected)} error{'s' if len(expected) > 1 else ''}"
    assert "Traceback" not in result.stdout + result.stderr
    assert tree_digest(out) == before


def test_all_errors_of_several_broken_files_at_once(previous_build):
    root, out, before = previous_build
    for case in ("unknown field", "duplicate key", "impossible date", "url that is not http"):
        write_site(root, next(files for name, files, _ in CASES if name == case))
    result = run("check", "--root", root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "content/actors/russia.md:4:1: error: duplicate key 'name' (first given at line 2)",
        "content/cards/shells.yml:5:10: error: 'javascript:alert(1)' is not an absolute http(s) URL",
        "content/explainers/visit.md:4:12: error: '2024-13-45' is not a real date (month must be in 1..12)",
        "3 errors"]
    assert tree_digest(out) == before


def test_reference_errors_and_markdown_errors_are_reported_together(previous_build):
    root, out, before = previous_build
    for case in ("unknown actor in a card", "unknown reference"):
        write_site(root, next(files for name, files, _ in CASES if name == case))
    result = run("build", "--root", root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "content/actors/russia.md:5:14: error: unknown reference [[north-korae]] (did you mean 'north-korea'?)",
        "content/cards/shells.yml:3:18: error: unknown actor 'north-koreaa' (did you mean 'north-korea'?)",
        "2 errors"]
    assert tree_digest(out) == before


def test_check_writes_nothing(minimal_site: Path):
    result = run("check", "--root", minimal_site)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in minimal_site.iterdir()) == ["content"]


@pytest.mark.parametrize("out", [".", "content", "..", "content/site"])
def test_unsafe_out_is_refused(minimal_site: Path, out: str):
    before = sorted(p.relative_to(minimal_site.parent).as_posix() for p in minimal_site.parent.rglob("*"))
    result = run("build", "--root", minimal_site, "--out", minimal_site / out)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --out")
    assert sorted(p.relative_to(minimal_site.parent).as_posix() for p in minimal_site.parent.rglob("*")) == before


def test_bad_option_is_a_usage_error(minimal_site: Path):
    assert run("build", "--root", minimal_site, "--no-such-option").returncode == 2
    assert run("build", "--root", minimal_site, "--base-url", "ftp://x/").returncode == 2


def test_nothing_is_written_outside_out(minimal_site: Path, tmp_path: Path):
    before = {p for p in tmp_path.rglob("*")}
    out = tmp_path / "public"
    assert run("--root", minimal_site, "--out", out).returncode == 0  # no command means build
    after = {p for p in tmp_path.rglob("*")}
    new = {p for p in after - before if out not in p.parents and p != out
           and (minimal_site / ".cache") not in p.parents and p != minimal_site / ".cache"}
    assert not new
    assert (out / "explainers/visit/index.html").is_file()


def test_future_date_is_a_warning_not_an_error(minimal_site: Path):
    write_site(minimal_site, {"content/explainers/visit.md": MINIMAL["content/explainers/visit.md"]
                              .replace("2024-06-17", "2999-01-01")})
    result = run("build", "--root", minimal_site)
    assert result.returncode == 0
    assert "content/explainers/visit.md:4:12: warning: published date 2999-01-01 is in the future" in result.stderr
