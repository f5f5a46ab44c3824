"""DESIGN.md's layering, enforced: a package imports only from layers below it (or itself)."""
import ast
from pathlib import Path

import cinegen

LAYER = {"common": 0, "world": 1, "vae": 1, "text": 1, "dit": 1, "flow": 1, "provenance": 1, "data": 2, "wan": 2,
         "pipeline": 3, "train": 4, "eval": 4, "serve": 4, "cli": 5}
ROOT = Path(cinegen.__file__).parent


def top_names(root: Path) -> dict[str, str]:
    """Names `cinegen/__init__.py` re-exports → the layer they come from."""
    out = {}
    init = root / "__init__.py"
    for node in ast.walk(ast.parse(init.read_text() if init.exists() else "")):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("cinegen."):
            for a in node.names:
                out[a.asname or a.name] = node.module.split(".")[1]
    return out


def layer_violations(root: Path) -> list[str]:
    bad = []
    top = top_names(root)
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).parts
        if len(rel) < 2 or rel[0] not in LAYER:
            continue
        mine = rel[0]
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "cinegen" and node.level == 0:
                # `from cinegen import X`: X is a layer's package, or a name the top package re-exports
                # (unknown names count as the top layer's: the top package may import anything)
                names = [f"cinegen.{a.name if a.name in LAYER else top.get(a.name, 'cli')}"
                         for a in node.names if a.name != "__version__"]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                if parts[0] == "cinegen" and len(parts) > 1 and parts[1] in LAYER:
                    other = parts[1]
                    if other != mine and LAYER[other] >= LAYER[mine]:
                        bad.append(f"{'/'.join(rel)} imports cinegen.{other}")
    return bad


def test_imports_respect_layers():
    bad = layer_violations(ROOT)
    assert not bad, bad


def test_layer_check_catches_a_top_level_import(tmp_path):
    """`from cinegen import pipeline` (or a re-exported name) in a lower layer is caught like `cinegen.pipeline`."""
    for pkg, text in (("world", "from cinegen import pipeline\n"), ("flow", "from cinegen import __version__\n"),
                      ("vae", "from cinegen import Pipeline\n"), ("train", "from cinegen import dit\n")):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "m.py").write_text(text)
    (tmp_path / "__init__.py").write_text("from cinegen.pipeline.pipeline import Pipeline\n")
    assert sorted(layer_violations(tmp_path)) == ["vae/m.py imports cinegen.pipeline", "world/m.py imports cinegen.pipeline"]


def test_flow_imports_no_model():
    for path in (ROOT / "flow").rglob("*.py"):
        text = path.read_text()
        assert "cinegen.dit" not in text and "cinegen.vae" not in text, path
