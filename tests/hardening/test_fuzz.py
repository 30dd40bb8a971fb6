"""Property tests: arbitrary text through the front-matter splitter, the YAML loader, the readers
and the Markdown extensions never raises, and every problem points inside the file.

Example counts are moderate by default; a long run sets FUZZ_EXAMPLES, for instance
    FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/hardening/test_fuzz.py
(each property runs that many examples; the end-to-end builds a fiftieth of them).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown.treeprocessors import InlineProcessor

from dossier import fields, load
from dossier.cli import Reporter, main
from dossier.markup import MarkdownRenderer, Target
from dossier.model import Body
from dossier.problems import Problems
from dossier.yamlstrict import parse

from .htmlcheck import live_markup
from .sites import minimal_site, write_files

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, derandomize="FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

UNICODE = ["é", "Ü", "ß", "ı", "İ", "😀", "中文", "\u200b", "\u00a0", "\u2028", "\u2029", "\u0085", "\ufeff", "\u202e",
           "ｓ", "ѕ", "\U0001f1fa\U0001f1e6", "\u0301", "…", "“", "”", "’"]
YAML_TOKENS = ["title", "claim", "sources", "name", "url", "date", "actors", "kind", "relations", "label", ":", ": ",
               "\n", "\n", "  ", "    ", "- ", "[", "]", "{", "}", ", ", "'", '"', "\\", "&a ", "*a", "!!str ", "!x ",
               "!!python/object:os.system ", "? ", "| ", "|-\n", "> ", "#", "---\n", "...\n", "%YAML 1.2\n",
               "%TAG ! tag:x.org,2000:\n", "\t", "~", "null", "yes", "no", "on", "1.10", "0x1F", "1e3", "2024-13-45",
               "2024-06-17", "2024-06", "12:30", "<<", "=", "@", "`", "\r", "\r\n", "https://example.org/",
               "javascript:alert(1)", "russia", "north-korea", "[[russia]]", "![[shells]]", "\\u0007", "\\x00", "\\N"]
MARKDOWN_TOKENS = ["[[", "]]", "|", "![[", "russia", "kim-jong-un", "north-korea", "shells", "visit", "nope", "Nope",
                   " ", " ", "\n", "\n", "\n\n", "## ", "### ", "# ", "`", "``", "```", "~~~", "> ", "- ", "* ", "1. ",
                   "    ", "\t", "*", "_", "**", "\\", "<", ">", "&", "&amp;", "&#106;", "<b>", "</b>", "<div>",
                   "</div>", "<script>", "</script>", "<a href=\"javascript:x\">", "[", "]", "(", ")", "](", "https://x.org",
                   "javascript:", "!", "{: #id }", "{: onclick=x }", "[^1]", "[^1]: ", "| a | b |\n|---|---|\n", "---",
                   "Russia", "Moscow", "North Korea", "Pyongyang", "Kim Jong Un", "Mr. Kim", "Kim", ".", ". ", "?",
                   "!", "\"", "'", "<!--", "-->", "*[HTML]: x", "<http://x.org>", "<javascript:alert(1)>", "<a@x.org>",
                   "  \n"]


def _joined(tokens: list[str], extra=st.text(max_size=6)):
    return st.lists(st.one_of(st.sampled_from(tokens), st.sampled_from(UNICODE), extra), max_size=40).map("".join)


yamlish = st.one_of(_joined(YAML_TOKENS), st.text(max_size=60))
markdownish = st.one_of(_joined(MARKDOWN_TOKENS), st.text(max_size=60))


def assert_located(problems: Problems, path: str, text: str, first_line: int = 1) -> None:
    """Every problem is in `path`, on a line of `text` (which starts at first_line), at a column of it."""
    lines = text.split("\n")
    for problem in problems.items:
        mark = problem.mark
        assert mark.path == path, problem
        assert first_line <= mark.line < first_line + len(lines), problem
        assert 1 <= mark.col <= len(lines[mark.line - first_line]) + 1, problem
        assert "\x02" not in problem.message and "\x03" not in problem.message, problem


@fuzz
@given(yamlish.map(lambda text: "---\n" + text) | markdownish | yamlish)
def test_front_matter_splitter(text):
    problems = Problems()
    parts = load.split_front_matter(text, "content/explainers/x.md", problems)
    assert_located(problems, "content/explainers/x.md", text)
    if parts is None:
        assert len(problems.items) == 1
        return
    front, front_line, body, body_line = parts
    lines = text.split("\n")
    assert not problems.items and front_line == 2
    assert lines[0].rstrip() == "---" and lines[body_line - 2].rstrip() in ("---", "...")
    assert front == "\n".join(lines[1:body_line - 2]) and body == "\n".join(lines[body_line - 1:])


SCHEMAS = [load.CARD, load.EXPLAINER, load.ACTOR, load.SITE]


@fuzz
@given(yamlish, st.integers(min_value=1, max_value=40), st.sampled_from(SCHEMAS))
def test_yaml_loader(text, first_line, schema):
    problems = Problems()
    node = parse(text, "content/cards/x.yml", problems, first_line=first_line)
    if node is not None or not problems.items:
        fields.read_mapping(node, schema, problems, load.Mark("content/cards/x.yml", first_line, 1))
    assert_located(problems, "content/cards/x.yml", text, first_line)


@fuzz
@given(st.sampled_from(["explainers", "actors", "cards"]), yamlish.map(lambda text: "---\n" + text) | yamlish,
       markdownish)
def test_file_readers(kind, front, body):
    text = front if kind == "cards" else f"{front}\n---\n{body}"
    rel = f"content/{kind}/x.{'yml' if kind == 'cards' else 'md'}"
    reader = {"explainers": load._explainer, "actors": load._actor, "cards": load._card}[kind]
    problems = Problems()
    item = reader("x", rel, text, problems)
    assert_located(problems, rel, text)
    assert (item is None) == bool(problems.errors)


@fuzz
@given(st.binary(max_size=300) | yamlish.map(lambda text: text.encode("utf-8", "surrogatepass")))
def test_reading_files(data):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "content/cards").mkdir(parents=True)
        (root / "content/cards/x.yml").write_bytes(data)
        problems = Problems()
        text = load._read_text(root, root / "content/cards/x.yml", problems)
    assert (text is None) == bool(problems.items)
    located = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    assert_located(problems, "content/cards/x.yml", located)


TARGETS = {"russia": Target("/actors/russia/", "Russia", "actor"), "north-korea": Target("/actors/north-korea/", "North Korea", "actor"),
           "kim-jong-un": Target("/actors/kim-jong-un/", "Kim Jong Un", "actor"),
           "shells": Target("/cards/shells/", "Shells", "card"), "visit": Target("/explainers/visit/", "Visit", "explainer")}
NAMES = {"Russia": "russia", "Moscow": "russia", "North Korea": "north-korea", "Pyongyang": "north-korea",
         "Kim Jong Un": "kim-jong-un", "Mr. Kim": "kim-jong-un"}


def embed(slug: str) -> str:
    return f'<aside class="card"><p>{slug}</p></aside>'


RENDERER = MarkdownRenderer(TARGETS, NAMES, embed)
PLAIN = MarkdownRenderer(TARGETS, NAMES, embed)
PLAIN.md.treeprocessors.register(InlineProcessor(PLAIN.md), "inline", 20)  # Python-Markdown's own inline step


@fuzz
@given(markdownish, st.booleans())
def test_markdown_extensions(text, explainer):
    problems = Problems()
    body = Body(text, "content/explainers/x.md", 7)
    rendered = RENDERER.render(body, problems, autolink=explainer, allow_embeds=explainer, inline=not explainer)
    assert_located(problems, "content/explainers/x.md", text, 7)
    assert live_markup(rendered.html) == []
    assert {m.actor for m in rendered.mentions} <= {"russia", "north-korea", "kim-jong-un"}
    assert {slug for slug, _ in rendered.embeds} <= {"shells"}


@fuzz
@given(markdownish, st.booleans())
def test_the_quick_inline_step_renders_as_python_markdowns_own(text, explainer):
    """markup_inline passes over text a pattern cannot match: the same HTML, facts and problems."""
    def render(renderer: MarkdownRenderer):
        problems = Problems()
        rendered = renderer.render(Body(text, "content/explainers/x.md", 7), problems, autolink=explainer,
                                   allow_embeds=explainer, inline=not explainer)
        return rendered, [(problem.mark, problem.message) for problem in problems.items]

    assert render(RENDERER) == render(PLAIN)


def test_the_quick_inline_step_knows_every_pattern():
    """Text no pattern can match is passed over whole only while every pattern is in NEEDS."""
    RENDERER.render(Body("Plain *text*.", "content/explainers/x.md", 1), Problems())
    assert RENDERER.md.treeprocessors["inline"].find_any is not None


@fuzz
@given(markdownish.filter(lambda claim: claim.strip()), st.sampled_from([None, "'", '"', "|", ">"]))
def test_card_claims_are_located_where_written(claim, style):
    """A claim written plain, quoted or as a block: its [[references]] are found in the file."""
    try:
        text = "title: Card\n" + yaml.safe_dump({"claim": claim}, default_style=style, allow_unicode=True, width=40) + \
            "sources: [{name: Desk}]\n"
    except yaml.YAMLError:
        return
    problems = Problems()
    card = load._card("x", "content/cards/x.yml", text, problems)
    if card is None:
        assert problems.errors
        return
    RENDERER.render(card.claim, problems, allow_embeds=False, inline=True)
    assert_located(problems, "content/cards/x.yml", text)
    for problem in problems.items:
        if "reference" in problem.message:
            line = text.split("\n")[problem.mark.line - 1]
            at_claim = (problem.mark.line, problem.mark.col) == (card.claim.first_line, card.claim.first_col)
            assert line[problem.mark.col - 1:].startswith(("[[", "![[")) or at_claim, problem


@settings(max_examples=max(10, EXAMPLES // 50), deadline=None, derandomize="FUZZ_EXAMPLES" not in os.environ,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(markdownish, yamlish, markdownish)
def test_whole_builds(body, card_front, claim):
    """The whole command on a site with a fuzzed explainer and card: exit 0 or 1, every line located."""
    with tempfile.TemporaryDirectory() as folder:
        root = minimal_site(Path(folder) / "root")
        files = {"content/explainers/visit.md": f"---\ntitle: Visit\ndek: Dek.\npublished: 2024-06-17\n---\n{body}\n",
                 "content/cards/fuzz.yml": f"title: Fuzz\nclaim: {yaml.safe_dump(claim, allow_unicode=True)}"
                                           f"sources: [{{name: Desk}}]\n{card_front}\n"}
        write_files(root, files, Path(folder))
        out, err = io.StringIO(), io.StringIO()
        code = main(["build", "--root", str(root), "--out", str(Path(folder) / "site")], Reporter(out, err))
        assert code in (0, 1), err.getvalue()
        lines = err.getvalue().splitlines()
        for line in lines:
            match = re.match(r"((?:content|layouts)/[^:]+):(\d+):(\d+): (error|warning): ", line)
            if not match:
                assert re.fullmatch(r"\d+ errors?", line), line
                continue
            path, number, col = root / match.group(1), int(match.group(2)), int(match.group(3))
            file_lines = path.read_text().split("\n") if path.is_file() else [""]
            assert 1 <= number <= len(file_lines) and 1 <= col <= len(file_lines[number - 1]) + 1, line
        assert (code == 1) == any(": error: " in line for line in lines)
