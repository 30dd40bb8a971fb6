"""Imports point downward: nothing low in the engine imports the pipeline, the CLI or the server."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "dossier"

# A module may import only modules of a lower layer (or its own layer where listed together).
LAYERS = [
    {"problems", "render_pool"},  # render_pool: the process pool, which imports nothing of the engine
    {"model", "yamlstrict"},
    {"fields"},
    {"load", "scaffold", "markup"},
    {"index", "reuse"},
    {"pages", "graph", "assets"},
    {"render", "deps", "cache", "output", "search"},
    {"pipeline"},
    {"serve", "cli"},
]


def layer_of(name: str) -> int:
    for n, layer in enumerate(LAYERS):
        if name in layer or any(name.startswith(m + "_") for m in layer):
            return n
    return len(LAYERS) - 1  # a new module counts as top level until it is placed


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dossier."):
            found.add(node.module.split(".")[1])
    return found


def test_imports_point_downward():
    upward = []
    for path in sorted(ENGINE.glob("*.py")):
        name = path.stem
        if name == "__init__":
            continue
        for imported in imports(path):
            if layer_of(imported) > layer_of(name):
                upward.append(f"{name} imports {imported}")
    assert not upward


def test_modules_stay_small():
    too_long = {p.name: n for p in ENGINE.glob("*.py") if (n := len(p.read_text().splitlines())) > 600}
    assert not too_long
