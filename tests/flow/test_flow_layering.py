"""flow/ is pure functions over model_fn: it imports no model; dit/ imports neither VAE nor text encoder."""
import ast
from pathlib import Path

import cinegen

SRC = Path(cinegen.__file__).parent


def _cinegen_imports(package: str) -> set[str]:
    found = set()
    for path in (SRC / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found |= {n.split(".")[1] for n in names if n.startswith("cinegen.")}
    return found


def test_flow_and_dit_import_only_common_and_themselves():
    assert _cinegen_imports("flow") <= {"common", "flow"}
    assert _cinegen_imports("dit") <= {"common", "dit"}
    assert "flow" in _cinegen_imports("flow")  # the walk does see imports
