"""dossier: a static site generator for news explainers.

The build is a one-way pipeline, one module a step:

    load      content/ files -> validated model        (load.py, yamlstrict.py, fields.py)
    markup    Markdown bodies -> HTML + facts           (markup.py)
    index     facts -> mentions, positions, backlinks   (index.py)
    pages     model + index -> the list of pages        (pages.py)
    render    pages -> bytes through Jinja2 layouts     (render.py)
    output    bytes -> OUT, swapped in whole            (output.py)

`pipeline.py` strings the steps together; `cli.py` is the command line.

Incremental builds: `cache.py` keeps the last build's record in ROOT/.cache,
`deps.py` says what each page and body was made from, `render_bodies.py` and
`render_pages.py` render only what changed (`render_pool.py` on every core).
In a process that builds again and again (serve), `reuse.py` also hands back the last
build's plan of every page whose inputs did not change.
"""

__version__ = "0.1.0"
