"""The package's layering, read from the source with ``ast`` (imports inside functions and
under ``TYPE_CHECKING`` count too): no import cycle, and each layer imports only what lies below it."""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "initlint"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=None)
def graph() -> dict[str, set[str]]:
    """Module -> the initlint modules it imports (``from . import x`` names module x when it is one)."""
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("initlint")}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("initlint"):
                    continue
                submodules = {f"{target}.{a.name}" for a in node.names} & files.keys()
                found |= submodules or {target}
                if submodules != {f"{target}.{a.name}" for a in node.names}:
                    found.add(target)
        edges[name] = {m for m in found if m in files and m != name}
    return edges


def _reach(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph()[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph()[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph()):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read() -> None:
    assert "initlint.records" in graph()["initlint.engine"]
    assert "initlint.frontends.torch.layers" in graph()["initlint.lint"]  # "from .frontends.torch import layers"
    assert len(graph()) > 40


def test_no_import_cycle() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("layer, forbidden", [
    ("initlint.records", ("initlint.",)),  # the bottom: imports nothing of the package
    ("initlint.checks", ("initlint.frontends", "initlint.api", "initlint.lint", "initlint.cli", "initlint.reporters",
                         "initlint.fixes", "initlint.engine")),
    ("initlint.reporters", ("initlint.frontends", "initlint.api", "initlint.lint", "initlint.fixes",
                            "initlint.engine", "initlint.checks")),
    ("initlint.measure", ("initlint.engine", "initlint.checks", "initlint.frontends")),
    ("initlint.formulas", ("initlint.engine", "initlint.checks", "initlint.frontends", "initlint.rulebook")),
    ("initlint.frontends", ("initlint.engine", "initlint.checks", "initlint.api", "initlint.lint", "initlint.cli",
                            "initlint.reporters", "initlint.fixes", "initlint.project")),
    # the project model (SPEC 8.32) sits below lint/runner and above the frontends: it asks them, never the reverse
    ("initlint.project", ("initlint.api", "initlint.lint", "initlint.runner", "initlint.cli", "initlint.reporters",
                          "initlint.fixes", "initlint.engine", "initlint.checks")),
])
def test_layers_import_only_what_lies_below(layer: str, forbidden: tuple[str, ...]) -> None:
    modules = [m for m in graph() if m == layer or m.startswith(layer + ".")]
    assert modules
    bad = {(m, d) for m in modules for d in _reach(m) if d.startswith(forbidden) and not d.startswith(layer)}
    assert not bad, sorted(bad)


def test_only_one_live_module_sees_both_frameworks() -> None:
    torch_side = "initlint.frontends.live.torch_models"
    keras_side = "initlint.frontends.live.keras_models"
    assert keras_side not in _reach(torch_side) and torch_side not in _reach(keras_side)
    both = [m for m in graph() if {torch_side, keras_side} <= graph()[m]]
    assert both == ["initlint.api"]


def test_a_reporter_loads_no_parser() -> None:
    code = "import sys, initlint.reporters.json, initlint.reporters.sarif; print(sorted(m for m in sys.modules " \
           "if m.split('.')[0] in ('libcst', 'torch', 'onnx', 'numpy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_module_or_class_too_large() -> None:
    """No module over ~900 lines and no class over ~500 a reader must hold in their head."""
    too_big = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > 900:
            too_big.append(f"{path.name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and (node.end_lineno or 0) - node.lineno > 500:
                too_big.append(f"{path.name}: class {node.name}")
    assert not too_big
