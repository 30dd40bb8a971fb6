"""The bare Python floor: the least work any Python generator must do for our explainers and actors.

Read each file, split off the front matter, parse it with PyYAML's C loader, convert the body with
Python-Markdown (toc, tables, footnotes, attr_list), render one autoescaping Jinja2 template,
write OUT/{explainers,actors}/SLUG/index.html. No references resolved, no validation, no
index pages: `[[slug]]` stays literal text. With --jobs 2 the files are split across two
worker processes (multiprocessing, fork), each with its own Markdown and template instance.

Run it with the engine's Python (it needs the engine's PyYAML, Markdown and Jinja2):

    .venv/bin/python bench/floor.py --root bench/work/e1000-s1/ours --out /tmp/floor --jobs 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

import jinja2
import markdown
import yaml
from markupsafe import Markup

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }} | Benchmark Briefs</title>
<meta name="description" content="{{ description }}">
<link rel="canonical" href="https://example.org/{{ section }}/{{ slug }}/">
</head>
<body>
<header><a href="/">Benchmark Briefs</a></header>
<main>
<h1>{{ title }}</h1>
{% if description %}<p class="dek">{{ description }}</p>{% endif %}
<nav class="toc">{{ toc }}</nav>
{{ body }}
</main>
</body>
</html>
"""


def split_front_matter(text: str) -> tuple[str, str]:
    """('yaml', 'markdown') from a file that starts with a --- fenced block."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[4:end], text[end + 5:]
    return "", text


def render_files(args: tuple[list[str], str]) -> int:
    """Render a list of source files into `out`; returns how many were written."""
    paths, out = args
    md = markdown.Markdown(extensions=["toc", "tables", "footnotes", "attr_list"])
    env = jinja2.Environment(autoescape=True)
    template = env.from_string(TEMPLATE)
    for path in paths:
        with open(path, encoding="utf-8") as f:
            fm, body = split_front_matter(f.read())
        meta = yaml.load(fm, Loader=yaml.CSafeLoader) or {}
        md.reset()
        html = md.convert(body)
        section = os.path.basename(os.path.dirname(path))
        slug = os.path.splitext(os.path.basename(path))[0]
        page = template.render(
            title=meta.get("title") or meta.get("name", slug),
            description=meta.get("dek") or meta.get("role", ""),
            section=section, slug=slug,
            toc=Markup(md.toc),
            body=Markup(html),
        )
        target = os.path.join(out, section, slug)
        os.makedirs(target, exist_ok=True)
        with open(os.path.join(target, "index.html"), "w", encoding="utf-8") as f:
            f.write(page)
    return len(paths)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, required=True, help="a site root holding content/")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--jobs", type=int, default=1)
    args = p.parse_args(argv)
    start = time.perf_counter()
    content = args.root / "content"
    paths = sorted(str(x) for d in ("explainers", "actors") for x in (content / d).glob("*.md"))
    if args.jobs <= 1:
        done = render_files((paths, str(args.out)))
    else:
        chunks = [(paths[i::args.jobs], str(args.out)) for i in range(args.jobs)]
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            done = sum(pool.map(render_files, chunks))
    print(f"floor: {done} pages written with {args.jobs} process(es) in "
          f"{time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
