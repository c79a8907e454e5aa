"""The package layout holds: no import cycles, public import paths of earlier releases still
work, one RNG adapter on numpy's public API, compat layers built on public names only."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "optimkit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth: in functions (lazy imports) and under ``TYPE_CHECKING``
    too, since a cycle hidden there still marks a wrong cut."""
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def import_graph() -> dict[str, set[str]]:
    """Module -> the optimkit modules it imports."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        base = name.split(".") if _is_package(name) else name.split(".")[:-1]
        edges: set[str] = set()
        for node in _imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                stem = ".".join(base[: len(base) - node.level + 1]) if node.level else ""
                mod = ".".join(x for x in (stem, node.module or "") if x)
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in MODULES else mod for a in node.names]
            edges |= {t for t in targets if t in MODULES and t != name}
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    colour: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in colour and (cycle := dfs(nxt)) is not None:
                return cycle
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if node not in colour and (cycle := dfs(node)) is not None:
            return cycle
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_framework_imports_no_algorithm() -> None:
    graph = import_graph()
    for name, edges in graph.items():
        if name.startswith("optimkit.core"):
            assert not {e for e in edges if e.startswith(("optimkit.algorithms", "optimkit.optimizers"))}, name


@pytest.mark.parametrize("package", ["optimkit.compat", "optimkit.torch", "optimkit.algorithms"])
def test_front_ends_import_no_private_module_of_another_package(package: str) -> None:
    for name, edges in import_graph().items():
        if not name.startswith(package):
            continue
        for target in edges:
            private = [p for p in target.split(".") if p.startswith("_") and p != "__init__"]
            assert target.startswith(package) or not private, f"{name} imports the private {target}"


def test_no_private_numpy_rng_state_is_read() -> None:
    offenders = [name for name, path in MODULES.items() if "_bit_generator" in path.read_text()]
    assert offenders == []


# the public import paths of optimkit 0.1 (the layout before optimkit.core / optimkit.algorithms)
OLD_PATHS = {
    "optimkit": ["p", "optimizers", "families", "callbacks", "executors", "errors", "load"],
    "optimkit.optimizers": ["Optimizer", "ConfiguredOptimizer", "registry", "RandomSearch"],
    "optimkit.optimizers.base": ["Optimizer", "ConfiguredOptimizer", "Registry", "registry", "MultiValue", "load"],
    "optimkit.optimizers.random_search": ["RandomSearch", "ConfRandomSearch"],
    "optimkit.optimizers.auto": ["Auto", "choose"],
    "optimkit.optimizers.pareto": ["ParetoFront", "hypervolume"],
    "optimkit.families": ["ConfiguredOptimizer", "ConfANSR", "ConfXNES", "ConfSNES", "ConfEANOMAD", "ConfRandomSearch"],
}


@pytest.mark.parametrize("module", sorted(OLD_PATHS))
def test_old_import_paths_still_work(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [n for n in OLD_PATHS[module] if not hasattr(mod, n)]
    assert missing == []


def test_old_and_new_paths_name_the_same_objects() -> None:
    import optimkit.core as core
    from optimkit.optimizers import base

    assert base.Optimizer is core.Optimizer and base.registry is core.registry


def test_docs_and_docstring_examples_run_once() -> None:
    """test_docs.py runs every docs page, test_docstrings.py every docstring example, test_readme.py
    the README: no other test runs them a second time."""
    tests = Path(__file__).resolve().parent
    owners = {"test_docs.py", "test_docstrings.py", "test_readme.py", "test_layout.py"}
    again = [
        p.name for p in tests.glob("test_*.py")
        if p.name not in owners and ("testmod(" in p.read_text() or '"docs" /' in p.read_text())
    ]
    assert again == []
