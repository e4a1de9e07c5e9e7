"""The packages import each other in one direction only: no module and no package is part of an import cycle.

Imports are read from the source (every `import` and `from ... import`, also those inside functions, since a lazy
import that closes a cycle still ties the two modules together), resolved to the project's own modules, and the
strongly connected components of the graph are reported. A package is a folder: `engine.models` stands for every
module directly in `engine/models/`.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "ditto_bridge")


def project_modules() -> dict[str, Path]:
    """Dotted name -> source file, for every module of PACKAGES (a package's `__init__` is the package)."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name `module`'s source imports, relative imports made absolute."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = project_modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        for name in imported_names(module, path):
            while name and name not in modules:  # `from pkg.mod import function` -> pkg.mod
                name = name.rpartition(".")[0]
            if name and name != module:
                graph[module].add(name)
    return graph


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Folder -> the folders its modules import (a folder importing its own subfolders is not an edge)."""
    modules = project_modules()

    def folder(module: str) -> str:
        return module if modules[module].name == "__init__.py" else module.rpartition(".")[0]

    folders: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        for target in targets:
            a, b = folder(source), folder(target)
            if a != b and not b.startswith(a + "."):
                folders[a].add(b)
    return folders


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle_and_nothing_else():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_relative_imports_resolve_to_the_project_module(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("from .sibling import thing\nfrom ..up import other\nimport engine.job\n")
    names = imported_names("engine.models.mod", source)
    assert {"engine.models.sibling.thing", "engine.up.other", "engine.job"} <= names


@pytest.mark.parametrize("level", ["module", "package"])
def test_no_import_cycle(level):
    graph = import_graph()
    found = cycles(graph if level == "module" else package_graph(graph))
    assert not found, f"{level} import cycles: " + "; ".join(" <-> ".join(c) for c in found)
