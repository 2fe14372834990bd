"""The package's layering, read from its imports: no circle, no import that points up.

LAYERS is the map docs/architecture.md draws; a module missing from it fails the test, so a new
module has to be placed on purpose. Imports under `if TYPE_CHECKING:` are left out (they never
run); imports inside functions count, since they run too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "pytest_goblin"

# Bottom (0) to top. A module may import modules of its own layer or below.
LAYERS: dict[str, int] = {
    # 0 foundation: shared models and helpers with no knowledge of GPUs or configs
    "pytest_goblin": 0,
    "errors": 0,
    "schemas": 0,
    "events": 0,
    "redact": 0,
    "stats": 0,
    "settings": 0,
    "hooks": 0,
    "fileio": 0,
    "safepath": 0,
    "repoindex": 0,
    "yamlio": 0,
    "pysource": 0,
    "prompts": 0,
    "notebook": 0,
    # 1 facts about hardware and models
    "devices": 1,
    "hardware": 1,
    "hubconfig": 1,
    "modelzoo": 1,
    "frameworks": 1,
    # 2 the cost model
    "costmodel": 2,
    "rollout": 2,
    "rollout_onpolicy": 2,
    "shapespan": 2,
    # 3 reading configs
    "formats": 3,
    # 4 knowledge: rules and the patches they make
    "rules": 4,
    "blockers": 4,
    "patching": 4,
    "patchblock": 4,
    "globalbatch": 4,
    "attribution": 4,
    "lengthspan": 4,
    # 5 runners: projected or measured benchmarks
    "runners": 5,
    # 6 the audit loop, its tools and backends
    "tools": 6,
    "backends": 6,
    "loop": 6,
    # 7 sessions and outputs
    "outcome": 7,
    "baseline": 7,
    "reporting": 7,
    "github_comment": 7,
    "options": 7,
    "service": 7,
    # 8 front ends
    "stash": 8,
    "items": 8,
    "plugin": 8,
    "cli": 8,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path) -> set[str]:
    """Absolute names of the pytest_goblin modules this file imports (at any depth, TYPE_CHECKING aside)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.split(".")[0] == "pytest_goblin")
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join([*base, child.module] if child.module else base)
                else:
                    target = child.module or ""
                if target.split(".")[0] == "pytest_goblin":
                    found.add(target)
                    # `from . import tools` names a submodule
                    found.update(f"{target}.{a.name}" for a in child.names if (ROOT / Path(*target.split("."), a.name)).exists())
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for target in _imports(path):
            # `pytest_goblin.formats.base` and `pytest_goblin.formats` both resolve to what exists
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
            if target != name:
                deps.add(target)
        graph[name] = deps
    return graph


def layer(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else parts[0]
    assert key in LAYERS, f"{module} is not placed in a layer: add it to LAYERS here and to docs/architecture.md"
    return LAYERS[key]


def test_every_module_has_a_layer() -> None:
    for module in _graph():
        layer(module)


def test_imports_only_point_down() -> None:
    upward = []
    for module, deps in _graph().items():
        for dep in deps:
            # a package's __init__ may re-export its own submodules
            if dep.startswith(module + ".") or module == "pytest_goblin":
                continue
            if layer(dep) > layer(module):
                upward.append(f"{module} (layer {layer(module)}) imports {dep} (layer {layer(dep)})")
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_circles() -> None:
    graph = _graph()
    # a package importing its own submodules is not a circle between layers
    pruned = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    assert _cycles(pruned) == []


def test_the_checker_sees_circles_and_upward_imports() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer("pytest_goblin.runners.command") > layer("pytest_goblin.costmodel")
    deps = _imports(PACKAGE / "runners" / "command.py")
    assert "pytest_goblin.settings" in deps and "pytest_goblin.errors" in deps
