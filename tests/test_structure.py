"""The package's structure: layers that import only those below them, no import circle in
sim/ (typing imports included), no function over sixty lines."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"
MAX_LINES = 60


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports_of(tree: ast.AST, known: dict[str, Path]) -> set[str]:
    """The sim modules a module imports anywhere (also under ``if TYPE_CHECKING``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def test_no_import_circle_in_the_package() -> None:
    known = modules()
    graph = {}
    for name, path in known.items():
        graph[name] = imports_of(ast.parse(path.read_text()), known) - {name}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()  # raises CycleError naming the circle


# Who may import whom: each sub-package of sim/ and the layers it may import besides itself
# (docs/architecture.md). engine and input are the bottom, side by side; the command line and
# the package files (sim/__init__.py, sim/__main__.py) stand on top of everything.
LAYERS: dict[str, set[str]] = {
    "engine": set(),
    "input": set(),
    "components": {"engine", "input"},
    "model": {"components", "engine", "input"},
    "measure": {"model", "components", "engine", "input"},
    "replication": {"measure", "model", "components", "engine", "input"},
    "batch": {"replication", "measure", "model", "components", "engine", "input"},
    "study": {"batch", "replication", "measure", "model", "components", "engine", "input"},
    "page": {"study", "batch", "replication", "measure", "model", "components", "engine", "input"},
}
TOP = {"sim", "sim.cli", "sim.__main__"}


def layer_of(module: str) -> str | None:
    """The layer a module of sim belongs to (None: the top)."""
    parts = module.split(".")
    return parts[1] if module not in TOP and len(parts) > 1 else None


def test_every_module_is_in_a_layer() -> None:
    outside = [m for m in modules() if m not in TOP and layer_of(m) not in LAYERS]
    assert not outside, f"modules outside the layer sub-packages: {outside}"


def test_layers_import_only_the_layers_below() -> None:
    known = modules()
    wrong = []
    for name, path in known.items():
        mine = layer_of(name)
        if mine is None:
            continue
        for imported in imports_of(ast.parse(path.read_text()), known):
            theirs = layer_of(imported)
            if theirs != mine and theirs not in LAYERS[mine]:
                wrong.append(f"{name} imports {imported} ({mine} -> {theirs or 'the top'})")
    assert not wrong, wrong


def test_no_function_over_sixty_lines() -> None:
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long
