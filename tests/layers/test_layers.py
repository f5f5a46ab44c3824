"""DESIGN.md's layering, enforced: a package imports only from layers below it (or itself)."""
import ast
from pathlib import Path

import cinegen

LAYER = {"common": 0, "world": 1, "vae": 1, "text": 1, "dit": 1, "flow": 1, "provenance": 1, "data": 2,
         "pipeline": 3, "train": 4, "eval": 4, "serve": 4, "cli": 5}
ROOT = Path(cinegen.__file__).parent


def test_imports_respect_layers():
    bad = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).parts
        if len(rel) < 2 or rel[0] not in LAYER:
            continue
        mine = rel[0]
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                if parts[0] == "cinegen" and len(parts) > 1 and parts[1] in LAYER:
                    other = parts[1]
                    if other != mine and LAYER[other] >= LAYER[mine]:
                        bad.append(f"{'/'.join(rel)} imports cinegen.{other}")
    assert not bad, bad


def test_flow_imports_no_model():
    for path in (ROOT / "flow").rglob("*.py"):
        text = path.read_text()
        assert "cinegen.dit" not in text and "cinegen.vae" not in text, path
